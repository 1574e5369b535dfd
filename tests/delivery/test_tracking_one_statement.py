"""Anonymous calls in one prepared statement (delivery/tracking/one_statement.py): the same rows
as the transaction path, new events only, its own transaction."""

import random
from datetime import timedelta

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from anonmsg.models import Workspace
from delivery.models import Event, EventMessageId, Visitor, VisitorMessageState
from delivery.tracking import one_statement, parsing
from delivery.tracking.recording import record_events, record_in_transaction
from tests.factories import AnonymousMessageFactory, WorkspaceFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite records every call in a transaction"
)

ACTIONS = ["viewed_content", "viewed_content", "dismissed_content", "clicked_content"]


def random_batch(rng: random.Random, n: int, *, message_ids: list[int], prefix: str) -> dict:
    """Calls of 4 visitors with clashing timestamps, user agents and pages, message events,
    and messageIds that repeat earlier batches'."""
    batch = []
    for i in range(n):
        call = {
            "type": rng.choice(["page", "track", "screen"]),
            "anonymousId": f"anon-{rng.randrange(4)}",
            "messageId": f"m-{rng.randrange(60)}",  # ~1 in 3 already sent by an earlier batch
            "timestamp": f"2026-06-01T12:00:{rng.randrange(3):02d}Z",  # ties on purpose
            "sentAt": "2026-06-01T12:00:05Z",
        }
        if rng.random() < 0.7:
            call["context"] = {"userAgent": rng.choice(["UA 1", "UA 2", "UA 3"])}
        if call["type"] == "page" and rng.random() < 0.8:
            call["properties"] = {"url": f"/{prefix}/page-{i}"}
        elif call["type"] == "screen":
            call["name"] = f"Screen {i}"
        elif call["type"] == "track":
            call["event"] = "Report Content Event"
            call["properties"] = {
                "actionType": rng.choice(ACTIONS),
                "contentId": rng.choice(message_ids),
                "actionName": "ok",
            }
        batch.append(call)
    return {"batch": batch}


def visitors_and_states(workspace) -> tuple[list, list]:
    visitors = sorted(
        Visitor.objects.filter(workspace=workspace).values_list(
            "anonymous_id", "first_seen_at", "last_seen_at", "user_agent", "last_page"
        )
    )
    states = sorted(
        VisitorMessageState.objects.filter(visitor__workspace=workspace).values_list(
            "visitor__anonymous_id",
            "message__name",
            "views",
            "first_viewed_at",
            "last_viewed_at",
            "dismissed_at",
            "responded_at",
        )
    )
    return visitors, states


@pytest.mark.parametrize("seed", range(5))
def test_the_statement_writes_what_the_transaction_path_writes(db, seed):
    one, other = WorkspaceFactory(), WorkspaceFactory()
    messages = {
        workspace.pk: [
            AnonymousMessageFactory(workspace=workspace, launched=True, name=f"Message {n}").pk
            for n in range(2)
        ]
        for workspace in (one, other)
    }
    rng = random.Random(seed)
    received_at = timezone.now()
    for round_number in range(4):
        body = random_batch(rng, 25, message_ids=[1, 2], prefix=f"r{round_number}")
        received_at += timedelta(seconds=45)  # last seen moves by more than a minute
        for workspace in (one, other):
            for call in body["batch"]:
                if call["type"] == "track":  # the same message, by position, in each workspace
                    index = call["properties"]["contentId"] - 1
                    call["properties"]["contentId"] = messages[workspace.pk][index]
            events = parsing.parse_events(body, route_type="batch", received_at=received_at)
            if workspace is one:
                assert one_statement.applies(events)
                record_events(workspace_id=one.pk, events=events, received_at=received_at)
            else:
                with transaction.atomic():
                    record_in_transaction(
                        workspace_id=other.pk, events=events, received_at=received_at
                    )
            for call in body["batch"]:
                if call["type"] == "track":
                    index = messages[workspace.pk].index(call["properties"]["contentId"])
                    call["properties"]["contentId"] = index + 1

    assert visitors_and_states(one) == visitors_and_states(other)
    assert visitors_and_states(one)[1], "the batches held message events"
    assert (
        Event.objects.filter(workspace=one).count() == Event.objects.filter(workspace=other).count()
    )


