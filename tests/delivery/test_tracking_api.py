import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from anonmsg.models import Plan, Workspace
from delivery.models import Event, Profile, Visitor, VisitorMessageState
from delivery.signals import events_recorded
from tests.delivery.tracking_helpers import basic_auth, database_down, send
from tests.factories import AnonymousMessageFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def write_key(workspace):
    return workspace.write_key


def track(**fields):
    return {"anonymousId": "anon-1", "event": "Signed Up", **fields}


# --- Accepted calls ---------------------------------------------------------------------------


def test_track_with_basic_auth_is_stored_and_answered_like_segment(client, workspace, write_key):
    response = send(client, "track", track(messageId="m-1"), write_key=write_key)

    assert response.status_code == 200
    assert response.json() == {"success": True}
    event = Event.objects.get()
    assert (event.workspace, event.type, event.name, event.anonymous_id, event.message_id) == (
        workspace,
        "track",
        "Signed Up",
        "anon-1",
        "m-1",
    )


def test_browser_call_as_text_plain_with_the_write_key_in_the_body_is_stored(
    client, workspace, write_key
):
    body = track(writeKey=write_key)
    response = send(client, "t", body, content_type="text/plain")

    assert response.status_code == 200
    event = Event.objects.get(workspace=workspace)
    assert "writeKey" not in event.payload


@pytest.mark.parametrize(
    ("route", "body", "stored_type", "stored_name"),
    [
        ("track", {"event": "Clicked"}, "track", "Clicked"),
        ("t", {"event": "Clicked"}, "track", "Clicked"),
        ("page", {"name": "Pricing", "properties": {"path": "/pricing"}}, "page", "Pricing"),
        ("p", {"properties": {"path": "/pricing"}}, "page", ""),
        ("screen", {"name": "Home"}, "screen", "Home"),
        ("s", {"name": "Home"}, "screen", "Home"),
        ("identify", {"userId": "u-1", "traits": {"plan": "pro"}}, "identify", ""),
        ("i", {"userId": "u-1"}, "identify", ""),
        ("alias", {"userId": "u-1", "previousId": "old"}, "alias", ""),
        ("a", {"userId": "u-1", "previousId": "old"}, "alias", ""),
        ("group", {"groupId": "acme"}, "group", "acme"),
        ("g", {"groupId": "acme"}, "group", "acme"),
    ],
)
def test_every_call_type_and_its_short_form_is_stored(
    client, write_key, route, body, stored_type, stored_name
):
    response = send(client, route, {"anonymousId": "anon-1", **body}, write_key=write_key)

    assert response.status_code == 200, response.content
    event = Event.objects.get()
    assert (event.type, event.name) == (stored_type, stored_name)
    assert event.payload["type"] == stored_type


@pytest.mark.parametrize("route", ["batch", "b"])
def test_a_batch_stores_each_of_its_events(client, write_key, route):
    batch = [
        {"type": "page", "anonymousId": "anon-1", "messageId": "m-1"},
        {"type": "track", "anonymousId": "anon-1", "event": "Clicked", "messageId": "m-2"},
        {"type": "identify", "anonymousId": "anon-1", "userId": "u-1", "messageId": "m-3"},
    ]
    response = send(client, route, {"batch": batch}, write_key=write_key)

    assert response.status_code == 200
    assert sorted(Event.objects.values_list("message_id", "type")) == [
        ("m-1", "page"),
        ("m-2", "track"),
        ("m-3", "identify"),
    ]


def test_the_same_batch_sent_twice_is_stored_once(client, write_key):
    body = {"batch": [track(type="track", messageId=f"m-{n}") for n in range(5)]}

    assert send(client, "batch", body, write_key=write_key).status_code == 200
    assert send(client, "batch", body, write_key=write_key).status_code == 200

    assert Event.objects.count() == 5


def test_a_message_id_repeated_inside_one_batch_is_stored_once_keeping_the_first(client, write_key):
    body = {
        "batch": [
            track(type="track", messageId="same", event="First"),
            track(type="track", messageId="same", event="Second"),
        ]
    }
    assert send(client, "batch", body, write_key=write_key).status_code == 200

    assert list(Event.objects.values_list("name", flat=True)) == ["First"]


