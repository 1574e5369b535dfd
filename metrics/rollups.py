"""Hourly rollups of message events: what dashboards and the App API read.

`roll_up` is the scheduled job (every minute, django-q2). It keeps a watermark in commit order
(`RollupState`, anonmsg/commit_order.py): the position below which every raw message event
and conversion has been counted. Each run reads the rows at or past it, recomputes the
(message, hour) buckets they fall into from the raw data, and moves the watermark to the
oldest transaction still running when it started. A batch whose transaction commits late (a
held lock, a slow request) is read by the first run after its commit, however late: an id
watermark skipped it (issue 10, finding 8). Reading rows by arrival rather than by event time
also catches late events (mobile batches, clock skew) whatever hour they belong to. Rows of
transactions that were still running are read again by the next run.

`rebuild_rollups` recomputes every bucket of a time range (the management command).

Both recompute whole buckets from raw data and write only what differs, so reading a row
twice, or running either twice, changes nothing. Buckets older than the retention period are
never recomputed by the scheduled job: their raw anonymous events may have been deleted, and
counted numbers are kept.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone
from pyroaring import BitMap64

from anonmsg import commit_order
from campaigns.models import AnonymousMessage
from delivery.models import Event, Visitor
from metrics import viewer_sets
from metrics.message_events import CLICKED, DISMISSED, VIEWED
from metrics.models import Conversion, MessageHourlyStats, MessageViewerDay, RollupState
from metrics.ranges import HOUR, ceil_hour, floor_hour

STATE_NAME = "message-stats"
CHUNK = 50_000
# Distinct action names kept per bucket (names come from SDKs); the rest add up under OTHER.
MAX_ACTIONS = 50
OTHER_ACTIONS = "(other)"


@dataclass
class RollupRun:
    events: int = 0
    conversions: int = 0
    buckets_written: int = 0
    buckets_deleted: int = 0
    event_position: int = 0
    conversion_position: int = 0
    skipped_old_buckets: int = 0


def retention_horizon(now: datetime) -> datetime:
    return floor_hour(now - timedelta(days=settings.ANONMSG_RETENTION_DAYS))


# --- The scheduled job ------------------------------------------------------------------------


@dataclass
class _Scan:
    """One table's rows at or past a position, read in commit order a chunk at a time."""

    rows: QuerySet
    fields: tuple[str, ...]
    position: int
    horizon: int
    after: tuple[int, int] | None = None  # (position, pk) of the last row read
    done: bool = False

    def next_chunk(self, chunk: int) -> list[tuple]:
        """The next rows as (position, pk, *fields); moves `position` past what was read."""
        if self.done:
            return []
        rows = self.rows.annotate(position=F(commit_order.position_field()))
        fields = ("position", "pk", *self.fields)
        found = []
        if self.after is not None:
            # The rest of the last position first (one transaction may have inserted many rows):
            # two index range scans rather than an OR the planner cannot use.
            at, pk = self.after
            same = rows.filter(position=at, pk__gt=pk).order_by("pk")
            found = list(same.values_list(*fields)[:chunk])
        if len(found) < chunk:
            if self.after is None:
                later = rows.filter(position__gte=self.position)
            else:
                later = rows.filter(position__gt=self.after[0])
            found += later.order_by("position", "pk").values_list(*fields)[: chunk - len(found)]
        if len(found) < chunk:
            # Everything committed below the horizon has now been read.
            self.position, self.done = max(self.position, self.horizon), True
        else:
            # Rows sharing the last row's position may follow in the next chunk.
            self.after = found[-1][:2]
            self.position = max(self.position, min(self.horizon, found[-1][0]))
        return found


def roll_up(*, now: datetime | None = None, chunk: int = CHUNK) -> RollupRun:
    """Count new raw events and conversions into their hourly buckets (idempotent)."""
    now = now or timezone.now()
    run = RollupRun()
    RollupState.objects.get_or_create(name=STATE_NAME)
    events = conversions = None
    while True:
        with transaction.atomic():
            # The row lock serialises concurrent runs (schedule + command); runs are idempotent
            # anyway, this only saves work.
            state = RollupState.objects.select_for_update().get(name=STATE_NAME)
            if events is None:
                events = _Scan(
                    Event.objects.filter(content_id__isnull=False),
                    ("content_id", "timestamp"),
                    state.event_position,
                    commit_order.horizon(Event),
                )
                conversions = _Scan(
                    Conversion.objects.all(),
                    ("message_id", "converted_at"),
                    state.conversion_position,
                    commit_order.horizon(Conversion),
                )
            event_rows = events.next_chunk(chunk)
            conversion_rows = conversions.next_chunk(chunk)
            touched = {(row[2], floor_hour(row[3])) for row in event_rows + conversion_rows}
            horizon = retention_horizon(now)
            recent = {(m, h) for m, h in touched if h >= horizon}
            run.skipped_old_buckets += len(touched) - len(recent)
            written, deleted = recompute_buckets(recent)
            run.buckets_written += written
            run.buckets_deleted += deleted

            # A concurrent run may have got further: a position never goes back.
            state.event_position = max(state.event_position, events.position)
            state.conversion_position = max(state.conversion_position, conversions.position)
            state.ran_at = now
            state.save()
            run.events += len(event_rows)
            run.conversions += len(conversion_rows)
            run.event_position = state.event_position
            run.conversion_position = state.conversion_position
        if events.done and conversions.done:
            return run


