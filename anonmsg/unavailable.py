"""Database down → 503 with Retry-After, never a 500 (issue 10, finding 9).

One middleware for every view: when a view fails because the database cannot be reached (the
server is down or restarting, the connection was cut, a statement timed out), the JSON APIs
answer `503 {"error": "unavailable", …}` and the dashboard a short 503 page, both with
`Retry-After`, so that SDKs and scripts retry instead of giving up or retrying at once. Any other
database error is a bug and stays a 500.

The tracking API catches its own database errors (delivery/tracking/views.py: it must roll back
a batch first); this is the same answer for delivery, the App API and the metrics API.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader

from anonmsg.api import allow_any_origin, error

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
# The JSON APIs; the SDK-facing ones (delivery, tracking) are read by browsers on any origin.
API_PREFIXES = ("/api/", "/v1/")
PUBLIC_PREFIXES = ("/api/v1/delivery", "/v1/")


def is_unavailable(exception: BaseException) -> bool:
    """Whether a database error means "not reachable now" rather than a bug in a query.

    OperationalError covers a refused or cut connection and a cancelled statement;
    InterfaceError a connection that was already closed when Django used it."""
    return isinstance(exception, (OperationalError, InterfaceError))


def unavailable_response(path: str) -> HttpResponse:
    if path.startswith(API_PREFIXES):
        response = error(
            503, "unavailable", "The database is unavailable. Nothing was changed; retry later."
        )
        if path.startswith(PUBLIC_PREFIXES):
            allow_any_origin(response)
    else:
        # Rendered without the request: context processors would query the database again.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_unavailable(exception):
            return None
        logger.error("Database unavailable on %s %s: %s", request.method, request.path, exception)
        return unavailable_response(request.path)