def test_a_retried_single_call_is_stored_once(client, write_key):
    for _ in range(3):
        assert send(client, "track", track(messageId="m-1"), write_key=write_key).status_code == 200
    assert Event.objects.count() == 1


def test_the_same_message_id_in_two_workspaces_is_two_events(client, write_key):
    other = WorkspaceFactory()
    send(client, "track", track(messageId="m-1"), write_key=write_key)
    send(client, "track", track(messageId="m-1"), write_key=other.write_key)

    assert Event.objects.count() == 2


def test_a_call_without_message_id_gets_one_from_the_server(client, write_key):
    send(client, "track", track(), write_key=write_key)

    event = Event.objects.get()
    assert len(event.message_id) == 36
    assert event.payload["messageId"] == event.message_id


def test_the_original_payload_is_stored(client, write_key):
    body = track(
        messageId="m-1",
        properties={"plan": "pro", "nested": {"list": [1, 2.5, None, True]}},
        context={"library": {"name": "analytics.js"}, "locale": "fr-FR"},
        integrations={"All": True},
        timestamp="2025-01-01T10:00:00.000Z",
        sentAt="2025-01-01T10:00:01.000Z",
    )
    send(client, "track", body, write_key=write_key)

    assert Event.objects.get().payload == {**body, "type": "track"}


def test_batch_level_context_and_sent_at_are_inherited_by_its_events(client, write_key):
    body = {
        "sentAt": "2025-01-01T10:00:00Z",
        "context": {"userAgent": "Batch UA"},
        "batch": [
            {"type": "page", "anonymousId": "anon-1", "messageId": "m-1"},
            {
                "type": "page",
                "anonymousId": "anon-2",
                "messageId": "m-2",
                "context": {"userAgent": "Own UA"},
            },
        ],
    }
    send(client, "batch", body, write_key=write_key)

    first, second = Event.objects.order_by("message_id")
    assert first.payload["context"] == {"userAgent": "Batch UA"}
    assert first.payload["sentAt"] == "2025-01-01T10:00:00Z"
    assert second.payload["context"] == {"userAgent": "Own UA"}
    assert Visitor.objects.get(anonymous_id="anon-1").user_agent == "Batch UA"
    assert Visitor.objects.get(anonymous_id="anon-2").user_agent == "Own UA"


def test_timestamp_is_corrected_by_the_client_clock_skew(client, write_key):
    # The client's clock is 2 hours behind: it sent the call "at 08:00:05" when it was 10:00:05.
    client_clock = datetime(2025, 1, 1, 8, 0, 0, tzinfo=UTC)
    body = track(
        timestamp=client_clock.isoformat(),
        sentAt=(client_clock + timedelta(seconds=5)).isoformat(),
    )
    before = timezone.now()
    send(client, "track", body, write_key=write_key)
    after = timezone.now()

    event = Event.objects.get()
    # Happened 5 seconds before it was received, whatever the client's clock said.
    assert event.received_at - event.timestamp == timedelta(seconds=5)
    assert before - timedelta(seconds=5) <= event.timestamp <= after


def test_a_timestamp_without_sent_at_is_kept_as_sent(client, write_key):
    send(client, "track", track(timestamp="2025-01-01T08:00:00+02:00"), write_key=write_key)

    assert Event.objects.get().timestamp == datetime(2025, 1, 1, 6, 0, tzinfo=UTC)


def test_an_event_cannot_be_stored_as_happening_after_it_was_received(client, write_key):
    send(client, "track", track(timestamp="2999-01-01T00:00:00Z"), write_key=write_key)

    event = Event.objects.get()
    assert event.timestamp == event.received_at


def test_a_gzip_compressed_batch_is_accepted(client, write_key):
    body = gzip.compress(json.dumps({"batch": [track(type="track")]}).encode())
    response = send(client, "batch", body, write_key=write_key, HTTP_CONTENT_ENCODING="gzip")

    assert response.status_code == 200
    assert Event.objects.count() == 1


def test_a_workspace_with_in_app_messages_disabled_still_tracks(client):
    workspace = WorkspaceFactory(inapp_enabled=False)
    assert send(client, "track", track(), write_key=workspace.write_key).status_code == 200
    assert Event.objects.filter(workspace=workspace).count() == 1


