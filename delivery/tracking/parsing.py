"""Tracking calls in, plain values out: parsing and validation of the Segment HTTP spec.

Pure: no ORM, no request objects. `load_body` checks sizes and parses the JSON,
`body_write_key` reads the write key it may carry, `parse_events` validates the call(s) into
`IncomingEvent`s. Each raises `TrackingError` naming the problem. Nothing here decides what is
stored where; `delivery.tracking.recording` does.
"""

import json
import math
import re
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from anonmsg.api import json_text
from delivery.tracking.traits import traits_problem

# An event is measured as compact UTF-8 JSON (see `event_size`); a request body as received.
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_EVENTS = 2_500
MAX_ID_LENGTH = 255
# No SDK tracks anything earlier. Older values are client bugs or "zero time" sentinels
# (.NET's DateTime.MinValue, Go's time.Time{}), and PostgreSQL would store year 1 with an
# offset as a BC date that Python cannot read back.
EARLIEST_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)
_NO_TIME = timedelta(0)

# URL route → call type. The one-letter forms are what the browser SDKs post to.
ROUTE_TYPES = {
    "track": "track",
    "t": "track",
    "page": "page",
    "p": "page",
    "screen": "screen",
    "s": "screen",
    "identify": "identify",
    "i": "identify",
    "alias": "alias",
    "a": "alias",
    "group": "group",
    "g": "group",
    "batch": "batch",
    "b": "batch",
}
EVENT_TYPES = frozenset({"track", "page", "screen", "identify", "alias", "group"})

MESSAGE_EVENT = "Report Content Event"
VIEWED = "viewed_content"
CLICKED = "clicked_content"
DISMISSED = "dismissed_content"
# A visitor in an experiment's holdout, where the message would have shown (DESIGN.md §5).
HELD_OUT = "held_out"
ACTION_TYPES = frozenset({VIEWED, CLICKED, DISMISSED, HELD_OUT})
# The arm a message event names in `properties.variant` (campaigns.assignment).
VARIANT_KEYS = frozenset({"A", "B", "C", "D"})
# Largest value a BigIntegerField holds.
_MAX_CONTENT_ID = 2**63 - 1


