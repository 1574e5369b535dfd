"""Error pages: branded HTML for people (templates/400.html …), JSON for the public APIs.

With DEBUG off Django calls these for errors no view answered itself: an unknown URL, a host
not in ALLOWED_HOSTS, an unhandled exception. SDKs and scripts under /api/ and /v1/ get the
API's error shape (anonmsg/api.py) instead of a page.
"""

from django.views import defaults

from anonmsg.api import error

API_PREFIXES = ("/api/", "/v1/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


def bad_request(request, exception, template_name="400.html"):
    if is_api_path(request.path):
        return error(400, "bad_request", "This request could not be understood.")
    return defaults.bad_request(request, exception, template_name)


def permission_denied(request, exception, template_name="403.html"):
    if is_api_path(request.path):
        return error(403, "forbidden", str(exception) or "This request is not allowed.")
    return defaults.permission_denied(request, exception, template_name)


def page_not_found(request, exception, template_name="404.html"):
    if is_api_path(request.path):
        return error(404, "not_found", "There is no API endpoint at this path: see docs/.")
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name="500.html"):
    if is_api_path(request.path):
        return error(500, "server_error", "Something went wrong on our side; it was logged.")
    return defaults.server_error(request, template_name)
