"""The project's OpenAPI document, GET /api/v1/openapi.json.

Made of the fragments the apps contributed when they were ready (anonmsg.openapi.contribute),
in INSTALLED_APPS order: campaigns (App API), delivery (tracking, delivery, SDK script),
metrics. No app imports another's fragment, and this module imports no app.
"""

from functools import cache

from django.http import JsonResponse

from anonmsg.api import allow_any_origin, allow_methods
from anonmsg.openapi import build_document, contributed_fragments


@cache
def document() -> dict:
    return build_document(contributed_fragments())


@allow_methods("GET")
def openapi_document(request):
    """The OpenAPI 3.1 description of the public APIs (no key needed to read it)."""
    return allow_any_origin(JsonResponse(document(), json_dumps_params={"indent": 2}))