def test_a_free_plan_workspace_also_tracks(client):
    workspace = WorkspaceFactory(plan=Plan.FREE)
    assert send(client, "track", track(), write_key=workspace.write_key).status_code == 200
    assert Event.objects.filter(workspace=workspace).count() == 1


def test_a_page_call_records_the_visitor_user_agent_and_page(client, write_key, workspace):
    body = {
        "anonymousId": "anon-1",
        "properties": {"url": "https://shop.test/pricing?plan=pro", "path": "/pricing"},
        "context": {"userAgent": "Mozilla/5.0 Test"},
    }
    send(client, "page", body, write_key=write_key)

    visitor = Visitor.objects.get(workspace=workspace)
    assert visitor.anonymous_id == "anon-1"
    assert visitor.user_agent == "Mozilla/5.0 Test"
    assert visitor.last_page == "https://shop.test/pricing?plan=pro"
    assert visitor.first_seen_at == visitor.last_seen_at == Event.objects.get().timestamp
    assert not visitor.is_identified


def test_a_visitors_last_seen_moves_forward_and_first_seen_stays(client, write_key):
    send(client, "page", track(timestamp="2025-01-02T00:00:00Z"), write_key=write_key)
    send(client, "page", track(timestamp="2025-01-03T00:00:00Z"), write_key=write_key)
    send(client, "page", track(timestamp="2025-01-01T00:00:00Z"), write_key=write_key)

    visitor = Visitor.objects.get()
    assert visitor.first_seen_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert visitor.last_seen_at == datetime(2025, 1, 3, tzinfo=UTC)


def test_a_visitors_last_seen_is_rewritten_at_most_once_a_minute_unless_its_page_changes(
    client, write_key
):
    def at(clock):
        return f"2025-01-01T10:{clock}Z"

    send(
        client, "page", track(timestamp=at("00:00"), properties={"path": "/a"}), write_key=write_key
    )
    send(client, "track", track(timestamp=at("00:30")), write_key=write_key)
    visitor = Visitor.objects.get()
    assert (visitor.last_seen_at.second, visitor.last_page) == (0, "/a")

    send(
        client, "page", track(timestamp=at("00:40"), properties={"path": "/b"}), write_key=write_key
    )
    visitor.refresh_from_db()
    assert (visitor.last_seen_at.second, visitor.last_page) == (40, "/b")

    send(client, "track", track(timestamp=at("02:00")), write_key=write_key)
    visitor.refresh_from_db()
    assert visitor.last_seen_at == datetime(2025, 1, 1, 10, 2, tzinfo=UTC)
    assert visitor.last_page == "/b"


# --- CORS -----------------------------------------------------------------------------------


def test_preflight_is_answered_for_any_origin_without_credentials(client):
    response = client.options(
        "/v1/batch",
        HTTP_ORIGIN="https://shop.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, authorization",
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "authorization"} <= allowed
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("valid", [True, False])
def test_answers_carry_cors_headers_whether_accepted_or_refused(client, write_key, valid):
    body = track() if valid else {"anonymousId": "anon-1"}
    response = send(client, "t", body, write_key=write_key, HTTP_ORIGIN="https://shop.example")

    assert response.status_code == (200 if valid else 400)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response


def test_get_is_not_allowed(client):
    response = client.get("/v1/track")
    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"
    assert response.json()["error"] == "method_not_allowed"


# --- Bad input: right status, a JSON error naming the problem, nothing written ---------------