class TrackingError(Exception):
    """A request the tracking API refuses: HTTP status, error code, message, offending field."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def _bad(message: str, field: str | None = None, code: str = "invalid") -> TrackingError:
    return TrackingError(400, code, message, field=field)


@dataclass(slots=True)
class IncomingEvent:
    type: str
    message_id: str
    anonymous_id: str
    user_id: str
    name: str
    timestamp: datetime  # corrected for clock skew, never later than received_at
    payload: dict  # what is stored: the call as sent (see `_stored_payload`)
    content_id: int | None = None
    action_type: str = ""
    action_name: str = ""
    variant: str = ""  # a message event's experiment variant (A–D), if it names one
    previous_id: str = ""
    traits: dict | None = None
    user_agent: str = ""
    page: str = ""


def decompress(body: bytes, *, content_encoding: str) -> bytes:
    """Undo `Content-Encoding: gzip|deflate`, refusing to inflate past the batch limit.

    The body must be compressed data and nothing else: bytes after its end are refused (they
    are a client bug, and ignoring them would lose what they hold). Concatenated gzip members
    are one body, as gzip defines it.
    """
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise TrackingError(
            415, "unsupported_encoding", f"Content-Encoding {encoding!r} is not supported."
        )
    data = b""
    rest = body
    while True:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
        try:
            data += inflater.decompress(rest, MAX_BATCH_BYTES + 1 - len(data))
        except zlib.error:
            raise _bad(
                f"The {encoding} body cannot be decompressed: it is not {encoding} data.",
                code="invalid_encoding",
            ) from None
        if len(data) > MAX_BATCH_BYTES or inflater.unconsumed_tail:
            raise too_large_body()
        if not inflater.eof:
            raise _bad(f"The {encoding} body is truncated.", code="invalid_encoding")
        rest = inflater.unused_data
        if not rest:
            return data
        if encoding != "gzip" or not rest.startswith(_GZIP_MAGIC):
            raise _bad(
                f"The {encoding} body has {len(rest)} byte(s) after the end of its compressed "
                "data.",
                code="invalid_encoding",
            )


_GZIP_MAGIC = b"\x1f\x8b"


def too_large_body() -> TrackingError:
    return TrackingError(
        413,
        "batch_too_large",
        f"The request body is larger than {MAX_BATCH_BYTES // 1024} KB; split it into "
        "several batches.",
    )


def load_body(body: bytes) -> dict:
    """The request body as a JSON object, after the request size limit.

    The per-event limit is checked on the parsed events (`parse_events`), so that it does not
    depend on the client's JSON formatting or on the route. The text is decoded strictly
    (anonmsg.api.json_text).
    """
    if len(body) > MAX_BATCH_BYTES:
        raise too_large_body()
    data = _plain_body(body)
    if data is not None:
        return data
    try:
        text = json_text(body)
    except ValueError as exc:
        raise _bad(str(exc), code="invalid_json") from None
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise _bad("Strings cannot contain NUL characters (\\u0000).", code="invalid_json")
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise _bad(
            f"The request body is not valid JSON (line {exc.lineno}, column {exc.colno}).",
            code="invalid_json",
        ) from None
    except ValueError:
        raise _bad(
            "The request body holds a number JSON cannot carry here: NaN, Infinity, or one too "
            "large.",
            code="invalid_json",
        ) from None
    except RecursionError:
        raise _bad("The JSON is nested too deeply.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise _bad("The request body must be a JSON object.", code="invalid_json")
    if "\\u" in text and _LONE_SURROGATE.search(text):
        raise _bad("Strings cannot contain unpaired UTF-16 surrogates.", code="invalid_json")
    return data


# Integers that orjson would turn into floats (outside [-2**63, 2**64 - 1]) have 19+ digits:
# found as a run of 19 "0"s once every digit is a "0" and every other byte a space (bytes
# methods run in C; a regular expression takes ~30 times longer on digit-rich bodies).
_DIGITS_AS_ZEROS = bytes(b"0"[0] if chr(byte) in "0123456789" else b" "[0] for byte in range(256))
_LONG_DIGIT_RUN = b"0" * 19


def _plain_body(body: bytes) -> dict | None:
    """The body parsed by orjson (several times faster), when it is a JSON object that the
    checks of `load_body` would accept as it is; else None, and `load_body` parses it with
    Python's json, to accept or refuse it with the exact message. orjson refuses by itself
    what those checks refuse (invalid or non-UTF-8, NaN and Infinity, numbers beyond a double,
    unpaired surrogates); a NUL escape or a long run of digits takes the careful path."""
    if b"\\u0000" in body or _LONG_DIGIT_RUN in body.translate(_DIGITS_AS_ZEROS):
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


# What PostgreSQL cannot store in text or jsonb: NUL, unpaired surrogates, NaN/Infinity
# (also refused above, with numbers too large for a float).
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
_LONE_SURROGATE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text[:20]} is too large a number")
    return value


def body_write_key(data: dict) -> str | None:
    write_key = data.get("writeKey")
    if write_key is not None and not isinstance(write_key, str):
        raise TrackingError(401, "unauthorized", "writeKey must be a string.", field="writeKey")
    return write_key or None


def parse_events(data: dict, *, route_type: str, received_at: datetime) -> list[IncomingEvent]:
    """Validate the call(s) of one request body (see `load_body`) for `route_type`."""
    if route_type != "batch":
        if event_size(data) > MAX_EVENT_BYTES:
            raise TrackingError(
                413, "event_too_large", f"The event is larger than {MAX_EVENT_BYTES // 1024} KB."
            )
        return [_parse_event(data, route_type=route_type, envelope=None, received_at=received_at)]

    items = data.get("batch")
    if not isinstance(items, list):
        raise _bad("A batch needs a `batch` array of events.", field="batch")
    if not items:
        raise _bad("The batch is empty: send at least one event.", field="batch")
    if len(items) > MAX_BATCH_EVENTS:
        raise TrackingError(
            413,
            "too_many_events",
            f"A batch holds at most {MAX_BATCH_EVENTS} events; this one has {len(items)}.",
            field="batch",
        )
    envelope = _envelope(data)
    events = []
    seen = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _bad("Each event of a batch must be a JSON object.", field=f"batch[{index}]")
        if event_size(item) > MAX_EVENT_BYTES:
            raise TrackingError(
                413,
                "event_too_large",
                f"Event {index} of the batch is larger than {MAX_EVENT_BYTES // 1024} KB.",
                field=f"batch[{index}]",
            )
        kind = item.get("type")
        if not isinstance(kind, str) or kind not in EVENT_TYPES:
            raise _bad(
                "Each event of a batch needs a `type`: one of " + ", ".join(sorted(EVENT_TYPES)),
                field=f"batch[{index}].type",
            )
        try:
            event = _parse_event(item, route_type=kind, envelope=envelope, received_at=received_at)
        except TrackingError as exc:
            # The event's place is named here, not for every event: only an error needs it.
            exc.field = f"batch[{index}].{exc.field}"
            raise
        # The same messageId twice in one batch is one event (the first one).
        if event.message_id in seen:
            continue
        seen.add(event.message_id)
        events.append(event)
    return events


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def event_size(event: dict) -> int:
    """Bytes of one call as compact UTF-8 JSON, without `writeKey`: what the 32 KB limit measures.

    The same for a single call and an event of a batch, however the client formatted or
    escaped its JSON. orjson measures most calls (several times faster); it writes some numbers
    differently from Python's json (`1e16` for `1e+16`, `0.00001` for `1e-05`), at most 1.4
    times longer or 1.25 times shorter, so a call it measures under half the limit is under it
    either way, and any larger one is measured exactly as Python's json writes it.
    """
    if "writeKey" in event:
        event = {key: value for key, value in event.items() if key != "writeKey"}
    try:
        size = len(orjson.dumps(event))
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        size = MAX_EVENT_BYTES
    if size > MAX_EVENT_BYTES // 2:
        size = len(_COMPACT.encode(event).encode())
    return size


@dataclass(slots=True)
class _Envelope:
    """Batch-level fields every event of the batch inherits unless it has its own."""

    sent_at: datetime | None
    fields: dict


def _envelope(data: dict) -> _Envelope:
    fields = {}
    for key, expect in (("context", dict), ("integrations", dict), ("sentAt", str)):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, expect):
            raise _bad(f"`{key}` of the batch has the wrong type.", field=key)
        fields[key] = value
    sent_at = parse_timestamp(fields["sentAt"], field="sentAt") if "sentAt" in fields else None
    return _Envelope(sent_at, fields)


def parse_timestamp(value, *, field: str) -> datetime:
    """An ISO-8601 date-time (naive = UTC) as an aware datetime, not before 1970."""
    if not isinstance(value, str):
        raise _bad("Timestamps must be ISO-8601 strings.", field=field)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _bad(
            f"{value[:40]!r} is not an ISO-8601 date-time (e.g. 2025-01-31T12:00:00.000Z).",
            field=field,
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed < EARLIEST_TIMESTAMP:
        raise _bad(
            f"{value[:40]!r} is before 1970-01-01T00:00:00Z: send the real time, or leave the "
            "field out.",
            field=field,
        )
    return parsed


def corrected_timestamp(
    *, timestamp: datetime | None, sent_at: datetime | None, received_at: datetime
) -> datetime:
    """When the event happened, by the server's clock.

    The client's clock may be off: it stamped the event `timestamp` and the request `sentAt`
    with the same wrong clock, and the server received the request at `received_at`, so the
    skew is received_at - sent_at. An event cannot have happened after it was received, nor
    before 1970: the result is clamped to [EARLIEST_TIMESTAMP, received_at].
    """
    if timestamp is None:
        return received_at
    if sent_at is None:
        happened = timestamp
    else:
        # timestamp + (received_at - sent_at), computed as received_at - (sent_at - timestamp):
        # the difference of two parsed times always fits a timedelta, while the sum of a
        # far-future timestamp and a large skew would overflow a datetime.
        before_sending = sent_at - timestamp
        if before_sending <= _NO_TIME:
            return received_at
        if before_sending >= received_at - EARLIEST_TIMESTAMP:
            return EARLIEST_TIMESTAMP
        happened = received_at - before_sending
    return _in_utc(max(min(happened, received_at), EARLIEST_TIMESTAMP))


def _in_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def _object(data: dict, key: str) -> dict | None:
    value = data.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise _bad(f"`{key}` must be a JSON object.", field=key)


def _string(data: dict, key: str, *, required: bool = False, hint: str = "") -> str:
    """An id or a name: a string (or an integer, as some SDKs send ids) of at most 255 chars."""
    value = data.get(key)
    if type(value) is str and 0 < len(value) <= MAX_ID_LENGTH:  # the common case, first
        return value
    if value is None or value == "":
        if required:
            raise _bad(f"`{key}` is required{hint}.", field=key, code="missing_field")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _bad(f"`{key}` must be a string.", field=key)
    value = str(value)
    if len(value) > MAX_ID_LENGTH:
        raise _bad(f"`{key}` is longer than {MAX_ID_LENGTH} characters.", field=key)
    return value


def _parse_event(
    data: dict,
    *,
    route_type: str,
    envelope: _Envelope | None,
    received_at: datetime,
) -> IncomingEvent:
    anonymous_id = _string(data, "anonymousId")
    user_id = _string(data, "userId")
    previous_id = ""
    if route_type == "alias":
        previous_id = _string(data, "previousId", required=True, hint=" for an alias")
        _string(data, "userId", required=True, hint=" for an alias")
    elif not anonymous_id and not user_id:
        raise _bad(
            "Every event needs `userId` or `anonymousId`.",
            field="anonymousId",
            code="missing_field",
        )

    if route_type == "track":
        name = _string(data, "event", required=True, hint=" for a track call")
    elif route_type == "group":
        name = _string(data, "groupId", required=True, hint=" for a group call")
    elif route_type in ("page", "screen"):
        name = _string(data, "name")
    else:
        name = ""

    properties = _object(data, "properties")
    traits = _object(data, "traits")
    if route_type == "identify" and traits and (problem := traits_problem(traits)):
        raise _bad(problem, field="traits")
    context = _object(data, "context")
    _object(data, "integrations")

    sent_message_id = _string(data, "messageId")
    message_id = sent_message_id or str(uuid.uuid4())

    timestamp = None
    if data.get("timestamp") is not None:
        timestamp = parse_timestamp(data["timestamp"], field="timestamp")
    sent_at = None
    if data.get("sentAt") is not None:
        sent_at = parse_timestamp(data["sentAt"], field="sentAt")
    elif envelope is not None:
        sent_at = envelope.sent_at

    event = IncomingEvent(
        type=route_type,
        message_id=message_id,
        anonymous_id=anonymous_id,
        user_id=user_id,
        name=name,
        timestamp=corrected_timestamp(
            timestamp=timestamp, sent_at=sent_at, received_at=received_at
        ),
        payload=_stored_payload(
            data,
            route_type=route_type,
            generated_message_id=None if sent_message_id else message_id,
            envelope=envelope,
        ),
        previous_id=previous_id,
        traits=traits if route_type == "identify" else None,
    )

    if context is None and envelope is not None:
        context = envelope.fields.get("context")
    if context:
        user_agent = context.get("userAgent")
        if isinstance(user_agent, str):
            event.user_agent = user_agent[:500]
    if route_type == "page":
        event.page = _page_location(properties, context)[:2000]
    elif route_type == "screen":
        event.page = name[:2000]
    elif route_type == "track" and name == MESSAGE_EVENT and properties:
        _read_message_event(event, properties)
    return event


def _page_location(properties: dict | None, context: dict | None) -> str:
    page = context.get("page") if context else None
    for source in (properties, page if isinstance(page, dict) else None):
        if not source:
            continue
        for key in ("url", "path"):
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return ""


def _read_message_event(event: IncomingEvent, properties: dict) -> None:
    """Fill the message-event columns when the properties name a message and an action."""
    action_type = properties.get("actionType")
    content_id = parse_content_id(properties.get("contentId"))
    if not isinstance(action_type, str) or action_type not in ACTION_TYPES or content_id is None:
        return
    event.content_id = content_id
    event.action_type = action_type
    variant = properties.get("variant")
    if variant in VARIANT_KEYS:
        event.variant = variant
    if action_type == CLICKED:
        action_name = properties.get("actionName")
        if isinstance(action_name, str | int) and not isinstance(action_name, bool):
            event.action_name = str(action_name)[:255]


def parse_content_id(value) -> int | None:
    """A message id sent as an integer, an integral float (`11.0`, as Python's json writes
    some) or a string of digits; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif (
        isinstance(value, float)
        and value.is_integer()
        or isinstance(value, str)
        and value.isascii()
        and value.isdigit()
        and len(value) <= 19
    ):
        number = int(value)
    else:
        return None
    return number if 0 < number <= _MAX_CONTENT_ID else None


def _stored_payload(
    data: dict, *, route_type: str, generated_message_id: str | None, envelope: _Envelope | None
) -> dict:
    """The call as sent, with what the server filled in.

    Added: `type` (from the endpoint, for single calls), `messageId` when the client sent none
    (the one generated here), and the batch-level `context`, `integrations`
    and `sentAt` the event inherited. Removed: `writeKey` (it identifies the workspace, it is
    not part of the event).
    """
    stored = data
    needs_copy = (
        "writeKey" in data
        or data.get("type") != route_type
        or generated_message_id
        or (envelope is not None and not envelope.fields.keys() <= data.keys())
    )
    if needs_copy:
        stored = dict(data)
        stored.pop("writeKey", None)
        stored["type"] = route_type
        if generated_message_id:
            stored["messageId"] = generated_message_id
        if envelope is not None:
            for key, value in envelope.fields.items():
                stored.setdefault(key, value)
    return stored
