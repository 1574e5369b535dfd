"""The project's OpenAPI document, GET /api/v1/openapi.json: which fragments, in which order.

The project package knows its apps here, at the assembly level (as anonmsg/urls.py does), so
that no app imports another app's fragment: each app's openapi.py uses only anonmsg/openapi.py
(metrics also borrows the App API's shared answers from campaigns, which it may import). The
order is the published document's order.
"""

from functools import cache

from django.http import JsonResponse

import campaigns.openapi
import delivery.openapi
import metrics.openapi
from anonmsg.api import allow_any_origin, allow_methods
from anonmsg.openapi import build_document

FRAGMENTS = (campaigns.openapi, delivery.openapi, metrics.openapi)


@cache
def document() -> dict:
    return build_document(FRAGMENTS)


@allow_methods("GET")
def openapi_document(request):
    """The OpenAPI 3.1 description of the public APIs (no key needed to read it)."""
    return allow_any_origin(JsonResponse(document(), json_dumps_params={"indent": 2}))
