"""The tracking API: `POST /v1/{track,page,screen,identify,alias,group,batch}` and `/v1/{t,…,b}`.

Also `POST /v1/m`, where Customer.io's browser SDK posts its sampled metrics: answered, ignored.

Segment's HTTP tracking spec, as Customer.io's CDP API speaks it. Public (write key) and
cross-origin: any origin, no credentials. See docs/tracking-api.md.
"""

import base64
import logging

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from anonmsg import rate_limits
from anonmsg.api import cors, error
from delivery.tracking import group_commit, parsing
from delivery.tracking.parsing import TrackingError
from delivery.tracking.request_body import read_body
from delivery.tracking.write_keys import forget_write_key, note_sdk_seen, workspace_id_for_write_key

# The name operators filter on (docs/tracking-api.md), kept from before the module moved.
logger = logging.getLogger("delivery.tracking_views")

RETRY_AFTER_SECONDS = 10
# The answer to every accepted call, as JsonResponse({"success": True}) writes it.
SUCCESS = b'{"success": true}'
ALLOWED_HEADERS = "Content-Type, Authorization, Content-Encoding"


# Any site may send events; a cross-origin SDK can read Retry-After only if it is exposed (429, 503).
tracking_cors = cors(
    methods=("POST",),
    not_allowed="Send tracking calls with POST.",
    allow_headers=ALLOWED_HEADERS,
    expose_headers=("Retry-After",),
    expose_only_present=True,
)


@tracking_cors
def sdk_metrics(request):
    """`POST /v1/m`: the browser SDK's sampled telemetry. Nothing is read or stored."""
    return JsonResponse({})


@tracking_cors
def tracking_endpoint(request, route: str):
    try:
        response = _ingest(request, parsing.ROUTE_TYPES[route])
    except rate_limits.Refused as exc:
        response = rate_limits.too_many_requests(exc.refusal)
    except TrackingError as exc:
        response = error(exc.status, exc.code, exc.message, field=exc.field)
    except RecursionError:
        response = error(400, "invalid_json", "The JSON is nested too deeply.")
    except DataError:
        # Validation should have caught it; the transaction rolled back, nothing is stored.
        # The database's text names tables and values: the operator's log gets it, not the client.
        logger.warning("Tracking call refused by the database", exc_info=True)
        response = error(
            400, "invalid", "The database refused a value of these events; nothing was stored."
        )
    except DatabaseError:
        logger.exception("Tracking call failed: database unavailable")
        response = error(
            503,
            "unavailable",
            "The event store is unavailable. Nothing was stored; retry later.",
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _ingest(request, route_type: str) -> HttpResponse:
    received_at = timezone.now()
    body = read_body(request, limit=parsing.MAX_BATCH_BYTES)
    # META, not request.headers: that builds a dict of every header on first use.
    body = parsing.decompress(body, content_encoding=request.META.get("HTTP_CONTENT_ENCODING", ""))

    # Authenticate before parsing when the key is in the header (server SDKs). The rate check
    # rides along the write key's cached lookup: one Redis round trip for both.
    write_key = _basic_auth_user(request)
    workspace_id = _workspace_id(request, write_key) if write_key else None
    data = parsing.load_body(body)
    if not write_key:
        write_key = parsing.body_write_key(data)
        if not write_key:
            rate_limits.enforce(request, "tracking")  # the client IP's bucket
            raise TrackingError(
                401,
                "unauthorized",
                "Send the workspace's write key as the HTTP Basic user name or as `writeKey` "
                "in the body.",
            )
        workspace_id = _workspace_id(request, write_key)

    events = parsing.parse_events(data, route_type=route_type, received_at=received_at)
    try:
        # Shares its transaction with this process's concurrent requests; returns after COMMIT.
        group_commit.record(workspace_id=workspace_id, events=events, received_at=received_at)
    except IntegrityError:
        # A foreign key checked at commit: the workspace (its key was still cached) or a
        # message was deleted meanwhile. Gone workspace: 401; otherwise a retry will do (503).
        forget_write_key(write_key)
        _workspace_id(request, write_key, rate_checked=True)
        raise

    try:
        note_sdk_seen(workspace_id)
    except DatabaseError:
        logger.warning("Could not update the SDK last-seen time", exc_info=True)
    return HttpResponse(SUCCESS, content_type="application/json")


def _workspace_id(request, write_key: str, *, rate_checked: bool = False) -> int:
    rate_check = None if rate_checked else rate_limits.prepare(request, "tracking", key=write_key)
    workspace_id = workspace_id_for_write_key(write_key, rate_check=rate_check)
    if rate_check is not None and rate_check.refusal:
        raise rate_limits.Refused(rate_check.refusal)
    if workspace_id is None:
        rate_limits.note_failed_auth(request)
        raise TrackingError(401, "unauthorized", "This write key is not valid.")
    return workspace_id


def _basic_auth_user(request) -> str | None:
    """The user name of an `Authorization: Basic` header (the write key), or None."""
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except ValueError:  # binascii.Error, non-ASCII characters, UnicodeDecodeError
        raise TrackingError(
            401, "unauthorized", "The Authorization header is not valid HTTP Basic."
        ) from None
    return decoded.partition(":")[0] or None


@csrf_exempt
def bench_noop(request):
    """A JSON answer doing nothing, served by the same stack: the benchmarks' yardstick.

    Routed only when ANONMSG_BENCH is on (delivery/api_urls.py).
    """
    if not settings.ANONMSG_BENCH:  # pragma: no cover - not routed then
        return error(404, "not_found", "Not found.")
    return JsonResponse({"success": True})
