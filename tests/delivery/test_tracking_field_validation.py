"""The tracking API's field checks: timestamps between 1970 and the time received (the clock
skew correction cannot overflow), and a field of the wrong JSON type refused with a 400 that
names it, never a 500."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from delivery.models import Event, Visitor
from delivery.tracking.parsing import corrected_timestamp
from tests.delivery.tracking_helpers import assert_refused, send, track
from tests.factories import AnonymousMessageFactory

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
EARLIEST_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)  # the documented lower bound
FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


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