def assert_refused(response, status, *, error=None, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["message"]
    if error is not None:
        assert body["error"] == error
    if field is not None:
        assert body["field"] == field
    assert Event.objects.count() == 0
    assert Visitor.objects.count() == 0
    assert Profile.objects.count() == 0


@pytest.mark.parametrize(
    ("route", "body", "error", "field"),
    [
        ("track", b"{not json", "invalid_json", None),
        ("track", b"", "invalid_json", None),
        ("track", b"[1, 2]", "invalid_json", None),
        (
            "track",
            b'{"anonymousId": "a", "event": "x", "properties": {"n": NaN}}',
            "invalid_json",
            None,
        ),
        ("track", b'{"anonymousId": "a\\u0000", "event": "x"}', "invalid_json", None),
        (
            "track",
            b'{"anonymousId": "a", "event": "x", "properties": {"n": 1e400}}',
            "invalid_json",
            None,
        ),
        (
            "track",
            b'{"anonymousId": "a", "event": "x", "p": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            "invalid_json",
            None,
        ),
        ("track", b'{"anonymousId": "a\\ud800", "event": "x"}', "invalid_json", None),
        ("track", {"event": "Signed Up"}, "missing_field", "anonymousId"),
        ("track", {"anonymousId": "", "userId": "", "event": "x"}, "missing_field", "anonymousId"),
        ("track", {"anonymousId": "anon-1"}, "missing_field", "event"),
        ("track", {"anonymousId": "anon-1", "event": ""}, "missing_field", "event"),
        ("track", {"anonymousId": "anon-1", "event": {"x": 1}}, "invalid", "event"),
        ("track", {"anonymousId": ["a"], "event": "x"}, "invalid", "anonymousId"),
        ("track", {"anonymousId": True, "event": "x"}, "invalid", "anonymousId"),
        ("track", {"anonymousId": "a" * 256, "event": "x"}, "invalid", "anonymousId"),
        ("track", {"anonymousId": "a", "event": "x", "properties": []}, "invalid", "properties"),
        ("track", {"anonymousId": "a", "event": "x", "context": "web"}, "invalid", "context"),
        (
            "track",
            {"anonymousId": "a", "event": "x", "timestamp": "yesterday"},
            "invalid",
            "timestamp",
        ),
        ("track", {"anonymousId": "a", "event": "x", "sentAt": 1700000000}, "invalid", "sentAt"),
        ("identify", {"anonymousId": "a", "traits": "pro"}, "invalid", "traits"),
        ("alias", {"userId": "u-1"}, "missing_field", "previousId"),
        ("alias", {"previousId": "anon-1", "anonymousId": "anon-1"}, "missing_field", "userId"),
        ("group", {"anonymousId": "a"}, "missing_field", "groupId"),
        ("batch", {"batch": "nope"}, "invalid", "batch"),
        ("batch", {}, "invalid", "batch"),
        ("batch", {"batch": []}, "invalid", "batch"),
        ("batch", {"batch": ["track"]}, "invalid", "batch[0]"),
        ("batch", {"batch": [{"anonymousId": "a", "event": "x"}]}, "invalid", "batch[0].type"),
        ("batch", {"batch": [{"type": "batch", "anonymousId": "a"}]}, "invalid", "batch[0].type"),
        (
            "batch",
            {"batch": [track(type="track"), {"type": "track", "anonymousId": "a"}]},
            "missing_field",
            "batch[1].event",
        ),
        ("batch", {"batch": [track(type="track")], "context": []}, "invalid", "context"),
    ],
)
def test_bad_input_is_refused_with_400_naming_the_problem(
    client, write_key, route, body, error, field
):
    response = send(client, route, body, write_key=write_key)
    assert_refused(response, 400, error=error, field=field)


@pytest.mark.parametrize("depth", [100, 900])
def test_deeply_nested_properties_are_stored_or_refused_never_a_500(client, write_key, depth):
    nested = b"[" * depth + b"]" * depth
    body = b'{"anonymousId": "a", "event": "x", "properties": {"n": ' + nested + b"}}"
    response = send(client, "track", body, write_key=write_key)
    assert response.status_code in (200, 400)


def test_one_bad_event_refuses_the_whole_batch(client, write_key):
    body = {"batch": [track(type="track", messageId=f"m-{n}") for n in range(10)]}
    body["batch"][7].pop("event")

    assert_refused(send(client, "batch", body, write_key=write_key), 400, field="batch[7].event")


def test_an_event_over_32_kb_is_refused_with_413(client, write_key):
    body = track(properties={"blob": "x" * 33_000})
    assert_refused(send(client, "track", body, write_key=write_key), 413, error="event_too_large")


def test_a_batch_holding_one_event_over_32_kb_is_refused_with_413_naming_it(client, write_key):
    body = {"batch": [track(type="track"), track(type="track", properties={"blob": "x" * 33_000})]}
    response = send(client, "batch", body, write_key=write_key)
    assert_refused(response, 413, error="event_too_large", field="batch[1]")


def test_a_batch_over_500_kb_is_refused_with_413(client, write_key):
    body = {"batch": [track(type="track", properties={"blob": "x" * 30_000}) for _ in range(18)]}
    assert len(json.dumps(body)) > 500 * 1024
    assert_refused(send(client, "batch", body, write_key=write_key), 413, error="batch_too_large")


def test_a_gzip_batch_inflating_past_500_kb_is_refused_with_413(client, write_key):
    body = {"batch": [track(type="track", properties={"blob": "x" * 30_000}) for _ in range(18)]}
    compressed = gzip.compress(json.dumps(body).encode())
    assert len(compressed) < 32 * 1024
    response = send(client, "batch", compressed, write_key=write_key, HTTP_CONTENT_ENCODING="gzip")
    assert_refused(response, 413, error="batch_too_large")


def test_a_corrupt_gzip_body_is_refused_with_400(client, write_key):
    response = send(client, "batch", b"not gzip", write_key=write_key, HTTP_CONTENT_ENCODING="gzip")
    assert_refused(response, 400, error="invalid_encoding")


def test_a_batch_of_more_than_2500_events_is_refused_with_413(client, write_key):
    body = {"batch": [{"type": "page", "anonymousId": "a"} for _ in range(2_501)]}
    assert_refused(send(client, "batch", body, write_key=write_key), 413, error="too_many_events")


def test_a_batch_of_exactly_2500_events_is_stored(client, write_key):
    body = {"batch": [{"type": "page", "anonymousId": f"a-{n % 7}"} for n in range(2_500)]}
    assert send(client, "batch", body, write_key=write_key).status_code == 200
    assert Event.objects.count() == 2_500
    assert Visitor.objects.count() == 7


# --- Authentication and tenant isolation ------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body_key"),
    [
        ({}, None),
        ({}, "wk_doesnotexist"),
        ({}, ""),
        ({"HTTP_AUTHORIZATION": basic_auth("wk_doesnotexist")}, None),
        ({"HTTP_AUTHORIZATION": "Basic !!!not-base64"}, None),
        ({"HTTP_AUTHORIZATION": basic_auth("not a key; drop table")}, None),
        ({"HTTP_AUTHORIZATION": "Bearer something"}, None),
        ({"HTTP_AUTHORIZATION": "Basic w6nDqQ=="}, None),
        ({"HTTP_AUTHORIZATION": "Basic ééé"}, None),
    ],
)
def test_a_missing_or_unknown_write_key_is_refused_with_401(client, workspace, headers, body_key):
    body = track()
    if body_key is not None:
        body["writeKey"] = body_key
    response = send(client, "track", body, **headers)
    assert_refused(response, 401, error="unauthorized")


