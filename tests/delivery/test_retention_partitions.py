"""Retention on PostgreSQL: whole day partitions are compacted instead of events DELETEd one by
one, with what retention keeps (people's events, existing visitors') kept (delivery/retention.py)."""

from datetime import UTC, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from delivery.models import Event, Visitor
from delivery.partitions import Partition, event_partitions
from delivery.retention import compaction_horizon, partitions_to_compact, purge_anonymous_data
from tests.delivery.partition_helpers import at, partition_of_event, past_day_partition
from tests.factories import AnonymousMessageFactory, EventFactory, ProfileFactory, VisitorFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite keeps a plain events table"
    ),
]


def names() -> set[str]:
    return {partition.name for partition in event_partitions()}


def visitor(workspace, *, last_seen, **kwargs):
    return VisitorFactory(
        workspace=workspace, first_seen_at=last_seen, last_seen_at=last_seen, **kwargs
    )


def event(workspace, *, received_at, anonymous_id="", user_id=""):
    return EventFactory(
        workspace=workspace,
        anonymous_id=anonymous_id,
        user_id=user_id,
        timestamp=received_at,
        received_at=received_at,
    )


def test_an_old_days_partition_keeps_peoples_and_live_visitors_events_and_drops_the_rest(
    workspace,
):
    day = timezone.now().astimezone(UTC).date() - timedelta(days=40)
    name = past_day_partition(day)
    then = at(day, 10)
    expired = visitor(workspace, last_seen=then)
    dropped = [event(workspace, received_at=then, anonymous_id=expired.anonymous_id) for _ in "ab"]
    # A late event of the expired visitor, received today with an old timestamp.
    late = EventFactory(workspace=workspace, anonymous_id=expired.anonymous_id, timestamp=then)
    profile = ProfileFactory(workspace=workspace)
    identified = visitor(workspace, last_seen=then, profile=profile)
    kept = [
        event(workspace, received_at=then, anonymous_id=identified.anonymous_id),
        event(workspace, received_at=then, user_id=profile.user_id),
    ]
    returning = visitor(workspace, last_seen=timezone.now() - timedelta(days=1))
    kept.append(event(workspace, received_at=then, anonymous_id=returning.anonymous_id))

    purged = purge_anonymous_data()

    assert (purged.visitors, purged.events) == (1, 3)
    assert (purged.partitions, purged.events_in_partitions) == (1, 2)
    assert set(Event.objects.values_list("pk", flat=True)) == {e.pk for e in kept}
    assert name not in names() and f"{name}_kept" in names()
    assert {partition_of_event(e.pk) for e in kept} == {f"{name}_kept"}
    assert not Visitor.objects.filter(pk=expired.pk).exists()
    assert dropped and late


def test_a_compacted_partition_is_not_rewritten_again(workspace):
    day = timezone.now().astimezone(UTC).date() - timedelta(days=40)
    name = past_day_partition(day)
    profile = ProfileFactory(workspace=workspace)
    event(workspace, received_at=at(day, 3), user_id=profile.user_id)
    assert purge_anonymous_data().partitions == 1

    again = purge_anonymous_data()

    assert (again.visitors, again.events, again.partitions) == (0, 0, 0)
    assert f"{name}_kept" in names()
    assert Event.objects.count() == 1


def test_a_partition_that_keeps_nothing_is_dropped(workspace):
    day = timezone.now().astimezone(UTC).date() - timedelta(days=35)
    name = past_day_partition(day)
    expired = visitor(workspace, last_seen=at(day, 12))
    for _ in range(3):
        event(workspace, received_at=at(day, 12), anonymous_id=expired.anonymous_id)

    purged = purge_anonymous_data()

    assert (purged.visitors, purged.events, purged.partitions) == (1, 3, 1)
    assert not {name, f"{name}_kept"} & names()
    assert not Event.objects.exists()


def test_an_expired_visitors_events_go_with_their_partition_at_most_a_day_later(workspace):
    # Last seen 30 days and 2 hours ago: expired, but its day is not entirely past the
    # retention period yet, so its partition is compacted by a later run. At noon: before
    # 02:00 UTC, 30 days and 2 hours back is the previous day, already entirely past.
    now = at(timezone.now().astimezone(UTC).date(), 12)
    then = now - timedelta(days=30, hours=2)
    name = past_day_partition(then.astimezone(UTC).date())
    expired = visitor(workspace, last_seen=then)
    event(workspace, received_at=then, anonymous_id=expired.anonymous_id)

    first = purge_anonymous_data(now=now)
    assert (first.visitors, first.events) == (1, 0)
    assert Event.objects.count() == 1

    later = purge_anonymous_data(now=now + timedelta(days=1, hours=1))

    assert (later.visitors, later.events, later.partitions) == (0, 1, 1)
    assert not Event.objects.exists()
    assert name not in names()


def test_partitions_within_retention_are_left_alone(workspace):
    day = timezone.now().astimezone(UTC).date() - timedelta(days=10)
    name = past_day_partition(day)
    anonymous = visitor(workspace, last_seen=at(day, 8))
    event(workspace, received_at=at(day, 8), anonymous_id=anonymous.anonymous_id)

    purged = purge_anonymous_data()

    assert (purged.visitors, purged.events, purged.partitions) == (0, 0, 0)
    assert name in names()


def test_a_live_messages_longer_goal_window_holds_compaction_back(settings, workspace):
    settings.ANONMSG_RETENTION_DAYS = 1
    now = timezone.now()
    assert compaction_horizon(now=now) == now - timedelta(days=1)
    AnonymousMessageFactory(workspace=workspace, launched=True, goal_window_hours=720)
    assert compaction_horizon(now=now) == now - timedelta(days=30)


def test_partitions_to_compact_are_those_entirely_before_the_horizon_and_not_kept():
    horizon = at(timezone.now().date())
    day = timedelta(days=1)
    old = Partition("delivery_event_a", horizon - 2 * day, horizon - day)
    edge = Partition("delivery_event_b", horizon - day, horizon)
    straddling = Partition("delivery_event_c", horizon - day / 2, horizon + day / 2)
    kept = Partition("delivery_event_d_kept", horizon - 3 * day, horizon - 2 * day)
    legacy = Partition("delivery_event_upto_x", None, horizon - 3 * day)

    assert partitions_to_compact([legacy, kept, old, edge, straddling], horizon=horizon) == [
        legacy,
        old,
        edge,
    ]


def test_a_dry_run_counts_the_partitions_rows_without_touching_them(workspace, capsys):
    day = timezone.now().astimezone(UTC).date() - timedelta(days=40)
    name = past_day_partition(day)
    gone = visitor(workspace, last_seen=at(day, 1))
    event(workspace, received_at=at(day, 1), anonymous_id="never-had-a-visitor-row")
    event(workspace, received_at=at(day, 1), anonymous_id=gone.anonymous_id)

    call_command("purge_anonymous_data", "--dry-run")

    out = capsys.readouterr().out
    # The visitor's own event is counted once it is gone (the real run deletes it first).
    assert "Would delete 1 anonymous visitor(s) and 1 event(s)" in out
    assert name in names()
    assert Event.objects.count() == 2
    call_command("purge_anonymous_data")
    assert "Deleted 1 anonymous visitor(s) and 2 event(s)" in capsys.readouterr().out
    assert not Event.objects.exists()
