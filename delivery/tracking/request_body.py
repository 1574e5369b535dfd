"""The raw body of a tracking request, whichever way HTTP framed it, never past a limit.

Django reads `request.body` only up to CONTENT_LENGTH, so a `Transfer-Encoding: chunked`
request (no Content-Length) reads as empty. WSGI servers that de-chunk, such as gunicorn,
say so with `wsgi.input_terminated`: their `wsgi.input` then ends where the body ends and
can be read to its end. Elsewhere reading past the declared length could wait on the client
forever, so a body without a length is refused with 411 there.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.http.request import UnreadablePostError

from delivery.tracking.parsing import TrackingError, too_large_body

READ_SIZE = 64 * 1024


def read_body(request: HttpRequest, *, limit: int) -> bytes:
    """The request body as received (still compressed, if it is), at most `limit` bytes.

    Raises TrackingError: 413 past the limit (as soon as it is passed: the rest is not read),
    411 for a body without a length that this server cannot read safely, 400 if unreadable.
    """
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        raise too_large_body()
    if not declared and _is_chunked(request):
        return _read_to_end(request, limit=limit)
    try:
        return request.body
    except RequestDataTooBig:
        raise too_large_body() from None
    except UnreadablePostError:
        raise _unreadable() from None


def _is_chunked(request: HttpRequest) -> bool:
    codings = request.META.get("HTTP_TRANSFER_ENCODING", "")
    return "chunked" in (coding.strip().lower() for coding in codings.split(","))


def _read_to_end(request: HttpRequest, *, limit: int) -> bytes:
    if not request.META.get("wsgi.input_terminated"):
        raise TrackingError(
            411, "length_required", "This server needs a Content-Length for the request body."
        )
    stream = request.META["wsgi.input"]
    chunks, size = [], 0
    while True:
        try:
            chunk = stream.read(READ_SIZE)
        except Exception:  # noqa: BLE001 - the server's own errors: broken framing, disconnect
            raise _unreadable() from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise too_large_body()
        chunks.append(chunk)


def _unreadable() -> TrackingError:
    return TrackingError(400, "invalid", "The request body could not be read.")