def test_an_unknown_header_key_is_refused_before_the_body_is_even_read_as_json(client, workspace):
    response = send(client, "track", b"{not json", write_key="wk_doesnotexist")
    assert_refused(response, 401, error="unauthorized")


def test_a_write_key_that_is_not_a_string_is_refused_with_401(client, workspace):
    response = send(client, "track", track(writeKey=["wk_x"]))
    assert_refused(response, 401, error="unauthorized", field="writeKey")


def test_a_workspaces_write_key_only_ever_writes_into_that_workspace(client, workspace):
    other = WorkspaceFactory()
    # The HTTP Basic key wins over a key in the body.
    body = track(writeKey=other.write_key, messageId="m-1")
    send(client, "track", body, write_key=workspace.write_key)
    send(client, "track", track(messageId="m-2"), write_key=other.write_key)

    assert list(Event.objects.filter(workspace=workspace).values_list("message_id", flat=True)) == [
        "m-1"
    ]
    assert list(Event.objects.filter(workspace=other).values_list("message_id", flat=True)) == [
        "m-2"
    ]
    # One anonymous id seen by two workspaces is two unrelated visitors.
    assert Visitor.objects.filter(anonymous_id="anon-1").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_deleted_workspaces_write_key_is_refused_even_while_still_cached(client):
    workspace = WorkspaceFactory()
    key = workspace.write_key
    assert send(client, "track", track(), write_key=key).status_code == 200
    Workspace.objects.filter(pk=workspace.pk).delete()

    assert_refused(send(client, "track", track(), write_key=key), 401, error="unauthorized")
    assert_refused(send(client, "track", track(), write_key=key), 401, error="unauthorized")


