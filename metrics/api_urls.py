"""Public/API URLs of metrics, mounted at the site root (full paths here).

The id is captured as text (like campaigns/api_urls.py) so that a non-numeric one gets the
API's JSON 404, not the site's HTML page.
"""

from django.urls import path

from metrics import api

urlpatterns = [
    path(
        "api/v1/anonymous-messages/<str:message_id>/metrics",
        api.message_metrics,
        name="metrics-api",
    ),
]
