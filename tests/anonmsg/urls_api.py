"""The real URLs plus one App API view, for testing api_key_required before the App API exists."""

from django.http import JsonResponse
from django.urls import path

from anonmsg.api import api_key_required, parse_json_body
from anonmsg.urls import urlpatterns as real_urlpatterns


@api_key_required
def whoami(request):
    return JsonResponse({"workspace": request.workspace.pk})


@api_key_required
def echo(request):
    return JsonResponse({"received": parse_json_body(request)})


urlpatterns = [
    path("test-api/whoami", whoami, name="test-whoami"),
    path("test-api/echo", echo, name="test-echo"),
    *real_urlpatterns,
]