# --- Database down ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_database_down_answers_503_with_retry_after_and_stores_nothing(client):
    workspace = WorkspaceFactory()
    with database_down():
        response = send(
            client, "batch", {"batch": [track(type="track")]}, write_key=workspace.write_key
        )

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"] == "unavailable"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert Event.objects.count() == 0
    # And once it is back, the retry is stored.
    assert (
        send(
            client, "batch", {"batch": [track(type="track")]}, write_key=workspace.write_key
        ).status_code
        == 200
    )
    assert Event.objects.count() == 1


# --- Hot path ---------------------------------------------------------------------------------

# PostgreSQL records anonymous calls in one statement (delivery/tracking/one_statement.py);
# SQLite in a transaction: the events' insert, then the upserts.
ONE_STATEMENT = connection.vendor == "postgresql"


def test_a_single_call_and_a_batch_of_50_take_the_same_few_queries(client, write_key):
    send(client, "track", track(), write_key=write_key)  # warms the write-key cache

    with CaptureQueriesContext(connection) as single:
        send(client, "track", track(anonymousId="anon-2"), write_key=write_key)
    batch = {
        "batch": [
            {**track(anonymousId=f"anon-{n % 10}"), "type": "track" if n % 2 else "page"}
            for n in range(50)
        ]
    }
    with CaptureQueriesContext(connection) as batched:
        assert send(client, "batch", batch, write_key=write_key).status_code == 200

    # savepoint, the one statement (SQLite: insert events, upsert visitors), release: the test
    # runs inside a transaction
    assert len(single) == (3 if ONE_STATEMENT else 4), [q["sql"][:80] for q in single]
    assert len(batched) == len(single)
    assert Event.objects.count() == 52


def test_a_warm_anonymous_call_takes_exactly_one_statement(
    client, write_key, django_assert_num_queries
):
    send(client, "page", {"anonymousId": "anon-1", "name": "Home"}, write_key=write_key)

    # savepoint, the statement (claim the messageId, insert the event, upsert the visitor),
    # release: the test runs in a transaction (SQLite: the insert and the upsert). No write-key
    # lookup, no "SDK last seen" write within the minute.
    with django_assert_num_queries(3 if ONE_STATEMENT else 4):
        response = send(
            client,
            "page",
            {"anonymousId": "anon-2", "name": "Pricing", "properties": {"url": "/pricing"}},
            write_key=write_key,
        )
    assert response.status_code == 200


@pytest.mark.skipif(not ONE_STATEMENT, reason="SQLite records calls in a transaction")
@pytest.mark.django_db(transaction=True)
def test_in_production_a_warm_anonymous_call_is_one_statement_and_its_own_transaction(
    client, django_assert_num_queries
):
    workspace = WorkspaceFactory()
    send(client, "page", {"anonymousId": "anon-1"}, write_key=workspace.write_key)

    # Autocommit, as production runs: no BEGIN, no COMMIT, no savepoint around it.
    with django_assert_num_queries(1):
        response = send(client, "track", track(anonymousId="anon-2"), write_key=workspace.write_key)
    assert response.status_code == 200
    assert Visitor.objects.filter(workspace=workspace, anonymous_id="anon-2").exists()


def test_a_message_view_adds_the_message_lookup_and_the_state_upsert(
    client, workspace, write_key, django_assert_num_queries
):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    send(client, "page", {"anonymousId": "anon-1"}, write_key=write_key)
    view = {
        "anonymousId": "anon-1",
        "event": "Report Content Event",
        "properties": {"actionType": "viewed_content", "contentId": message.pk},
    }

    # The message lookup, then savepoint, the statement (event, visitor, state; SQLite: three
    # statements), release.
    with django_assert_num_queries(4 if ONE_STATEMENT else 6):
        assert send(client, "track", view, write_key=write_key).status_code == 200
    assert VisitorMessageState.objects.get().views == 1
    # The message is known to this process now: no lookup.
    with django_assert_num_queries(3 if ONE_STATEMENT else 5):
        assert send(client, "track", view, write_key=write_key).status_code == 200
    assert VisitorMessageState.objects.get().views == 2


