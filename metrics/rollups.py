"""Hourly rollups of message events: what dashboards and the App API read.

`roll_up` is the scheduled job (every minute, django-q2). It keeps a watermark, the id of the
last raw event and of the last conversion it has counted (`RollupState`), reads only what came
after it, and recomputes the (message, hour) buckets those rows fall into from the raw data.
Watermarking by id rather than by event time catches late events (mobile batches, clock skew)
whatever hour they belong to. Rows received in the last few seconds are read again on the next
run, because a transaction that took a smaller id may not have committed yet.

`rebuild_rollups` recomputes every bucket of a time range (the management command).

Both recompute whole buckets from raw data and write only what differs, so running either
twice changes nothing. Buckets older than the retention period are never recomputed by the
scheduled job: their raw anonymous events may have been deleted, and counted numbers are kept.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from campaigns.models import AnonymousMessage
from delivery.models import Event
from metrics.message_events import CLICKED, DISMISSED, VIEWED
from metrics.models import Conversion, MessageHourlyStats, MessageViewerDay, RollupState
from metrics.ranges import HOUR, ceil_hour, floor_hour

STATE_NAME = "message-stats"
# Rows received this recently are read again next run (their neighbours may not be committed).
SETTLE = timedelta(seconds=30)
CHUNK = 50_000
ALL_HOURS = (1 << 24) - 1


@dataclass
class RollupRun:
    events: int = 0
    conversions: int = 0
    buckets_written: int = 0
    buckets_deleted: int = 0
    last_event_id: int = 0
    last_conversion_id: int = 0
    skipped_old_buckets: int = 0
    touched: set = field(default_factory=set, repr=False)


def viewer_key(anonymous_id: str, user_id: str = "") -> int:
    """A stable signed 64-bit key for a viewer (collisions are negligible below billions)."""
    text = anonymous_id or f"user:{user_id}"
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def retention_horizon(now: datetime) -> datetime:
    return floor_hour(now - timedelta(days=settings.ANONMSG_RETENTION_DAYS))


# --- The scheduled job ------------------------------------------------------------------------


def roll_up(*, now: datetime | None = None, chunk: int = CHUNK) -> RollupRun:
    """Count new raw events and conversions into their hourly buckets (idempotent)."""
    now = now or timezone.now()
    run = RollupRun()
    RollupState.objects.get_or_create(name=STATE_NAME)
    while True:
        with transaction.atomic():
            # The row lock serialises concurrent runs (schedule + command); runs are idempotent
            # anyway, this only saves work.
            state = RollupState.objects.select_for_update().get(name=STATE_NAME)
            events = list(
                Event.objects.filter(pk__gt=state.last_event_id, content_id__isnull=False)
                .order_by("pk")
                .values_list("pk", "content_id", "timestamp", "received_at")[:chunk]
            )
            conversions = list(
                Conversion.objects.filter(pk__gt=state.last_conversion_id)
                .order_by("pk")
                .values_list("pk", "message_id", "converted_at", "created_at")[:chunk]
            )
            touched = {(row[1], floor_hour(row[2])) for row in events + conversions}
            horizon = retention_horizon(now)
            recent = {(m, h) for m, h in touched if h >= horizon}
            run.skipped_old_buckets += len(touched) - len(recent)
            written, deleted = recompute_buckets(recent)
            run.buckets_written += written
            run.buckets_deleted += deleted
            run.touched |= recent

            old = (state.last_event_id, state.last_conversion_id)
            state.last_event_id = _settled_watermark(events, state.last_event_id, now)
            state.last_conversion_id = _settled_watermark(
                conversions, state.last_conversion_id, now
            )
            state.ran_at = now
            state.save()
            run.events += len(events)
            run.conversions += len(conversions)
            run.last_event_id, run.last_conversion_id = (
                state.last_event_id,
                state.last_conversion_id,
            )
        full = len(events) == chunk or len(conversions) == chunk
        if not full or (state.last_event_id, state.last_conversion_id) == old:
            return run


def _settled_watermark(rows: list[tuple], current: int, now: datetime) -> int:
    """The highest id below which every row is old enough that no earlier id can still appear."""
    for row in rows:
        if row[3] > now - SETTLE:
            break
        current = row[0]
    return current


# --- Rebuilding ---------------------------------------------------------------------------


def rebuild_rollups(
    *, start: datetime, end: datetime, message_ids: list[int] | None = None
) -> RollupRun:
    """Recompute every bucket of [start, end) (hours), for the given messages or all of them."""
    start, end = floor_hour(start), ceil_hour(end)
    messages = AnonymousMessage.objects.all()
    if message_ids is not None:
        messages = messages.filter(pk__in=message_ids)
    run = RollupRun()
    for message_id in messages.order_by("pk").values_list("pk", flat=True):
        hours = set()
        hour = start
        while hour < end:
            hours.add((message_id, hour))
            hour += HOUR
        written, deleted = recompute_buckets(hours)
        run.buckets_written += written
        run.buckets_deleted += deleted
    return run


# --- Recomputing buckets from raw data -------------------------------------------------------


def recompute_buckets(buckets: set[tuple[int, datetime]]) -> tuple[int, int]:
    """Recompute these (message_id, hour) buckets from raw events and conversions.

    Returns (rows written, rows deleted); rows whose counts did not change are not written.
    """
    if not buckets:
        return 0, 0
    workspace_of = dict(
        AnonymousMessage.objects.filter(pk__in={m for m, _ in buckets}).values_list(
            "pk", "workspace_id"
        )
    )
    hours_by_message = defaultdict(set)
    for message_id, hour in buckets:
        if message_id in workspace_of:
            hours_by_message[message_id].add(hour)
    written = deleted = 0
    for message_id, hours in sorted(hours_by_message.items()):
        for start, end in _day_ranges(sorted(hours)):
            w, d = _recompute_range(message_id, workspace_of[message_id], start, end)
            written += w
            deleted += d
    return written, deleted


def _day_ranges(hours: list[datetime]):
    """Group sorted hours into [start, end) ranges of consecutive hours within one UTC day."""
    start = previous = None
    for hour in hours:
        if start is not None and (hour != previous + HOUR or hour.date() != start.date()):
            yield start, previous + HOUR
            start = None
        if start is None:
            start = hour
        previous = hour
    if start is not None:
        yield start, previous + HOUR


def _empty_counts() -> dict:
    return {
        "views": 0,
        "unique_viewers": 0,
        "clicks": 0,
        "clicks_by_action": {},
        "dismissals": 0,
        "conversions": 0,
    }


def _recompute_range(
    message_id: int, workspace_id: int, start: datetime, end: datetime
) -> tuple[int, int]:
    computed = defaultdict(_empty_counts)
    events = Event.objects.filter(
        workspace_id=workspace_id, content_id=message_id, timestamp__gte=start, timestamp__lt=end
    ).order_by()
    grouped = (
        events.annotate(bucket=TruncHour("timestamp", tzinfo=UTC))
        .values("bucket", "action_type", "action_name")
        .annotate(n=Count("pk"))
    )
    for row in grouped:
        counts = computed[floor_hour(row["bucket"])]
        if row["action_type"] == VIEWED:
            counts["views"] += row["n"]
        elif row["action_type"] == CLICKED:
            counts["clicks"] += row["n"]
            by_action = counts["clicks_by_action"]
            by_action[row["action_name"]] = by_action.get(row["action_name"], 0) + row["n"]
        elif row["action_type"] == DISMISSED:
            counts["dismissals"] += row["n"]

    masks = defaultdict(int)  # viewer key -> hour bits within this UTC day
    viewers_by_hour = defaultdict(set)
    for anonymous_id, user_id, at in events.filter(action_type=VIEWED).values_list(
        "anonymous_id", "user_id", "timestamp"
    ):
        key = viewer_key(anonymous_id, user_id)
        hour = floor_hour(at)
        viewers_by_hour[hour].add(key)
        masks[key] |= 1 << hour.hour
    for hour, viewers in viewers_by_hour.items():
        computed[hour]["unique_viewers"] = len(viewers)

    conversions = (
        Conversion.objects.filter(
            message_id=message_id, converted_at__gte=start, converted_at__lt=end
        )
        .order_by()
        .annotate(bucket=TruncHour("converted_at", tzinfo=UTC))
        .values("bucket")
        .annotate(n=Count("pk"))
    )
    for row in conversions:
        computed[floor_hour(row["bucket"])]["conversions"] = row["n"]

    existing = {
        floor_hour(row.hour): row
        for row in MessageHourlyStats.objects.filter(
            message_id=message_id, hour__gte=start, hour__lt=end
        )
    }
    to_write = []
    for hour, counts in computed.items():
        row = existing.get(hour)
        if row is not None and row.counters() == counts:
            continue
        to_write.append(
            MessageHourlyStats(
                workspace_id=workspace_id, message_id=message_id, hour=hour, **counts
            )
        )
    stale = [row.pk for hour, row in existing.items() if hour not in computed]
    if to_write:
        MessageHourlyStats.objects.bulk_create(
            to_write,
            update_conflicts=True,
            unique_fields=["message", "hour"],
            update_fields=list(MessageHourlyStats.COUNTERS),
        )
    if stale:
        MessageHourlyStats.objects.filter(pk__in=stale).delete()
    _merge_viewer_masks(message_id, start.date(), masks)
    return len(to_write), len(stale)


def _merge_viewer_masks(message_id: int, day: date, masks: dict[int, int]) -> None:
    """Upsert viewer rows, OR-ing the hour bits (idempotent; never forgets a counted view)."""
    if not masks:
        return
    table = MessageViewerDay._meta.db_table
    items = sorted(masks.items())
    with connection.cursor() as cursor:
        for i in range(0, len(items), 1000):
            batch = items[i : i + 1000]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(batch))
            day_value = connection.ops.adapt_datefield_value(day)
            params = [p for key, mask in batch for p in (message_id, day_value, key, mask)]
            cursor.execute(
                f"INSERT INTO {table} (message_id, day, viewer, hours) VALUES {values} "
                f"ON CONFLICT (message_id, day, viewer) DO UPDATE "
                f"SET hours = {table}.hours | excluded.hours "
                f"WHERE ({table}.hours | excluded.hours) <> {table}.hours",
                params,
            )