# --- Rebuilding ---------------------------------------------------------------------------


def rebuild_rollups(
    *, start: datetime, end: datetime, message_ids: list[int] | None = None
) -> RollupRun:
    """Recompute every bucket of [start, end) (hours), for the given messages or all of them."""
    start, end = floor_hour(start), ceil_hour(end)
    messages = AnonymousMessage.objects.all()
    if message_ids is not None:
        messages = messages.filter(pk__in=message_ids)
    ids = list(messages.order_by("pk").values_list("pk", flat=True))
    run = RollupRun()
    span_start = start
    while span_start < end:
        span_end = min(end, span_start + MAX_SPAN)
        hours = []
        hour = span_start
        while hour < span_end:
            hours.append(hour)
            hour += HOUR
        with transaction.atomic():
            # The rollup job's lock: a concurrent run does not merge the same rows meanwhile.
            RollupState.objects.get_or_create(name=STATE_NAME)
            RollupState.objects.select_for_update().get(name=STATE_NAME)
            written, deleted = recompute_buckets({(m, h) for m in ids for h in hours})
        run.buckets_written += written
        run.buckets_deleted += deleted
        span_start = span_end
    return run


# --- Recomputing buckets from raw data -------------------------------------------------------

DAY = timedelta(days=1)
# Touched hours closer than this are recomputed together (one set of queries); a span is at
# most MAX_SPAN long, which bounds the rows read at once.
SPAN_GAP = timedelta(hours=6)
MAX_SPAN = timedelta(hours=24)


def recompute_buckets(buckets: set[tuple[int, datetime]]) -> tuple[int, int]:
    """Recompute these (message_id, hour) buckets from raw events and conversions.

    Set-based: touched hours are grouped into spans, and every bucket of (the span's
    messages × the span's hours) is recomputed with a handful of queries. Returns (rows
    written, rows deleted); rows whose counts did not change are not written.
    """
    if not buckets:
        return 0, 0
    workspace_of = dict(
        AnonymousMessage.objects.filter(pk__in={m for m, _ in buckets}).values_list(
            "pk", "workspace_id"
        )
    )
    touched = [(m, h) for m, h in buckets if m in workspace_of]
    written = deleted = 0
    for start, end in _spans(sorted({h for _, h in touched})):
        messages = {m: workspace_of[m] for m, h in touched if start <= h < end}
        w, d = _recompute_span(messages, start, end)
        written += w
        deleted += d
    return written, deleted


def _spans(hours: list[datetime]):
    """Group sorted hours into [start, end) spans: gaps under SPAN_GAP, length ≤ MAX_SPAN."""
    start = previous = None
    for hour in hours:
        if start is not None and (hour - previous > SPAN_GAP or hour + HOUR - start > MAX_SPAN):
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
        "viewer_set": b"",
    }


