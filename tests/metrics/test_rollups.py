import random
import threading
from collections import defaultdict
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from metrics.models import Conversion, MessageHourlyStats, MessageViewerDay, RollupState
from metrics.ranges import floor_hour
from metrics.rollups import STATE_NAME, rebuild_rollups, roll_up
from metrics.summary import count_unique_viewers, headline_numbers
from metrics.viewer_sets import deserialize
from tests.factories import (
    AnonymousMessageFactory,
    EventFactory,
    MessageEventFactory,
    ProfileFactory,
    WorkspaceFactory,
)

H = timedelta(hours=1)
S = timedelta(seconds=1)
ACTIONS = ["viewed_content"] * 6 + ["clicked_content"] * 2 + ["dismissed_content"]


def seed_random_activity(rng, messages, *, start, hours, events):
    """Message events spread over `hours`, from a pool of visitors, plus noise that must not
    be counted: page views, and a forged event naming a message of another workspace."""
    visitors = [f"anon-{n}" for n in range(40)]
    for _ in range(events):
        message = rng.choice(messages)
        action = rng.choice(ACTIONS)
        MessageEventFactory(
            message=message,
            anonymous_id=rng.choice(visitors),
            timestamp=start + timedelta(seconds=rng.randrange(hours * 3600)),
            action_type=action,
            action_name=rng.choice(["signup", "learn-more"]) if action == "clicked_content" else "",
        )
    for _ in range(events // 10):
        EventFactory(
            workspace=messages[0].workspace, type="page", name="",
            timestamp=start + timedelta(seconds=rng.randrange(hours * 3600)),
        )  # fmt: skip
    EventFactory(
        workspace=WorkspaceFactory(),
        name="Report Content Event",
        content_id=messages[0].pk,
        action_type="viewed_content",
        timestamp=start + H,
    )
    for message in messages:
        for _ in range(rng.randrange(3, 8)):
            Conversion.objects.create(
                workspace=message.workspace,
                message=message,
                profile=ProfileFactory(workspace=message.workspace),
                trigger="click",
                triggered_at=start,
                anonymous_id="x",
                identified_at=start,
                converted_at=start + timedelta(seconds=rng.randrange(hours * 3600)),
            )


def expected_buckets(messages) -> dict:
    """Every non-empty (message, hour) bucket, recomputed straight from raw rows."""
    expected = defaultdict(
        lambda: {
            "views": 0, "viewers": set(), "clicks": 0, "clicks_by_action": defaultdict(int),
            "dismissals": 0, "conversions": 0,
        }
    )  # fmt: skip
    for message in messages:
        for event in message.workspace.events.filter(content_id=message.pk):
            bucket = expected[message.pk, floor_hour(event.timestamp)]
            if event.action_type == "viewed_content":
                bucket["views"] += 1
                bucket["viewers"].add(event.anonymous_id)
            elif event.action_type == "clicked_content":
                bucket["clicks"] += 1
                bucket["clicks_by_action"][event.action_name] += 1
            elif event.action_type == "dismissed_content":
                bucket["dismissals"] += 1
        for conversion in Conversion.objects.filter(message=message):
            expected[message.pk, floor_hour(conversion.converted_at)]["conversions"] += 1
    return {
        key: {
            "views": b["views"],
            "unique_viewers": len(b["viewers"]),
            "clicks": b["clicks"],
            "clicks_by_action": dict(b["clicks_by_action"]),
            "dismissals": b["dismissals"],
            "conversions": b["conversions"],
        }
        for key, b in expected.items()
    }


def stored_buckets() -> dict:
    stored = {}
    for row in MessageHourlyStats.objects.all():
        counts = row.counters()
        assert len(deserialize(counts.pop("viewer_set"))) == counts["unique_viewers"]
        stored[row.message_id, row.hour] = counts
    return stored


def snapshot():
    return (
        sorted((row.pk, row.message_id, row.hour, repr(row.counters())) for row in MessageHourlyStats.objects.all()),
        sorted(
            (m, d, n, bytes(v))
            for m, d, n, v in MessageViewerDay.objects.values_list(
                "message_id", "day", "viewer_count", "viewer_set"
            )
        ),
    )  # fmt: skip


@pytest.fixture
def activity(workspace):
    rng = random.Random(20260301)
    messages = [AnonymousMessageFactory(workspace=workspace) for _ in range(2)]
    start = floor_hour(timezone.now()) - timedelta(hours=50)
    seed_random_activity(rng, messages, start=start, hours=50, events=600)
    return messages, start, rng


def settled():
    return timezone.now() + timedelta(minutes=5)


def test_every_bucket_equals_the_count_recomputed_from_raw_events(activity):
    messages, _, _ = activity
    roll_up(now=settled())
    assert stored_buckets() == expected_buckets(messages)


def test_unique_viewers_over_any_range_equal_distinct_viewers_in_raw_events(activity):
    messages, start, rng = activity
    roll_up(now=settled())
    for _ in range(25):
        first = start + rng.randrange(0, 50) * H
        last = first + rng.randrange(1, 51) * H
        for message in messages:
            raw = set(
                message.workspace.events.filter(
                    content_id=message.pk, action_type="viewed_content",
                    timestamp__gte=first, timestamp__lt=last,
                ).values_list("anonymous_id", flat=True)
            )  # fmt: skip
            counted = count_unique_viewers(message_id=message.pk, start=first, end=last)
            assert counted == len(raw), (first, last)


def test_rerunning_the_job_or_rebuilding_the_range_changes_nothing(activity):
    messages, start, _ = activity
    first = roll_up(now=settled())
    assert first.buckets_written > 0
    before = snapshot()

    # This test's rows belong to one transaction, still open: the job reads them by id, once.
    again = roll_up(now=settled())
    assert (again.buckets_written, again.buckets_deleted) == (0, 0)
    rebuilt = rebuild_rollups(start=start - H, end=start + 52 * H)
    assert (rebuilt.buckets_written, rebuilt.buckets_deleted) == (0, 0)
    assert snapshot() == before


def test_rebuild_repairs_damaged_buckets(activity):
    messages, start, _ = activity
    roll_up(now=settled())
    expected = stored_buckets()
    MessageHourlyStats.objects.filter(pk__in=MessageHourlyStats.objects.values("pk")[:5]).update(
        views=999
    )
    MessageHourlyStats.objects.create(
        workspace=messages[0].workspace, message=messages[0], hour=start - 10 * H, views=5
    )
    run = rebuild_rollups(start=start - 24 * H, end=start + 52 * H)
    assert (run.buckets_written, run.buckets_deleted) == (5, 1)
    assert stored_buckets() == expected


def test_the_job_counts_an_event_once_however_often_it_runs(message):
    now = timezone.now()
    MessageEventFactory(message=message, timestamp=now - 2 * H, received_at=now - 2 * H)
    for _ in range(3):
        roll_up(now=now)
        assert MessageHourlyStats.objects.get(message=message).views == 1
    assert RollupState.objects.get(name=STATE_NAME).ran_at == now


def test_a_late_event_for_an_old_hour_is_counted_in_that_hour(message):
    now = timezone.now()
    MessageEventFactory(message=message, timestamp=now - 5 * H, received_at=now - H)
    roll_up(now=now)
    # Sent much later by an offline mobile app, with its original timestamp:
    MessageEventFactory(message=message, timestamp=now - 5 * H, received_at=now)
    roll_up(now=now + H)
    [bucket] = MessageHourlyStats.objects.filter(message=message)
    assert (bucket.hour, bucket.views) == (floor_hour(now - 5 * H), 2)


def test_events_received_moments_ago_are_counted_at_once(message):
    now = timezone.now()
    MessageEventFactory(message=message, received_at=now - H, timestamp=now - H)
    MessageEventFactory(message=message, received_at=now, timestamp=now)
    roll_up(now=now)
    assert sum(MessageHourlyStats.objects.values_list("views", flat=True)) == 2


# --- Late commits (issue 10, finding 8) -----------------------------------------------------


@pytest.fixture
def late_transaction(transactional_db):
    """Runs a function in another thread, on its own connection, in a transaction that stays
    open until `commit()`: a tracking request whose batch waits on a lock."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: no transaction can commit late there")

    class Late:
        def start(self, insert):
            self.inserted, self.release = threading.Event(), threading.Event()
            self.error = None
            self.thread = threading.Thread(target=self._run, args=(insert,))
            self.thread.start()
            assert self.inserted.wait(10), self.error

        def _run(self, insert):
            try:
                with transaction.atomic():
                    insert()
                    self.inserted.set()
                    self.release.wait(30)
            except Exception as exc:  # reported by the test thread
                self.error = exc
            finally:
                connection.close()

        def commit(self):
            self.release.set()
            self.thread.join(10)
            assert self.error is None, self.error

    late = Late()
    yield late
    if hasattr(late, "release"):
        late.release.set()
        late.thread.join(10)


def views(message) -> int:
    return sum(MessageHourlyStats.objects.filter(message=message).values_list("views", flat=True))


def test_a_batch_committed_late_is_counted_once_it_commits(late_transaction):
    message = AnonymousMessageFactory(launched=True)
    now = timezone.now()
    # A batch received a minute ago takes the smaller ids, and its transaction stays open...
    late_transaction.start(
        lambda: [
            MessageEventFactory(message=message, received_at=now - 60 * S, timestamp=now - 60 * S)
            for _ in range(10)
        ]
    )
    # ...while a later batch commits at once with larger ids, and the job runs.
    MessageEventFactory(message=message, received_at=now - 50 * S, timestamp=now - 50 * S)
    roll_up(now=now)
    assert views(message) == 1

    late_transaction.commit()
    roll_up(now=now + 60 * S)
    assert views(message) == 11
    roll_up(now=now + 120 * S)
    assert views(message) == 11  # read again, counted once


def test_a_conversion_committed_late_is_counted_once_it_commits(late_transaction):
    message = AnonymousMessageFactory(launched=True)
    now = timezone.now()

    def convert():
        return Conversion.objects.create(
            workspace=message.workspace,
            message=message,
            profile=ProfileFactory(workspace=message.workspace),
            trigger="click",
            triggered_at=now,
            anonymous_id="x",
            identified_at=now,
            converted_at=now,
        )

    late_transaction.start(convert)
    convert()
    roll_up(now=now + 60 * S)  # both were created over 30 s before this run, one is not committed
    late_transaction.commit()
    roll_up(now=now + 120 * S)
    roll_up(now=now + 180 * S)
    assert MessageHourlyStats.objects.get(message=message).conversions == 2


def test_a_rolled_back_batch_is_never_counted(late_transaction):
    message = AnonymousMessageFactory(launched=True)
    now = timezone.now()

    def insert_then_fail():
        MessageEventFactory(message=message, timestamp=now)
        raise RuntimeError("the request failed")

    late_transaction.start(lambda: (MessageEventFactory(message=message, timestamp=now), None))
    late_transaction.commit()
    with pytest.raises(RuntimeError), transaction.atomic():
        insert_then_fail()
    roll_up(now=now)
    roll_up(now=now + 60 * S)
    assert views(message) == 1


def test_a_chunked_run_counts_every_commit_and_a_late_one_after_it_commits(late_transaction):
    message = AnonymousMessageFactory(launched=True)
    now = timezone.now()
    late_transaction.start(
        lambda: [MessageEventFactory(message=message, timestamp=now) for _ in range(3)]
    )
    for _ in range(5):  # five requests, five transactions, committed at once
        MessageEventFactory(message=message, timestamp=now)
    roll_up(now=now, chunk=2)
    assert views(message) == 5
    late_transaction.commit()
    roll_up(now=now, chunk=2)
    roll_up(now=now, chunk=2)
    assert views(message) == 8


def test_the_job_reads_in_chunks_without_losing_rows_that_share_a_transaction(message):
    now = timezone.now()
    for minute in range(7):
        MessageEventFactory(message=message, timestamp=now - minute * 60 * S)
    run = roll_up(now=now, chunk=2)
    assert run.events == 7
    assert views(message) == 7


def test_the_scheduled_job_leaves_buckets_older_than_retention_alone(message, settings):
    settings.ANONMSG_RETENTION_DAYS = 30
    now = timezone.now()
    old_hour = floor_hour(now - timedelta(days=40))
    MessageHourlyStats.objects.create(
        workspace=message.workspace, message=message, hour=old_hour, views=120
    )
    MessageEventFactory(message=message, timestamp=old_hour, received_at=now - H)
    run = roll_up(now=now)
    assert run.skipped_old_buckets == 1
    assert MessageHourlyStats.objects.get(message=message, hour=old_hour).views == 120


def test_headline_numbers_sum_all_time_rollups_in_one_query(workspace, django_assert_num_queries):
    messages = [AnonymousMessageFactory(workspace=workspace) for _ in range(3)]
    hour = floor_hour(timezone.now())
    for n, message in enumerate(messages[:2]):
        for k in range(3):
            MessageHourlyStats.objects.create(
                workspace=workspace, message=message, hour=hour - k * H,
                views=10 * (n + 1), clicks=n + 1, conversions=n,
            )  # fmt: skip
    foreign = AnonymousMessageFactory()
    MessageHourlyStats.objects.create(
        workspace=foreign.workspace, message=foreign, hour=hour, views=7
    )
    with django_assert_num_queries(1):
        numbers = headline_numbers(
            workspace=workspace, message_ids=[m.pk for m in messages] + [foreign.pk]
        )
    assert numbers[messages[0].pk] == {"views": 30, "clicks": 3, "conversions": 0}
    assert numbers[messages[1].pk] == {"views": 60, "clicks": 6, "conversions": 3}
    assert numbers[messages[2].pk] == {"views": 0, "clicks": 0, "conversions": 0}
    assert numbers[foreign.pk] == {"views": 0, "clicks": 0, "conversions": 0}


def test_rebuild_command_rebuilds_a_range_and_reports_it(activity, capsys):
    messages, start, _ = activity
    call_command(
        "rebuild_rollups", "--from", f"{start:%Y-%m-%d}", "--to", f"{timezone.now():%Y-%m-%d}"
    )
    assert stored_buckets() == expected_buckets(messages)
    assert "buckets written" in capsys.readouterr().out


def test_rebuild_command_refuses_a_range_older_than_retention_without_force(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="retention"):
        call_command("rebuild_rollups", "--from", "2000-01-01", "--to", "2000-01-02")
    with pytest.raises(CommandError, match="not a date"):
        call_command("rebuild_rollups", "--from", "yesterday")
    call_command("rebuild_rollups", "--from", "2000-01-01", "--to", "2000-01-02", "--force")


def test_action_names_beyond_fifty_add_up_under_other(message):
    now = timezone.now()
    for n in range(55):
        for _ in range(2 if n < 10 else 1):
            MessageEventFactory(
                message=message, click=True, action_name=f"action-{n:02}", timestamp=now - H
            )
    roll_up(now=now + H)
    [bucket] = MessageHourlyStats.objects.all()
    assert len(bucket.clicks_by_action) == 50
    assert bucket.clicks_by_action["action-00"] == 2
    assert bucket.clicks_by_action["(other)"] == 6
    assert sum(bucket.clicks_by_action.values()) == bucket.clicks == 65
    assert rebuild_rollups(start=now - 2 * H, end=now + H).buckets_written == 0
