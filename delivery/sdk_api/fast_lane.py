"""A short middleware path for the delivery API, the busiest request anonmsg answers.

Every page view of every site asks `GET /api/v1/delivery`. It reads no cookie and sets none, so
the dashboard's middleware (sessions, CSRF, authentication, messages, htmx, axes) and URL
resolution only cost it CPU: about half of a warm request's Python. This middleware sits right
after SecurityMiddleware (which still redirects to HTTPS and sets HSTS, nosniff, the referrer
and opener policies) and calls the view itself for that path; every other path goes down the
full stack.

What the skipped middleware would have done for this path is done here: the Host header is
validated (CommonMiddleware calls `get_host()`), a database that cannot be reached is a 503
(anonmsg/unavailable.py), and the answer carries the strictest framing and content policy, the
right ones for a JSON document (the CSP and X-Frame-Options middleware would have set the
dashboard's). Any other exception goes to Django's handler, which answers 500 as for any view.
"""

import logging

from anonmsg.unavailable import is_unavailable, unavailable_response
from delivery.sdk_api.views import delivery

logger = logging.getLogger("anonmsg.unavailable")

VIEWS = {"/api/v1/delivery": delivery}
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
        request.get_host()  # DisallowedHost (400) for a host not in ALLOWED_HOSTS
        try:
            response = view(request)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.error("Database unavailable on %s %s: %s", request.method, request.path, exc)
            response = unavailable_response(request.path)
        for name, value in HEADERS:
            response.headers[name] = value
        return response
