"""Public/API URLs of campaigns, mounted at the site root (full paths here).

The App API for anonymous messages (DESIGN.md §3). The metrics endpoint,
/api/v1/anonymous-messages/<id>/metrics, is defined in metrics/api_urls.py; the OpenAPI
document, /api/v1/openapi.json, in anonmsg/api_urls.py.
Ids are captured as text so that a non-numeric one gets the API's JSON 404, not the site's page.
"""

from django.urls import path

from campaigns import api

urlpatterns = [
    path("api/v1/anonymous-messages", api.message_collection, name="api-message-list"),
    path(
        "api/v1/anonymous-messages/<str:message_id>",
        api.message_detail,
        name="api-message-detail",
    ),
    path(
        "api/v1/anonymous-messages/<str:message_id>/launch",
        api.message_launch,
        name="api-message-launch",
    ),
    path(
        "api/v1/anonymous-messages/<str:message_id>/pause",
        api.message_pause,
        name="api-message-pause",
    ),
    path(
        "api/v1/anonymous-messages/<str:message_id>/resume",
        api.message_resume,
        name="api-message-resume",
    ),
    path(
        "api/v1/anonymous-messages/<str:message_id>/end",
        api.message_end,
        name="api-message-end",
    ),
    path(
        "api/v1/anonymous-messages/<str:message_id>/choose-winner",
        api.message_choose_winner,
        name="api-message-choose-winner",
    ),
]
