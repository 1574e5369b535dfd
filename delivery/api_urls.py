"""Public/API URLs of delivery, mounted at the site root (full paths here)."""

from django.urls import path  # noqa: F401

urlpatterns = []
