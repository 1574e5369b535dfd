"""The upgrade to partitioned events (delivery 0005) on an existing PostgreSQL database: every
row kept, a retry of an event stored before the upgrade still a duplicate, and back again."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from delivery.models import Event
from delivery.partitions import event_partitions
from delivery.tracking import parsing
from delivery.tracking.recording import record_events
from tests.delivery.partition_helpers import partition_of_event
from tests.factories import WorkspaceFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps a plain table"),
]

BEFORE = [("delivery", "0004_event_transaction_id")]


def migrate(targets=None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def is_partitioned() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'delivery_event'::regclass")
        return cursor.fetchone()[0] == "p"


def test_existing_events_are_kept_and_still_deduplicated_after_the_upgrade_and_back():
    workspace = WorkspaceFactory()
    now = timezone.now()
    try:
        migrate(BEFORE)
        assert not is_partitioned()
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        OldEvent = old.get_model("delivery", "Event")
        before = [
            OldEvent.objects.create(
                workspace_id=workspace.pk,
                message_id=f"m{n}",
                type="track",
                name="Signed Up",
                anonymous_id="anon-1",
                timestamp=at,
                received_at=at,
                payload={"n": n},
            )
            for n, at in enumerate([now - timedelta(days=20), now - timedelta(days=2), now])
        ]
    finally:
        migrate()

    assert is_partitioned()
    assert sorted(Event.objects.values_list("pk", "message_id", "payload")) == [
        (event.pk, event.message_id, event.payload) for event in before
    ]
    upto = [p.name for p in event_partitions() if p.lower is None]
    assert len(upto) == 1 and {partition_of_event(event.pk) for event in before} == set(upto)

    events = parsing.parse_events(
        {
            "batch": [
                {
                    "type": "track",
                    "event": "Signed Up",
                    "anonymousId": "anon-1",
                    "messageId": message_id,
                }
                for message_id in ("m1", "m2", "new")
            ]
        },
        route_type="batch",
        received_at=now,
    )
    recorded = record_events(workspace_id=workspace.pk, events=events, received_at=now)

    assert recorded.duplicates == 2  # m1 and m2 were received within the last 14 days
    assert recorded.event_ids[0] > max(event.pk for event in before)

    migrate(BEFORE)
    try:
        assert not is_partitioned()
        assert OldEvent.objects.count() == 4
    finally:
        migrate()
    assert is_partitioned()
    assert Event.objects.count() == 4
