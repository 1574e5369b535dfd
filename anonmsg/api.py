"""Small helpers shared by the JSON APIs: one error shape, key authorisation, JSON parsing.

Every API error is `{"error": "<code>", "message": "<what to do>"}` plus, for input errors,
`"field": "<dotted.path>"` naming the offending field.
"""

import json
from functools import wraps

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from anonmsg import rate_limits
from anonmsg.keys import hash_api_key
from anonmsg.models import Workspace
from anonmsg.plans import plan_error_response


def error(
    status: int, code: str, message: str, *, field: str | None = None, **extra
) -> JsonResponse:
    body = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    body.update(extra)
    return JsonResponse(body, status=status)


class BadInput(Exception):
    """Raised by parsers and validators; turned into a 400 naming the field."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def response(self) -> JsonResponse:
        return error(400, self.code, self.message, field=self.field)


def parse_json_body(request, *, max_bytes: int = 1_000_000):
    """The request body as JSON (any content type, so browsers can send text/plain)."""
    if len(request.body) > max_bytes:
        raise BadInput(f"The request body is larger than {max_bytes} bytes.", code="too_large")
    body = request.body or b"null"
    try:
        # Decoded strictly: json.loads(bytes) lets UTF-8-encoded surrogates through.
        text = body.decode(json.detect_encoding(body))
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"The request body is not valid UTF-8: invalid bytes at offset {exc.start}.",
            code="invalid_json",
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # Where, not Python's wording: answers are written for clients.
        raise BadInput(
            f"The request body is not valid JSON (line {exc.lineno}, column {exc.colno}).",
            code="invalid_json",
        ) from None
    except RecursionError:
        raise BadInput("The request body is nested too deeply.", code="invalid_json") from None


def _bearer_token(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_key_required(view_func):
    """App API: authorise by `Authorization: Bearer <App API key>`; sets request.workspace.

    Also gates the plan (free workspaces get a 403 JSON error) and exempts CSRF (no cookies).
    """

    @csrf_exempt
    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        token = _bearer_token(request)
        if token is None:
            return error(
                401,
                "unauthorized",
                "Send the workspace's App API key as `Authorization: Bearer <key>`.",
            )
        key_hash = hash_api_key(token)
        if refusal := rate_limits.check(request, "app_api", key=key_hash):
            return rate_limits.too_many_requests(refusal)
        workspace = Workspace.objects.filter(api_key_hash=key_hash).first()
        if workspace is None:
            rate_limits.note_failed_auth(request)
            return error(
                401, "unauthorized", "This App API key is not valid (it may have been rotated)."
            )
        if not workspace.has_anonymous_messages:
            return plan_error_response()
        request.workspace = workspace
        try:
            return view_func(request, *args, **kwargs)
        except BadInput as exc:
            return exc.response()

    return wrapper
