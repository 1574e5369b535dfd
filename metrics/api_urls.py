"""Public/API URLs of metrics, mounted at the site root (full paths here)."""

from django.urls import path  # noqa: F401

urlpatterns = []