def test_a_duplicate_in_a_batch_changes_nothing_about_its_visitor(workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    received_at = timezone.now()

    def record(body):
        events = parsing.parse_events(body, route_type="batch", received_at=received_at)
        return record_events(workspace_id=workspace.pk, events=events, received_at=received_at)

    view = {
        "type": "track",
        "event": "Report Content Event",
        "anonymousId": "anon-1",
        "properties": {"actionType": "viewed_content", "contentId": message.pk},
    }
    first = record({"batch": [{**view, "messageId": "a", "timestamp": "2026-06-01T12:00:00Z"}]})
    # Retried later, with a newer timestamp, another page and user agent, next to a new call.
    retried = record(
        {
            "batch": [
                {
                    **view,
                    "messageId": "a",
                    "timestamp": "2026-06-01T13:00:00Z",
                    "context": {"userAgent": "Retry UA", "page": {"url": "/retry"}},
                },
                {
                    "type": "page",
                    "anonymousId": "anon-1",
                    "messageId": "b",
                    "timestamp": "2026-06-01T12:30:00Z",
                    "properties": {"url": "/new"},
                },
            ]
        }
    )

    assert (len(first.event_ids), first.duplicates) == (1, 0)
    assert (len(retried.event_ids), retried.duplicates) == (1, 1)
    assert retried.message_ids == set() and retried.changed_visitors == set()
    visitor = Visitor.objects.get(anonymous_id="anon-1")
    assert (visitor.user_agent, visitor.last_page) == ("", "/new")
    assert visitor.last_seen_at.hour == 12
    state = VisitorMessageState.objects.get()
    assert (state.views, state.last_viewed_at.hour) == (1, 12)


@pytest.mark.django_db(transaction=True)
def test_the_statement_is_prepared_once_per_connection(settings):
    workspace = WorkspaceFactory()

    def record(n):
        received_at = timezone.now()
        events = parsing.parse_events(
            {"anonymousId": f"anon-{n}", "event": "E"}, route_type="track", received_at=received_at
        )
        record_events(workspace_id=workspace.pk, events=events, received_at=received_at)

    def executions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements "
                "WHERE statement LIKE '%%claimed AS (INSERT%%'"
            )
            return cursor.fetchone()[0]

    # The connection outlives tests: an earlier one may have run the statement on it.
    before = executions()
    settings.DB_PREPARED_STATEMENTS = True
    for n in range(3):
        record(n)
    assert executions() - before == 3

    settings.DB_PREPARED_STATEMENTS = False  # e.g. behind PgBouncer before 1.21
    record(3)
    assert executions() - before == 3
    assert Event.objects.count() == Visitor.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_failing_statement_leaves_nothing_behind_and_a_retry_is_new():
    workspace = WorkspaceFactory()
    workspace_id = workspace.pk
    received_at = timezone.now()
    events = parsing.parse_events(
        {"anonymousId": "anon-1", "event": "E", "messageId": "m-1"},
        route_type="track",
        received_at=received_at,
    )
    Workspace.objects.filter(pk=workspace_id).delete()  # the visitor's foreign key fails

    with pytest.raises(IntegrityError):
        record_events(workspace_id=workspace_id, events=events, received_at=received_at)

    # Its own transaction: neither the event nor the claim of its messageId was kept.
    assert Event.objects.count() == EventMessageId.objects.count() == 0
    other = WorkspaceFactory()
    assert record_events(workspace_id=other.pk, events=events, received_at=received_at).event_ids


@pytest.mark.django_db(transaction=True)
def test_a_visitor_whose_row_would_not_change_is_neither_written_nor_locked():
    workspace = WorkspaceFactory()

    def record(message_id, **fields):
        received_at = timezone.now()
        body = {"anonymousId": "anon-1", "event": "E", "messageId": message_id, **fields}
        events = parsing.parse_events(body, route_type="track", received_at=received_at)
        record_events(workspace_id=workspace.pk, events=events, received_at=received_at)

    def row_version():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT xmin::text, xmax::text FROM delivery_visitor WHERE anonymous_id = 'anon-1'"
            )
            return cursor.fetchone()

    record("m-1", context={"userAgent": "UA"})
    written = row_version()
    record("m-2", context={"userAgent": "UA"})  # within the minute, nothing new to show
    assert row_version() == written  # same version, and no lock left in xmax
    record("m-3", context={"userAgent": "Another UA"})
    assert row_version() != written
    assert Visitor.objects.get().user_agent == "Another UA"


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_closed_is_replaced_and_the_call_stored_once():
    workspace = WorkspaceFactory()

    def record(message_id):
        received_at = timezone.now()
        events = parsing.parse_events(
            {"anonymousId": "anon-1", "event": "E", "messageId": message_id},
            route_type="track",
            received_at=received_at,
        )
        return record_events(workspace_id=workspace.pk, events=events, received_at=received_at)

    record("m-1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    # As a database restart does to every kept connection.
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend])

    recorded = record("m-2")  # no health check first: the statement fails, and is sent again

    assert len(recorded.event_ids) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != backend
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["m-1", "m-2"]
