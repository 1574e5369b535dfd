"""Dashboard URLs of metrics, mounted under /w/<workspace_id>/ (namespace "metrics")."""

from django.urls import path  # noqa: F401

app_name = "metrics"

urlpatterns = []