def test_identified_calls_add_only_the_profile_upsert(
    client, write_key, django_assert_max_num_queries
):
    send(client, "identify", {"anonymousId": "anon-1", "userId": "u-1"}, write_key=write_key)
    batch = {
        "batch": [
            {"type": "track", "event": "Paid", "anonymousId": "anon-1", "userId": "u-1"}
            for _ in range(50)
        ]
    }
    with django_assert_max_num_queries(5):
        assert send(client, "batch", batch, write_key=write_key).status_code == 200


def test_the_write_key_lookup_is_cached(client, write_key, django_assert_max_num_queries):
    send(client, "track", track(), write_key=write_key)
    with CaptureQueriesContext(connection) as queries:
        send(client, "track", track(), write_key=write_key)
    assert not any("anonmsg_workspace" in q["sql"] for q in queries)


# --- SDK last seen ----------------------------------------------------------------------------


def test_sdk_last_seen_is_set_by_the_first_call(client, workspace, write_key):
    assert workspace.sdk_last_seen_at is None
    send(client, "track", track(), write_key=write_key)

    workspace.refresh_from_db()
    assert workspace.sdk_last_seen_at is not None


def test_the_settings_page_shows_when_the_sdk_was_last_seen(owner_client, workspace, write_key):
    url = reverse("settings-inapp", args=[workspace.pk])
    assert "sdk-seen-ok" not in owner_client.get(url).content.decode()

    send(owner_client, "track", track(), write_key=write_key)

    assert "sdk-seen-ok" in owner_client.get(url).content.decode()


def test_sdk_last_seen_is_written_at_most_once_a_minute(client, workspace, write_key):
    send(client, "track", track(), write_key=write_key)
    workspace.refresh_from_db()
    first = workspace.sdk_last_seen_at

    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            send(client, "track", track(), write_key=write_key)
    workspace.refresh_from_db()

    assert workspace.sdk_last_seen_at == first
    assert not any("sdk_last_seen_at" in q["sql"] for q in queries)


def test_sdk_last_seen_is_not_rewritten_within_a_minute_even_by_another_process(workspace):
    from delivery.tracking.write_keys import forget_sdk_seen_here, note_sdk_seen

    now = timezone.now()
    assert note_sdk_seen(workspace.pk, now=now) is True
    # Another web process: its own memory and cache, no throttle yet.
    cache.clear()
    forget_sdk_seen_here()
    assert note_sdk_seen(workspace.pk, now=now + timedelta(seconds=30)) is False
    cache.clear()
    forget_sdk_seen_here()
    assert note_sdk_seen(workspace.pk, now=now + timedelta(seconds=61)) is True

    workspace.refresh_from_db()
    assert workspace.sdk_last_seen_at == now + timedelta(seconds=61)


# --- Signals ----------------------------------------------------------------------------------


def test_events_recorded_is_sent_after_commit_with_the_new_event_ids(
    client, workspace, write_key, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    events_recorded.connect(receiver)
    try:
        body = {
            "batch": [
                track(type="track", messageId="m-1"),
                {"type": "identify", "anonymousId": "anon-1", "userId": "u-1", "messageId": "m-2"},
            ]
        }
        with django_capture_on_commit_callbacks(execute=True):
            send(client, "batch", body, write_key=write_key)
        with django_capture_on_commit_callbacks(execute=True):
            send(client, "batch", body, write_key=write_key)  # a retry: nothing new
    finally:
        events_recorded.disconnect(receiver)

    assert len(received) == 1
    assert received[0]["workspace_id"] == workspace.pk
    assert sorted(received[0]["event_ids"]) == sorted(Event.objects.values_list("pk", flat=True))
    assert received[0]["profile_ids"] == {Profile.objects.get().pk}
    assert received[0]["message_ids"] == set()


def test_a_failing_signal_receiver_does_not_fail_the_call(
    client, write_key, django_capture_on_commit_callbacks, caplog
):
    def broken(sender, **kwargs):
        raise RuntimeError("metrics is down")

    events_recorded.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = send(client, "track", track(), write_key=write_key)
    finally:
        events_recorded.disconnect(broken)

    assert response.status_code == 200
    assert Event.objects.count() == 1
    assert "metrics is down" in caplog.text
