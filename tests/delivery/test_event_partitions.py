"""The events table partitioned by day on PostgreSQL (delivery/partitions.py): where events land,
partitions created ahead, a missing partition never loses an acknowledged event."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from delivery import tasks
from delivery.models import Event
from delivery.partitions import (
    Partition,
    day_partition_name,
    days_to_create,
    ensure_event_partitions,
    event_partitions,
)
from delivery.tracking import parsing
from delivery.tracking.recording import record_events
from tests.delivery.partition_helpers import past_day_partition, without_empty_upto_partition
from tests.delivery.tracking_helpers import send, track

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps a plain events table"
)


def at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


D = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("existing", "ahead", "expected"),
    [
        ([], 2, [D, D + timedelta(days=1), D + timedelta(days=2)]),
        ([Partition("p", at(D), at(D + timedelta(days=1)))], 1, [D + timedelta(days=1)]),
        # The pre-partitioning table covers everything up to its day.
        ([Partition("upto", None, at(D + timedelta(days=1)))], 1, [D + timedelta(days=1)]),
        ([Partition("p", at(D), at(D + timedelta(days=3)))], 2, []),
        # A partition that covers part of a day blocks that day (no overlapping partition).
        ([Partition("p", at(D, 12), at(D + timedelta(days=1), 12))], 1, []),
    ],
)
def test_days_to_create_are_the_uncovered_days_from_today(existing, ahead, expected):
    assert days_to_create(today=D, existing=existing, ahead=ahead) == expected


def partition_of(event: Event) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM delivery_event WHERE id = %s", [event.pk]
        )
        return cursor.fetchone()[0]


def record(workspace, *, received_at: datetime, message_id: str, sent_at: str | None = None):
    data = {"type": "track", "event": "Signed Up", "anonymousId": "anon-1", "messageId": message_id}
    if sent_at:
        data |= {"timestamp": "2026-01-01T00:00:00Z", "sentAt": sent_at}
    events = parsing.parse_events(data, route_type="track", received_at=received_at)
    return record_events(workspace_id=workspace.pk, events=events, received_at=received_at)


@postgresql_only
def test_migrate_leaves_partitions_for_today_and_the_next_week(db):
    # Run again here: the test database was migrated when the run began, maybe the day before
    # (a run across midnight UTC), and every migrate creates what is missing from today on.
    call_command("migrate", verbosity=0)
    today = timezone.now().astimezone(UTC).date()
    names = {partition.name for partition in event_partitions()}
    for offset in range(8):
        day = today + timedelta(days=offset)
        assert any(
            p.lower is not None
            and p.lower <= at(day)
            and p.upper >= at(day + timedelta(days=1))
            or p.lower is None
            and p.upper is not None
            and p.upper > at(day)
            for p in event_partitions()
        ), (day, names)


@postgresql_only
def test_a_tracked_event_lands_in_the_partition_of_the_day_it_was_received(client, workspace):
    # An old client timestamp does not send it to an old partition.
    response = send(
        client,
        "track",
        track(timestamp="2020-01-01T00:00:00Z", messageId="m-1"),
        write_key=workspace.write_key,
    )

    assert response.status_code == 200
    event = Event.objects.get()
    assert event.timestamp.year == 2020
    today = event.received_at.astimezone(UTC).date()
    assert partition_of(event) in {day_partition_name(today), *_upto_partitions()}


def _upto_partitions() -> set[str]:
    return {p.name for p in event_partitions() if p.lower is None}


@postgresql_only
def test_events_of_a_day_without_partition_wait_in_the_default_one_and_move_in_when_it_is_created(
    workspace,
):
    # Noon, so that the second event an hour later falls on the same day at any time of day.
    later = at(timezone.now().astimezone(UTC).date() + timedelta(days=40), 12)
    record(workspace, received_at=later, message_id="far-1")
    record(workspace, received_at=later + timedelta(hours=1), message_id="far-2")
    assert {partition_of(event) for event in Event.objects.all()} == {"delivery_event_default"}

    created = ensure_event_partitions(now=later, ahead=0)

    assert created == [day_partition_name(later.astimezone(UTC).date())]
    assert Event.objects.count() == 2
    assert {partition_of(event) for event in Event.objects.all()} == set(created)


@postgresql_only
def test_events_of_a_past_day_without_partition_get_one_from_the_next_maintenance(workspace):
    # The worker was down for longer than the week created ahead: those days' events wait in
    # the default partition, and get their partitions (so that retention compacts them).
    without_empty_upto_partition()
    day = timezone.now().astimezone(UTC).date() - timedelta(days=20)
    recorded = record(workspace, received_at=at(day, 15), message_id="m-1")

    created = tasks.maintain_event_partitions()["created"]

    assert day_partition_name(day) in created
    assert partition_of(Event.objects.get(pk=recorded.event_ids[0])) == day_partition_name(day)


@postgresql_only
def test_ensuring_partitions_twice_creates_nothing_the_second_time(db):
    later = timezone.now() + timedelta(days=60)
    assert len(ensure_event_partitions(now=later, ahead=2)) == 3
    assert ensure_event_partitions(now=later, ahead=2) == []


@postgresql_only
def test_a_days_partition_dropped_by_mistake_loses_no_acknowledged_event(workspace):
    tasks.maintain_event_partitions()  # the week ahead complete, even if the run began yesterday
    day = timezone.now().astimezone(UTC).date() + timedelta(days=2)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE "{day_partition_name(day)}"')

    recorded = record(workspace, received_at=at(day, 9), message_id="m-1")

    assert len(recorded.event_ids) == 1
    assert partition_of(Event.objects.get()) == "delivery_event_default"
    assert tasks.maintain_event_partitions()["created"] == [day_partition_name(day)]
    assert partition_of(Event.objects.get()) == day_partition_name(day)


@postgresql_only
def test_the_tracking_api_answers_503_with_retry_after_when_no_partition_takes_the_event(
    client, workspace
):
    now = timezone.now()
    covering = [
        p for p in event_partitions() if (p.lower is None or p.lower <= now) and p.upper > now
    ]
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE delivery_event DETACH PARTITION "delivery_event_default"')
        for partition in covering:
            cursor.execute(f'ALTER TABLE delivery_event DETACH PARTITION "{partition.name}"')

    response = send(client, "track", track(messageId="m-1"), write_key=workspace.write_key)

    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["error"] == "unavailable"
    assert Event.objects.count() == 0
    with connection.cursor() as cursor:
        cursor.execute(
            'ALTER TABLE delivery_event ATTACH PARTITION "delivery_event_default" DEFAULT'
        )
    # The retry the 503 asked for is stored.
    response = send(client, "track", track(messageId="m-1"), write_key=workspace.write_key)
    assert response.status_code == 200
    assert Event.objects.count() == 1


@postgresql_only
def test_events_received_on_a_past_day_land_in_its_partition(workspace):
    day = timezone.now().astimezone(UTC).date() - timedelta(days=45)
    name = past_day_partition(day)

    record(workspace, received_at=at(day, 10), message_id="old-1")

    assert partition_of(Event.objects.get()) == name