def _recompute_span(messages: dict[int, int], start: datetime, end: datetime) -> tuple[int, int]:
    """Recompute every bucket of these messages ({id: workspace id}) in [start, end)."""
    by_workspace = defaultdict(list)
    for message_id, workspace_id in messages.items():
        by_workspace[workspace_id].append(message_id)
    # A message's events are only those of its own workspace.
    of_messages = Q()
    for workspace_id, message_ids in by_workspace.items():
        of_messages |= Q(workspace_id=workspace_id, content_id__in=sorted(message_ids))
    events = Event.objects.filter(of_messages, timestamp__gte=start, timestamp__lt=end).order_by()

    computed = defaultdict(_empty_counts)  # (message_id, hour) -> counts
    grouped = (
        events.annotate(bucket=TruncHour("timestamp", tzinfo=UTC))
        .values("content_id", "bucket", "action_type", "action_name")
        .annotate(n=Count("pk"))
    )
    for row in grouped:
        counts = computed[row["content_id"], floor_hour(row["bucket"])]
        if row["action_type"] == VIEWED:
            counts["views"] += row["n"]
        elif row["action_type"] == CLICKED:
            counts["clicks"] += row["n"]
            by_action = counts["clicks_by_action"]
            by_action[row["action_name"]] = by_action.get(row["action_name"], 0) + row["n"]
        elif row["action_type"] == DISMISSED:
            counts["dismissals"] += row["n"]

    for counts in computed.values():
        counts["clicks_by_action"] = _capped(counts["clicks_by_action"])

    # Viewers are visitor ids (dense integers: compact roaring bitmaps). The tracking API
    # creates a visitor for every anonymous id it records, in the same transaction.
    views = list(
        events.filter(action_type=VIEWED)
        .exclude(anonymous_id="")
        .values_list("workspace_id", "content_id", "anonymous_id", "timestamp")
        .iterator(chunk_size=10_000)
    )
    visitor_ids = _visitor_ids({(workspace_id, anon) for workspace_id, _, anon, _ in views})
    viewer_sets_by_bucket = defaultdict(BitMap64)
    for workspace_id, message_id, anonymous_id, at in views:
        visitor_id = visitor_ids.get((workspace_id, anonymous_id))
        if visitor_id is not None:
            viewer_sets_by_bucket[message_id, floor_hour(at)].add(visitor_id)
    del views
    for bucket, viewers in viewer_sets_by_bucket.items():
        computed[bucket]["unique_viewers"] = len(viewers)
        computed[bucket]["viewer_set"] = viewer_sets.serialize(viewers)

    conversions = (
        Conversion.objects.filter(
            message_id__in=list(messages), converted_at__gte=start, converted_at__lt=end
        )
        .order_by()
        .annotate(bucket=TruncHour("converted_at", tzinfo=UTC))
        .values("message_id", "bucket")
        .annotate(n=Count("pk"))
    )
    for row in conversions:
        computed[row["message_id"], floor_hour(row["bucket"])]["conversions"] = row["n"]

    existing = {
        (row.message_id, floor_hour(row.hour)): row
        for row in MessageHourlyStats.objects.filter(
            message_id__in=list(messages), hour__gte=start, hour__lt=end
        )
    }
    to_write = [
        MessageHourlyStats(
            workspace_id=messages[message_id], message_id=message_id, hour=hour, **counts
        )
        for (message_id, hour), counts in sorted(computed.items())
        if (message_id, hour) not in existing or existing[message_id, hour].counters() != counts
    ]
    stale = [row.pk for key, row in existing.items() if key not in computed]
    if to_write:
        MessageHourlyStats.objects.bulk_create(
            to_write,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["message", "hour"],
            update_fields=list(MessageHourlyStats.COUNTERS),
        )
    if stale:
        MessageHourlyStats.objects.filter(pk__in=stale).delete()
    _recompute_days(messages, start, end)
    return len(to_write), len(stale)


def _visitor_ids(keys: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """{(workspace id, anonymous id): visitor id}, looked up in chunks on the unique index."""
    by_workspace = defaultdict(list)
    for workspace_id, anonymous_id in keys:
        by_workspace[workspace_id].append(anonymous_id)
    found = {}
    for workspace_id, anonymous_ids in by_workspace.items():
        anonymous_ids.sort()
        for i in range(0, len(anonymous_ids), 5000):
            rows = Visitor.objects.filter(
                workspace_id=workspace_id, anonymous_id__in=anonymous_ids[i : i + 5000]
            ).values_list("anonymous_id", "pk")
            found.update(((workspace_id, anonymous_id), pk) for anonymous_id, pk in rows)
    return found


def _recompute_days(messages: dict[int, int], start: datetime, end: datetime) -> None:
    """Rebuild the day viewer sets of the UTC days [start, end) touches, as the union of their
    hours' sets; only rows that change are written."""
    first = datetime.combine(start.date(), datetime.min.time(), tzinfo=UTC)
    last = datetime.combine((end - HOUR).date(), datetime.min.time(), tzinfo=UTC) + DAY
    hours_by_day = defaultdict(list)
    for message_id, hour, viewer_set in MessageHourlyStats.objects.filter(
        message_id__in=list(messages), hour__gte=first, hour__lt=last
    ).values_list("message_id", "hour", "viewer_set"):
        if viewer_set:
            hours_by_day[message_id, floor_hour(hour).date()].append(viewer_set)
    existing = {
        (row.message_id, row.day): row
        for row in MessageViewerDay.objects.filter(
            message_id__in=list(messages), day__gte=first.date(), day__lt=last.date()
        )
    }
    to_write = []
    for (message_id, day), blobs in sorted(hours_by_day.items()):
        union = viewer_sets.union(blobs)
        data = viewer_sets.serialize(union)
        row = existing.get((message_id, day))
        if row is None or bytes(row.viewer_set) != data:
            to_write.append(
                MessageViewerDay(
                    message_id=message_id, day=day, viewer_count=len(union), viewer_set=data
                )
            )
    stale = [row.pk for key, row in existing.items() if key not in hours_by_day]
    MessageViewerDay.objects.bulk_create(
        to_write,
        batch_size=200,
        update_conflicts=True,
        unique_fields=["message", "day"],
        update_fields=["viewer_count", "viewer_set"],
    )
    if stale:
        MessageViewerDay.objects.filter(pk__in=stale).delete()


def _capped(by_action: dict[str, int]) -> dict[str, int]:
    """The MAX_ACTIONS most clicked names (ties: by name); the others summed under OTHER."""
    if len(by_action) <= MAX_ACTIONS:
        return by_action
    ranked = sorted(by_action.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = dict(ranked[: MAX_ACTIONS - 1])
    kept[OTHER_ACTIONS] = kept.get(OTHER_ACTIONS, 0) + sum(n for _, n in ranked[MAX_ACTIONS - 1 :])
    return kept
