"""Public/API URLs of metrics, mounted at the site root (full paths here)."""

from django.urls import path

from metrics import api

urlpatterns = [
    path(
        "api/v1/anonymous-messages/<int:message_id>/metrics",
        api.message_metrics,
        name="metrics-api",
    ),
]
