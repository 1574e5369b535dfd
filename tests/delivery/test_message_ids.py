"""Deduplication by (workspace, messageId) for 7+ days, across partitions and retries whose
corrected timestamps differ (delivery/tracking/message_ids.py)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from delivery.models import Event
from delivery.tracking import parsing
from delivery.tracking.message_ids import (
    EPOCH,
    WEEK,
    checked_generation,
    claim_generations,
    idle_generation,
    prune_message_ids,
    week_of,
)
from delivery.tracking.recording import record_events
from tests.delivery.tracking_helpers import send, track

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite deduplicates with its unique index"
)

# A week boundary (Thursday 00:00 UTC) and its generations: week W is generation W % 3.
BOUNDARY = EPOCH + 2935 * WEEK  # 2026-04-02
assert BOUNDARY.weekday() == 3 and 2935 % 3 == 1
S = timedelta(seconds=1)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("at", "claims", "checks", "idle"),
    [
        (BOUNDARY - S, (0,), 2, None),  # last second of week 2934 (generation 0)
        (BOUNDARY, (0, 1), 0, None),  # the first hour claims in last week's generation too
        (BOUNDARY + 59 * 60 * S, (0, 1), 0, None),
        (BOUNDARY + H, (1,), 0, 2),
        (BOUNDARY + 3 * 24 * H, (1,), 0, 2),
        (BOUNDARY + WEEK - H - S, (1,), 0, 2),
        (BOUNDARY + WEEK - H + S, (1,), 0, None),  # too close to the next boundary to empty 2
    ],
)
def test_generations_claimed_checked_and_emptied(at, claims, checks, idle):
    assert claim_generations(at) == claims
    assert checked_generation(at) == checks
    assert idle_generation(at) == idle


def test_no_moment_empties_a_generation_that_is_claimed_or_checked():
    at = BOUNDARY - 2 * WEEK
    while at < BOUNDARY + 2 * WEEK:
        idle = idle_generation(at)
        for moment in (at - H + S, at, at + H - S):  # nodes whose clocks are off by < 1 h
            assert idle not in {*claim_generations(moment), checked_generation(moment)}
        at += 10 * 60 * S


def record(workspace, message_id: str, *, received_at: datetime, timestamp: str | None = None):
    data = {"type": "track", "event": "Signed Up", "anonymousId": "anon-1", "messageId": message_id}
    if timestamp:
        data |= {"timestamp": timestamp, "sentAt": timestamp}
    events = parsing.parse_events(data, route_type="track", received_at=received_at)
    return record_events(workspace_id=workspace.pk, events=events, received_at=received_at)


def test_a_retry_with_a_new_sent_at_is_stored_once(client, workspace):
    first = track(messageId="m-1", timestamp="2026-05-01T10:00:00Z", sentAt="2026-05-01T10:00:01Z")
    retry = {**first, "type": "track", "sentAt": "2026-05-01T12:00:00Z"}  # another timestamp

    assert send(client, "track", first, write_key=workspace.write_key).status_code == 200
    assert (
        send(client, "batch", {"batch": [retry]}, write_key=workspace.write_key).status_code == 200
    )

    assert Event.objects.count() == 1


def test_the_same_message_id_in_another_workspace_is_another_event(workspace):
    from tests.factories import WorkspaceFactory

    now = timezone.now()
    assert record(workspace, "m-1", received_at=now).event_ids
    assert record(WorkspaceFactory(), "m-1", received_at=now).event_ids


@postgresql_only
def test_a_retry_received_the_next_day_in_another_partition_is_a_duplicate(workspace):
    midnight = datetime.combine(
        timezone.now().astimezone(UTC).date() + timedelta(days=3), datetime.min.time(), UTC
    )
    assert record(workspace, "m-1", received_at=midnight - S).event_ids
    retry = record(workspace, "m-1", received_at=midnight + S)

    assert (retry.event_ids, retry.duplicates) == ([], 1)
    assert Event.objects.count() == 1


@postgresql_only
@pytest.mark.parametrize(
    "first_offset",
    [timedelta(0), 30 * 60 * S, H + S, 3 * 24 * H, WEEK - H, WEEK - S],
    ids=["boundary", "overlap", "after-overlap", "mid-week", "last-hour", "last-second"],
)
def test_a_retry_up_to_7_days_later_is_a_duplicate_whatever_is_pruned_meanwhile(
    workspace, first_offset
):
    first = BOUNDARY + first_offset
    assert record(workspace, "m-1", received_at=first).event_ids
    at = first
    while at < first + WEEK:
        prune_message_ids(now=at)
        at += 3 * H
    prune_message_ids(now=first + WEEK)

    retry = record(workspace, "m-1", received_at=first + WEEK)

    assert retry.duplicates == 1
    assert Event.objects.count() == 1


@postgresql_only
def test_ids_are_forgotten_once_their_generation_is_emptied_two_weeks_later(workspace):
    first = BOUNDARY + 2 * H
    record(workspace, "m-1", received_at=first)

    assert prune_message_ids(now=first + 2 * WEEK) == week_of(first) % 3

    assert record(workspace, "m-1", received_at=first + 2 * WEEK).event_ids


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_requests_on_both_sides_of_a_week_boundary_cannot_both_store_an_id():
    """The last request of a week (claiming in its generation only) is still open when the
    first of the next (claiming in both) sends the same id: the second waits, and loses."""
    from tests.factories import WorkspaceFactory

    workspace = WorkspaceFactory()
    claimed = threading.Event()
    results = {}

    def last_of_week():
        try:
            with transaction.atomic():
                results["old"] = record(workspace, "m-1", received_at=BOUNDARY - S)
                claimed.set()
                threading.Event().wait(0.5)  # still open while the other request arrives
        finally:
            connections.close_all()

    def first_of_week():
        try:
            claimed.wait(5)
            results["new"] = record(workspace, "m-1", received_at=BOUNDARY + S)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=last_of_week), threading.Thread(target=first_of_week)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert len(results["old"].event_ids) == 1
    assert results["new"].duplicates == 1
    assert Event.objects.count() == 1
    assert connection.vendor == "postgresql"
