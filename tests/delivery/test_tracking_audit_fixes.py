"""Tracking API fixes from the contract audit: timestamp range and skew overflow, wrong JSON
types, the per-event size limit, `POST /v1/m` and integral float `contentId`s."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from delivery.models import Event, Profile, Visitor
from delivery.tracking.parsing import MAX_EVENT_BYTES, corrected_timestamp
from tests.delivery.tracking_helpers import send
from tests.factories import AnonymousMessageFactory

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
EARLIEST_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)  # the documented lower bound
FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def track(**fields):
    return {"anonymousId": "anon-1", "event": "Signed Up", **fields}


def assert_refused(response, status, *, error, field):
    assert response.status_code == status, response.content
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert (body["error"], body.get("field")) == (error, field)
    assert Event.objects.count() == Visitor.objects.count() == Profile.objects.count() == 0


# --- Timestamps: bounded, and skew correction that cannot overflow ---------------------------


@pytest.mark.parametrize(
    ("timestamp", "sent_at", "expected"),
    [
        # A "never" sentinel: in the future, so clamped to received_at like any future time.
        (FAR_FUTURE, datetime(2000, 1, 1, tzinfo=UTC), RECEIVED),
        (FAR_FUTURE, None, RECEIVED),
        (FAR_FUTURE, FAR_FUTURE, RECEIVED),
        # A clock thousands of years ahead, consistently: the skew is corrected.
        (FAR_FUTURE - timedelta(seconds=59), FAR_FUTURE, RECEIVED - timedelta(seconds=59)),
        # A sentAt so far ahead that the corrected time would be before 1970: clamped.
        (datetime(2025, 1, 1, tzinfo=UTC), FAR_FUTURE, EARLIEST_TIMESTAMP),
        (EARLIEST_TIMESTAMP, FAR_FUTURE, EARLIEST_TIMESTAMP),
        (EARLIEST_TIMESTAMP, RECEIVED, EARLIEST_TIMESTAMP),
        (EARLIEST_TIMESTAMP, RECEIVED - timedelta(days=1), EARLIEST_TIMESTAMP + timedelta(days=1)),
        # Offsets are kept apart from the arithmetic and the result is UTC.
        (
            datetime.fromisoformat("9999-12-31T23:59:59-14:00"),
            datetime(2025, 1, 1, tzinfo=UTC),
            RECEIVED,
        ),
        (
            datetime.fromisoformat("2025-06-01T13:59:00+02:00"),
            None,
            RECEIVED - timedelta(minutes=1),
        ),
    ],
)
def test_corrected_timestamp_stays_between_1970_and_received_at_without_overflowing(
    timestamp, sent_at, expected
):
    corrected = corrected_timestamp(timestamp=timestamp, sent_at=sent_at, received_at=RECEIVED)
    assert corrected == expected
    assert corrected.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("timestamp", "sent_at"),
    [
        ("9999-12-31T23:59:59Z", "2000-01-01T00:00:00Z"),
        ("9999-12-31T23:59:59-14:00", None),
        ("2026-01-01T00:00:00Z", "9999-12-31T23:59:59Z"),
        ("1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"),
        ("1970-01-01T00:00:00Z", None),
    ],
)
def test_extreme_but_valid_timestamps_are_stored_and_read_back(
    client, workspace, owner_client, timestamp, sent_at
):
    body = track(timestamp=timestamp)
    if sent_at:
        body["sentAt"] = sent_at
    response = send(client, "track", body, write_key=workspace.write_key)

    assert response.status_code == 200, response.content
    event = Event.objects.get()
    assert EARLIEST_TIMESTAMP <= event.timestamp <= event.received_at
    assert Visitor.objects.get().first_seen_at == event.timestamp
    detail = reverse("delivery:event", args=[workspace.pk, event.pk])
    assert owner_client.get(detail).status_code == 200


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("track", track(timestamp="0001-01-01T00:00:00+01:00"), "timestamp"),
        ("track", track(timestamp="0001-01-01"), "timestamp"),
        ("track", track(timestamp="1969-12-31T23:59:59Z"), "timestamp"),
        ("track", track(timestamp="1970-01-01T00:59:59+01:00"), "timestamp"),
        ("track", track(sentAt="0001-01-01T00:00:00Z"), "sentAt"),
        (
            "track",
            track(timestamp="0001-01-01T00:00:00Z", sentAt="9999-12-31T23:59:59Z"),
            "timestamp",
        ),
        (
            "page",
            track(sentAt="6279-05-19T21:56:11-14:40", timestamp="0538-01-12T12:36:40Z"),
            "timestamp",
        ),
        (
            "batch",
            {"batch": [track(type="track"), track(type="track", timestamp="0001-01-01T00:00Z")]},
            "batch[1].timestamp",
        ),
        (
            "batch",
            {"batch": [track(type="track", sentAt="1900-01-01T00:00:00Z")]},
            "batch[0].sentAt",
        ),
        ("batch", {"batch": [track(type="track")], "sentAt": "0001-01-01T00:00:00Z"}, "sentAt"),
    ],
)
def test_timestamps_before_1970_are_refused_with_400_naming_the_field(
    client, workspace, route, body, field
):
    response = send(client, route, body, write_key=workspace.write_key)
    assert_refused(response, 400, error="invalid", field=field)


# --- Wrong JSON types: 400 naming the field, never a 500 -------------------------------------

ID_FIELDS = ["anonymousId", "userId", "messageId", "event"]
OBJECT_FIELDS = ["properties", "traits", "context", "integrations"]
TIME_FIELDS = ["timestamp", "sentAt"]
NOT_A_STRING = [{}, [], True, 1.5, {"a": 1}, ["a"]]
NOT_AN_OBJECT = ["x", 1, 1.5, [], True, ["a"]]


def wrong_types():
    for field in ID_FIELDS:
        for value in NOT_A_STRING:
            yield "track", field, value
    for field in TIME_FIELDS:
        for value in [*NOT_A_STRING, 1_700_000_000]:
            yield "track", field, value
    for field in OBJECT_FIELDS:
        for value in NOT_AN_OBJECT:
            yield "track", field, value
    for value in NOT_A_STRING:
        yield "page", "name", value
        yield "screen", "name", value
        yield "group", "groupId", value
        yield "alias", "previousId", value


@pytest.mark.parametrize(("call_type", "field", "value"), list(wrong_types()))
@pytest.mark.parametrize("in_batch", [False, True])
def test_a_field_of_the_wrong_json_type_is_refused_with_400_naming_it(
    client, workspace, call_type, field, value, in_batch
):
    call = {"anonymousId": "a", "userId": "u", "event": "x", "groupId": "g", "previousId": "p"}
    call[field] = value
    if in_batch:
        response = send(
            client, "batch", {"batch": [{**call, "type": call_type}]}, write_key=workspace.write_key
        )
        expected = f"batch[0].{field}"
    else:
        response = send(client, call_type, call, write_key=workspace.write_key)
        expected = field
    assert_refused(response, 400, error="invalid", field=expected)


@pytest.mark.parametrize("value", [{}, [], {"type": "track"}, ["track"], True, 1, 1.5, None])
def test_a_batch_event_whose_type_is_not_a_known_string_is_refused_naming_it(
    client, workspace, value
):
    body = {"batch": [track(type="track"), track(type=value)]}
    response = send(client, "batch", body, write_key=workspace.write_key)
    assert_refused(response, 400, error="invalid", field="batch[1].type")


@pytest.mark.parametrize(
    ("field", "value"),
    [("context", "web"), ("integrations", []), ("sentAt", {}), ("sentAt", ["x"])],
)
def test_batch_level_fields_of_the_wrong_json_type_are_refused_naming_them(
    client, workspace, field, value
):
    body = {"batch": [track(type="track")], field: value}
    response = send(client, "batch", body, write_key=workspace.write_key)
    assert_refused(response, 400, error="invalid", field=field)


@pytest.mark.parametrize("value", [{}, [], {"a": 1}, ["x"], 1.5, True])
def test_a_write_key_in_the_body_of_the_wrong_json_type_is_refused_with_401(client, value):
    response = send(client, "track", {**track(), "writeKey": value}, content_type="text/plain")
    assert_refused(response, 401, error="unauthorized", field="writeKey")


@pytest.mark.parametrize("action_type", [{}, [], {"viewed_content": 1}, ["viewed_content"], 1])
@pytest.mark.parametrize("action_name", [{}, []])
def test_message_event_properties_of_the_wrong_json_type_make_a_plain_track(
    client, workspace, action_type, action_name
):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    properties = {"actionType": action_type, "contentId": message.pk, "actionName": action_name}
    body = track(event="Report Content Event", properties=properties)

    assert send(client, "track", body, write_key=workspace.write_key).status_code == 200
    event = Event.objects.get()
    assert (event.content_id, event.action_type, event.action_name) == (None, "", "")


# --- The 32 KB per-event limit: compact UTF-8 JSON, whatever the route or formatting ---------


def compact_size(event: dict) -> int:
    return len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode())


def event_of_size(size: int, **fields) -> dict:
    """A track call whose compact UTF-8 JSON is exactly `size` bytes."""
    event = track(**fields, properties={"blob": ""})
    event["properties"]["blob"] = "x" * (size - compact_size(event))
    assert compact_size(event) == size
    return event


@pytest.mark.parametrize(("size", "status"), [(MAX_EVENT_BYTES, 200), (MAX_EVENT_BYTES + 1, 413)])
def test_a_single_call_is_measured_as_compact_json_without_its_write_key(
    client, workspace, size, status
):
    body = {**event_of_size(size), "writeKey": workspace.write_key}
    response = send(client, "track", body, content_type="text/plain")

    assert response.status_code == status, response.content
    if status == 413:
        assert response.json()["error"] == "event_too_large"
        assert "field" not in response.json()


@pytest.mark.parametrize(("size", "status"), [(MAX_EVENT_BYTES, 200), (MAX_EVENT_BYTES + 1, 413)])
def test_an_event_of_a_batch_is_measured_as_compact_json(client, workspace, size, status):
    body = {"batch": [track(type="track"), event_of_size(size, type="track")]}
    response = send(client, "batch", body, write_key=workspace.write_key)

    assert response.status_code == status, response.content
    if status == 413:
        assert response.json() | {"message": ""} == {
            "error": "event_too_large",
            "message": "",
            "field": "batch[1]",
        }


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda body: json.dumps(body, indent=8), id="pretty-printed"),
        pytest.param(lambda body: json.dumps(body, ensure_ascii=True), id="escaped-non-ascii"),
    ],
)
@pytest.mark.parametrize("route", ["track", "batch"])
def test_client_formatting_does_not_decide_whether_an_event_fits(client, workspace, encode, route):
    properties = {f"key-{n}": "é" * 10 for n in range(700)}
    event = track(type="track", properties=properties)
    assert compact_size(event) <= MAX_EVENT_BYTES
    body = encode({"batch": [event]} if route == "batch" else event)
    assert len(body.encode()) > MAX_EVENT_BYTES

    response = send(client, route, body, write_key=workspace.write_key)
    assert response.status_code == 200, response.content


def test_a_single_call_body_over_500_kb_is_refused_before_parsing(client, workspace):
    body = json.dumps(track(), indent=500 * 1024)
    response = send(client, "track", body, write_key=workspace.write_key)
    assert_refused(response, 413, error="batch_too_large", field=None)


# --- POST /v1/m and float contentIds --------------------------------------------------------


def test_sdk_metrics_are_answered_with_an_empty_object_and_not_stored(client):
    body = {"series": [{"type": "Counter", "metric": "analytics_js.invoke", "value": 1}]}
    response = client.post("/v1/m", json.dumps(body), content_type="text/plain")

    assert response.status_code == 200
    assert response.json() == {}
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert Event.objects.count() == 0


def test_sdk_metrics_preflight_and_other_methods_answer_like_the_tracking_routes(client):
    preflight = client.options("/v1/m", HTTP_ORIGIN="https://shop.example")
    tracking_preflight = client.options("/v1/t", HTTP_ORIGIN="https://shop.example")
    headers = (
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Max-Age",
    )
    assert preflight.status_code == tracking_preflight.status_code == 204
    assert [preflight[h] for h in headers] == [tracking_preflight[h] for h in headers]

    refused = client.get("/v1/m")
    assert refused.status_code == 405
    assert refused["Allow"] == "POST, OPTIONS"
    assert refused.json()["error"] == "method_not_allowed"
    assert refused["Access-Control-Allow-Origin"] == "*"


def test_a_float_content_id_of_an_integral_value_counts_as_the_message(client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    properties = {"actionType": "viewed_content", "contentId": float(message.pk)}
    body = track(event="Report Content Event", properties=properties)
    raw = json.dumps(body)
    assert f'"contentId": {message.pk}.0' in raw

    assert send(client, "track", raw, write_key=workspace.write_key).status_code == 200
    event = Event.objects.get()
    assert (event.content_id, event.action_type) == (message.pk, "viewed_content")


def test_a_float_content_id_with_a_fraction_stays_a_plain_track(client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    properties = {"actionType": "viewed_content", "contentId": message.pk + 0.5}
    body = track(event="Report Content Event", properties=properties)

    assert send(client, "track", body, write_key=workspace.write_key).status_code == 200
    assert Event.objects.get().content_id is None
