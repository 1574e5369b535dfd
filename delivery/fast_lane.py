"""The SDK's short middleware path: the delivery and tracking APIs skip the dashboard's stack.

Every page view of every site asks `GET /api/v1/delivery` and posts a page call (`/v1/p`), and
server SDKs post their tracking calls one by one. These requests read no cookie and set none,
so the dashboard's middleware (sessions, CSRF, authentication, messages, htmx, axes, its CSP)
and URL resolution only cost them CPU: about half of a warm delivery request's Python, a
quarter of a single tracking call's. This middleware sits right after SecurityMiddleware
(which still redirects to HTTPS and sets HSTS, nosniff, the referrer and opener policies) and
calls the view itself for the paths of `VIEWS`; every other path goes down the full stack.

What the skipped middleware would have done for these paths is done here: the Host header is
validated and Content-Length set (CommonMiddleware), a database that cannot be reached is a
503 (anonmsg/unavailable.py), and every answer, errors included, carries the strictest framing
and content policy, the right ones for a JSON document (the CSP and X-Frame-Options middleware
would have set the dashboard's). Any other exception is answered as Django's handler would (a
bad host 400, a bug 500, logged and signalled as for any view). The views answer their
preflight, their JSON 405 and CORS themselves (anonmsg.api.cors). `VIEWS` must route each path
to the view the URLconf does (tests/delivery/test_sdk_fast_lane.py checks that they agree).
"""

import logging
from functools import partial

from django.core.handlers.exception import response_for_exception

from anonmsg.unavailable import is_unavailable, unavailable_response
from delivery.sdk_api.views import delivery
from delivery.tracking.parsing import ROUTE_TYPES
from delivery.tracking.views import sdk_metrics, tracking_endpoint

logger = logging.getLogger("anonmsg.unavailable")

# path_info → the view, called with the request alone.
VIEWS = {
    "/api/v1/delivery": delivery,
    # /v1/track … /v1/batch and their one-letter forms (delivery/api_urls.py).
    **{f"/v1/{route}": partial(tracking_endpoint, route=route) for route in ROUTE_TYPES},
    "/v1/m": sdk_metrics,
}
HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
)


class SdkFastLaneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = VIEWS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        try:
            request.get_host()  # DisallowedHost (400) for a host not in ALLOWED_HOSTS
            response = view(request)
        except Exception as exc:  # noqa: BLE001 - answered here, so that it gets HEADERS too
            response = _exception_response(request, exc)
        for name, value in HEADERS:
            response.headers[name] = value
        if not response.streaming and "Content-Length" not in response:
            # As CommonMiddleware does: without it, gunicorn would frame the answer in chunks.
            response.headers["Content-Length"] = str(len(response.content))
        return response


def _exception_response(request, exc: Exception):
    """A database out of reach: the APIs' 503. Anything else: what Django's handler answers
    (400 for a bad host, 500 for a bug, logged and signalled as for any view)."""
    if is_unavailable(exc):
        logger.error("Database unavailable on %s %s: %s", request.method, request.path, exc)
        return unavailable_response(request.path)
    return response_for_exception(request, exc)
