"""The rollup job adds each new row once (metrics/new_rows.py), whatever the order of commits,
chunks and runs, and always agrees with a recompute from raw data."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from metrics.models import MessageHourlyStats, MessageStatsVersion, RollupState
from metrics.ranges import floor_hour
from metrics.rollups import STATE_NAME, rebuild_rollups, roll_up
from tests.factories import AnonymousMessageFactory, MessageEventFactory, WorkspaceFactory
from tests.metrics.test_rollups import (
    H,
    expected_buckets,
    late_transaction,  # noqa: F401 (a fixture)
    seed_random_activity,
    settled,
    stored_buckets,
    views,
)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="snapshots and late commits are PostgreSQL's"
)


def add_up_runs_between_batches():
    workspace = WorkspaceFactory()
    rng = random.Random(11)
    messages = [AnonymousMessageFactory(workspace=workspace) for _ in range(2)]
    start = floor_hour(timezone.now()) - 6 * H
    for _ in range(4):
        seed_random_activity(rng, messages, start=start, hours=6, events=40)
        roll_up(now=settled(), chunk=7)
    assert stored_buckets() == expected_buckets(messages)
    rebuilt = rebuild_rollups(start=start - H, end=start + 7 * H)
    assert (rebuilt.buckets_written, rebuilt.buckets_deleted) == (0, 0)


def test_runs_between_batches_in_the_same_hours_add_up_to_the_recomputed_counts(db):
    """Every row in the test's own transaction: read by id past the last one counted."""
    add_up_runs_between_batches()


def test_runs_between_committed_batches_add_up_to_the_recomputed_counts(transactional_db):
    """Every row its own committed transaction: read by snapshot."""
    add_up_runs_between_batches()


@postgresql_only
def test_runs_while_an_old_transaction_is_open_read_only_the_new_rows(late_transaction):  # noqa: F811
    message = AnonymousMessageFactory(launched=True)
    now = timezone.now()
    # An open transaction holds the server's xmin back: every later commit is "in progress or
    # newer" to a watermark, but the job still reads each committed row once.
    late_transaction.start(lambda: MessageEventFactory(message=message, timestamp=now))
    for batch in range(1, 4):
        for _ in range(batch):
            MessageEventFactory(message=message, timestamp=now - batch * H)
        run = roll_up(now=now)
        assert run.events == batch
    assert views(message) == 1 + 2 + 3
    late_transaction.commit()
    assert roll_up(now=now).events == 1
    assert roll_up(now=now).events == 0
    assert views(message) == 7


@postgresql_only
def test_the_first_run_after_the_previous_job_recomputes_instead_of_adding_twice(db):
    message = AnonymousMessageFactory(launched=True)
    now = timezone.now()
    for n in range(5):
        MessageEventFactory(message=message, anonymous_id=f"a{n % 2}", timestamp=now - H)
    roll_up(now=now)
    before = stored_buckets()
    # What the previous job left: a position only, its rows at or past it already counted.
    state = RollupState.objects.get(name=STATE_NAME)
    state.progress = {}
    state.event_position = state.conversion_position = 1
    state.save()
    run = roll_up(now=now)
    assert run.events == 5
    assert stored_buckets() == before
    assert roll_up(now=now).events == 0


def test_every_change_of_a_messages_rollups_renews_its_stats_version(message):
    now = timezone.now()
    MessageEventFactory(message=message, timestamp=now - H)
    roll_up(now=now)
    first = MessageStatsVersion.objects.get(message=message).token
    roll_up(now=now)
    assert MessageStatsVersion.objects.get(message=message).token == first  # nothing new
    MessageEventFactory(message=message, timestamp=now - H)
    roll_up(now=now)
    second = MessageStatsVersion.objects.get(message=message).token
    assert second != first
    MessageHourlyStats.objects.filter(message=message).update(views=99)
    rebuild_rollups(start=now - 2 * H, end=now)
    assert MessageStatsVersion.objects.get(message=message).token != second
    assert views(message) == 2


def test_a_message_of_another_workspace_named_in_an_event_is_not_counted(message):
    MessageEventFactory(
        message=message, workspace=WorkspaceFactory(), timestamp=timezone.now() - timedelta(hours=1)
    )
    assert roll_up(now=timezone.now()).events == 1
    assert not MessageHourlyStats.objects.exists()
