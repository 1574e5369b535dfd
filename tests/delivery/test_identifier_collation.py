"""The ids SDKs send are compared byte for byte (delivery/identifier_field.py, migration
delivery 0011): on PostgreSQL their columns, in every partition, and the B-trees built on them
take the "C" collation; on SQLite nothing changes, the events' unique messageId key included."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from delivery.models import Event, Visitor
from delivery.partitions import create_day_partition
from delivery.tracking import parsing
from delivery.tracking.recording import record_events
from tests.factories import WorkspaceFactory

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's default collation compares bytes"
)

# (table, column) of every id column, on the tables the models name.
ID_COLUMNS = {
    ("delivery_event", "anonymous_id"),
    ("delivery_event", "message_id"),
    ("delivery_event", "user_id"),
    ("delivery_eventmessageid", "message_id"),
    ("delivery_profile", "user_id"),
    ("delivery_visitor", "anonymous_id"),
}
BEFORE = [("delivery", "0010_visitor_last_seen_index_anonymous_only")]


def column_collations() -> dict[tuple[str, str], str]:
    """(table, column) → collation of the id columns, on those tables and all their partitions."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, a.attname, coalesce(co.collname, '')
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            LEFT JOIN pg_collation co ON co.oid = a.attcollation
            WHERE a.attname IN ('anonymous_id', 'message_id', 'user_id') AND NOT a.attisdropped
              AND c.relkind IN ('r', 'p')
              AND (c.relname = ANY(%s) OR c.oid IN (
                SELECT inhrelid FROM pg_inherits
                WHERE inhparent::regclass::text IN ('delivery_event', 'delivery_eventmessageid')))
            """,
            [sorted({table for table, _ in ID_COLUMNS})],
        )
        return {(table, column): collation for table, column, collation in cursor.fetchall()}


def index_collations(index: str) -> list[str]:
    """The collation of each column of an index ('' for a column without one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(co.collname, '') FROM pg_index i, "
            "unnest(i.indcollation::oid[]) WITH ORDINALITY AS k(oid, n) "
            "LEFT JOIN pg_collation co ON co.oid = k.oid "
            "WHERE i.indexrelid = %s::regclass ORDER BY k.n",
            [index],
        )
        return [row[0] for row in cursor.fetchall()]


def record(workspace, message_ids: list[str]):
    received_at = timezone.now()
    calls = [
        {"type": "track", "event": "Viewed", "anonymousId": "anon-Ä", "messageId": message_id}
        for message_id in message_ids
    ]
    events = parsing.parse_events({"batch": calls}, route_type="batch", received_at=received_at)
    return record_events(workspace_id=workspace.pk, events=events, received_at=received_at)


@on_postgresql
@pytest.mark.django_db
def test_every_id_column_compares_bytes_in_every_table_and_partition():
    # A day partition created from now on (LIKE the parent) gets it too.
    create_day_partition(timezone.now().date() + timedelta(days=60))
    collations = column_collations()
    assert set(collations) >= ID_COLUMNS
    partitions = {table for table, _ in collations} - {table for table, _ in ID_COLUMNS}
    assert any(table.startswith("delivery_eventmessageid_g") for table in partitions)
    assert any(table.endswith("_default") for table in partitions)
    assert any(
        table.endswith((timezone.now().date() + timedelta(days=60)).strftime("%Y%m%d"))
        for table in partitions
    )
    assert {column: "C" for column in collations} == collations


@on_postgresql
@pytest.mark.django_db
def test_the_hot_b_trees_on_ids_compare_bytes():
    assert index_collations("unique_visitor_anonymous_id") == ["", "C"]
    assert index_collations("event_ws_anon_time") == ["", "C", ""]
    assert index_collations("delivery_eventmessageid_pkey") == ["", "", "C"]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_upgrade_keeps_events_and_visitors_and_a_retry_is_still_a_duplicate():
    workspace = WorkspaceFactory()
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        assert set(column_collations().values()) == {"default"}
        assert record(workspace, ["m1", "m2"]).duplicates == 0
    finally:
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())

    assert set(column_collations().values()) == {"C"}
    assert sorted(
        Event.objects.filter(workspace=workspace).values_list("message_id", flat=True)
    ) == [
        "m1",
        "m2",
    ]
    recorded = record(workspace, ["m2", "m3"])
    assert (len(recorded.event_ids), recorded.duplicates) == (1, 1)
    assert Visitor.objects.filter(workspace=workspace, anonymous_id="anon-Ä").count() == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL dedups in EventMessageId")
@pytest.mark.django_db
def test_sqlite_keeps_the_events_unique_message_id_key():
    workspace = WorkspaceFactory()
    record(workspace, ["m1"])
    event = Event.objects.get(workspace=workspace)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(
            workspace=workspace,
            message_id="m1",
            type="track",
            timestamp=event.timestamp,
            received_at=event.received_at,
            payload={},
        )
