"""The toolkit of the public JSON APIs: one error shape, the JSON 405, CORS, key
authorisation, JSON parsing. (The OpenAPI document's toolkit is anonmsg/openapi.py.)

Every API error is `{"error": "<code>", "message": "<what to do>"}` plus, for input errors,
`"field": "<dotted.path>"` naming the offending field.

- `allow_methods(...)`: server-to-server endpoints (the App API): a JSON 405 for other methods.
- `cors(methods=...)`: SDK-facing endpoints called from any web page: answers the preflight,
  the JSON 405, and opens every answer to any origin (no credentials).
- `allow_any_origin(response)`: the one CORS header alone, for answers read cross-origin
  without a preflight (the SDK script, the OpenAPI document).
"""

import json
from functools import wraps

from django.http import HttpResponse, JsonResponse
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


def method_not_allowed(message: str, *, allow: str) -> JsonResponse:
    """The JSON 405 of every public API, with the Allow header (RFC 9110)."""
    response = error(405, "method_not_allowed", message)
    response["Allow"] = allow
    return response


def allow_any_origin(response: HttpResponse) -> HttpResponse:
    # Any site may read it; no cookies are involved, so credentials are never allowed.
    response["Access-Control-Allow-Origin"] = "*"
    return response


def allow_methods(*methods: str):
    """A JSON 405 (with Allow) for any other method; checked before authorisation. HEAD is
    allowed wherever GET is (RFC 9110): the view answers it as a GET, without the body."""
    accepted = (*methods, "HEAD") if "GET" in methods else methods

    def decorator(view_func):
        @csrf_exempt
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            if request.method not in accepted:
                return method_not_allowed(
                    f"{request.method} is not allowed here: use {' or '.join(methods)}.",
                    allow=", ".join(accepted),
                )
            return view_func(request, *args, **kwargs)

        wrapper.allowed_methods = methods
        return wrapper

    return decorator


def cors(
    *,
    methods: tuple[str, ...],
    not_allowed: str,
    allow_headers: str = "Content-Type",
    expose_headers: tuple[str, ...] = (),
    expose_only_present: bool = False,
):
    """An SDK-facing endpoint: any origin, no credentials; answers the preflight itself.

    `not_allowed` is the 405's message for other methods (HEAD is allowed wherever GET is).
    `expose_headers` lets a cross-origin SDK read those headers: on every answer, or with
    `expose_only_present` only those the answer carries. No CSRF check: no cookies are
    involved, and other methods must get the JSON 405, not Django's CSRF page.
    """
    accepted = (*methods, "HEAD") if "GET" in methods else methods
    allow = ", ".join((*methods, "OPTIONS"))

    def decorator(view_func):
        @csrf_exempt
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
                response["Access-Control-Allow-Methods"] = allow
                response["Access-Control-Allow-Headers"] = allow_headers
                response["Access-Control-Max-Age"] = "86400"
            elif request.method not in accepted:
                response = method_not_allowed(not_allowed, allow=allow)
            else:
                response = view_func(request, *args, **kwargs)
            allow_any_origin(response)
            exposed = (
                [name for name in expose_headers if name in response]
                if expose_only_present
                else expose_headers
            )
            if exposed:
                response["Access-Control-Expose-Headers"] = ", ".join(exposed)
            return response

        wrapper.allowed_methods = methods
        return wrapper

    return decorator


class BadInput(Exception):
    """Raised by parsers and validators; turned into a 400 naming the field."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def response(self) -> JsonResponse:
        return error(400, self.code, self.message, field=self.field)


def json_text(body: bytes) -> str:
    """A JSON body's text, decoded strictly in the encoding JSON detects (UTF-8, -16 or -32).

    Not json.loads(bytes): it decodes with surrogatepass, and a string holding a surrogate can
    be neither measured, encoded again nor stored. ValueError says where the bytes go wrong.
    """
    try:
        return body.decode(json.detect_encoding(body))
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"The request body is not valid UTF-8: invalid bytes at offset {exc.start}."
        ) from None


def parse_json_body(request, *, max_bytes: int = 1_000_000):
    """The request body as JSON (any content type, so browsers can send text/plain)."""
    if len(request.body) > max_bytes:
        raise BadInput(f"The request body is larger than {max_bytes} bytes.", code="too_large")
    body = request.body or b"null"
    try:
        text = json_text(body)
    except ValueError as exc:
        raise BadInput(str(exc), code="invalid_json") from None
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
