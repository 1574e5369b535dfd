"""Public/API URLs of the project itself, mounted at the site root (full paths here)."""

from django.urls import path

from anonmsg import openapi_document

urlpatterns = [
    path("api/v1/openapi.json", openapi_document.openapi_document, name="api-openapi"),
]
