"""Pure parsing and validation of tracking calls (delivery/tracking/parsing.py): tables of cases."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from delivery.tracking.parsing import (
    MAX_BATCH_BYTES,
    MAX_EVENT_BYTES,
    ROUTE_TYPES,
    TrackingError,
    corrected_timestamp,
    event_size,
    load_body,
    parse_content_id,
    parse_events,
)

RECEIVED = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return RECEIVED + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("timestamp", "sent_at", "expected"),
    [
        (None, None, RECEIVED),
        (None, at(-3600), RECEIVED),
        (at(-10), None, at(-10)),
        # Client clock 1 h behind: sent "at -3600 s", happened 5 s before sending.
        (at(-3605), at(-3600), at(-5)),
        # Client clock 1 h ahead.
        (at(3595), at(3600), at(-5)),
        # Offline for a day, clock right.
        (at(-86400), at(-1), at(-86399)),
        # Nonsense (event after sending): never later than received.
        (at(60), at(0), RECEIVED),
        (at(30), None, RECEIVED),
    ],
)
def test_corrected_timestamp(timestamp, sent_at, expected):
    assert corrected_timestamp(timestamp=timestamp, sent_at=sent_at, received_at=RECEIVED) == (
        expected
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, 12),
        ("12", 12),
        ("0012", 12),
        (2**63 - 1, 2**63 - 1),
        (2**63, None),
        ("99999999999999999999", None),
        (0, None),
        (-1, None),
        ("-1", None),
        ("12a", None),
        ("١٢", None),  # non-ASCII digits
        ("", None),
        (None, None),
        (True, None),
        (12.0, 12),
        (12.5, None),
        (0.0, None),
        (1e300, None),
        ([12], None),
    ],
)
def test_parse_content_id(value, expected):
    assert parse_content_id(value) == expected


@pytest.mark.parametrize(
    ("route", "call_type"),
    [
        ("track", "track"),
        ("t", "track"),
        ("page", "page"),
        ("p", "page"),
        ("screen", "screen"),
        ("s", "screen"),
        ("identify", "identify"),
        ("i", "identify"),
        ("alias", "alias"),
        ("a", "alias"),
        ("group", "group"),
        ("g", "group"),
        ("batch", "batch"),
        ("b", "batch"),
    ],
)
def test_routes_and_their_short_forms(route, call_type):
    assert ROUTE_TYPES[route] == call_type


def parse(body: bytes, route="batch"):
    return parse_events(load_body(body), route_type=route, received_at=RECEIVED)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"a": "\\u0000"}', 400, "invalid_json"),
        (b'{"a": "\\\\\\u0000"}', 400, "invalid_json"),
        (b'{"a": "\\ud83d"}', 400, "invalid_json"),
        (b'{"a": "\\ude00"}', 400, "invalid_json"),
        (b'{"a": Infinity}', 400, "invalid_json"),
        (b'{"a": "x"', 400, "invalid_json"),
        (b"\xff\xfe", 400, "invalid_json"),
        (b"x" * (MAX_BATCH_BYTES + 1), 413, "batch_too_large"),
    ],
)
def test_load_body_refuses(body, status, code):
    with pytest.raises(TrackingError) as raised:
        load_body(body)
    assert (raised.value.status, raised.value.code) == (status, code)


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": "\\\\u0000 is a literal backslash-u"}',
        b'{"a": "\\ud83d\\ude00 an emoji as a surrogate pair"}',
        '{"a": "é 😀 raw UTF-8"}'.encode(),
    ],
)
def test_load_body_accepts_text_postgresql_can_store(body):
    assert isinstance(load_body(body), dict)


def test_a_message_event_fills_the_message_columns():
    body = (
        b'{"type": "track", "anonymousId": "a", "event": "Report Content Event",'
        b' "properties": {"actionType": "clicked_content", "contentId": "42",'
        b' "actionName": "signup", "actionValue": "/signup", "contentType": "in_app_content"}}'
    )
    (event,) = parse(body, route="track")
    assert (event.content_id, event.action_type, event.action_name) == (
        42,
        "clicked_content",
        "signup",
    )


@pytest.mark.parametrize(
    "properties",
    [
        {"actionType": "viewed_content"},
        {"actionType": "opened", "contentId": 42},
        {"contentId": 42},
        {"actionType": "viewed_content", "contentId": "forty-two"},
    ],
)
def test_incomplete_message_events_are_plain_tracks(properties):
    body = json.dumps(
        {"anonymousId": "a", "event": "Report Content Event", "properties": properties}
    ).encode()
    (event,) = parse(body, route="track")
    assert (event.content_id, event.action_type) == (None, "")


def test_a_view_or_dismissal_has_no_action_name():
    body = (
        b'{"anonymousId": "a", "event": "Report Content Event", "properties":'
        b' {"actionType": "viewed_content", "contentId": 1, "actionName": "x"}}'
    )
    (event,) = parse(body, route="track")
    assert event.action_name == ""


@pytest.mark.parametrize(
    ("properties", "context", "page"),
    [
        ({"url": "https://x.test/a?b=1", "path": "/a"}, None, "https://x.test/a?b=1"),
        ({"path": "/a"}, None, "/a"),
        (None, {"page": {"url": "https://x.test/c"}}, "https://x.test/c"),
        (None, {"page": {"path": "/c"}}, "/c"),
        (None, {"page": "nope"}, ""),
        (None, None, ""),
    ],
)
def test_a_page_calls_location(properties, context, page):
    call = {"anonymousId": "a", "properties": properties, "context": context}
    (event,) = parse(json.dumps(call).encode(), route="page")
    assert event.page == page


# --- orjson on the hot path: the same values and sizes as Python's json ---------------------

# What the API accepts in strings: no NUL, no lone surrogate.
KEYS = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None, database=None)
@given(st.dictionaries(KEYS, JSON_VALUES, max_size=6), st.booleans())
def test_load_body_parses_what_pythons_json_parses(value, ascii_only):
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    parsed = load_body(body)
    assert parsed == json.loads(body)
    # Integers stay integers, however large (orjson would make floats of some).
    assert json.dumps(parsed) == json.dumps(json.loads(body))


@pytest.mark.parametrize(
    "number",
    [2**64, 2**64 - 1, -(2**63) - 1, 10**30, -(10**30), 123456789012345678901234567890],
)
def test_large_integers_are_kept_exactly(number):
    assert load_body(f'{{"n": {number}, "m": [{number}]}}'.encode()) == {
        "n": number,
        "m": [number],
    }


@settings(max_examples=400, deadline=None, database=None)
@given(st.dictionaries(KEYS, JSON_VALUES, max_size=6), st.integers(0, 40_000))
def test_event_size_is_the_compact_utf8_json_size_wherever_the_limit_is_near(value, padding):
    event = {**value, "padding": "x" * padding}
    exact = len(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode())
    size = event_size(event)
    if size > MAX_EVENT_BYTES // 2:
        assert size == exact
    else:  # measured by orjson: far under the limit, as Python's json would measure it too
        assert exact < MAX_EVENT_BYTES
    assert (size > MAX_EVENT_BYTES) == (exact > MAX_EVENT_BYTES)
