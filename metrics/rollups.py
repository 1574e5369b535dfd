"""Hourly rollups of message events: what dashboards and the App API read.

`roll_up` is the scheduled job (every minute, django-q2). It reads the raw message events and
conversions it has not counted yet, each exactly once and in commit order (metrics/new_rows.py:
a batch whose transaction commits late is read by the first run after its commit, however
late), and **adds** them to their (message, hour) buckets: its cost follows the new rows, not
the traffic already in their hours, so it keeps up with tens of thousands of events a second.
Reading rows by arrival rather than by event time also counts late events (mobile batches,
clock skew) in their own hour, however old. Each chunk of rows is counted in one transaction
with the record of how far the job got, so a crash or a second run never counts a row twice.

`rebuild_rollups` recomputes every bucket of a time range from raw data (the management
command): the repair tool. It first counts what the job has not, in the same transaction, then
recomputes from exactly the rows counted, so the job and a rebuild always agree. The
experiment tables (ExperimentArmHour, ExperimentExposure) are rebuilt with them.

Buckets older than the retention period are never changed by the scheduled job: their raw
anonymous events may have been deleted, and counted numbers are kept.
"""

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.fields.json import KT
from django.db.models.functions import TruncHour
from django.utils import timezone
from pyroaring import BitMap64

from campaigns.models import AnonymousMessage
from delivery.models import Event, Visitor
from metrics import new_rows, viewer_sets
from metrics.experiment_rollup import add_to_experiments, rebuild_experiments
from metrics.message_events import CLICKED, DISMISSED, HELD_OUT, VIEWED
from metrics.models import (
    Conversion,
    MessageHourlyStats,
    MessageStatsVersion,
    MessageViewerDay,
    RollupState,
)
from metrics.ranges import HOUR, ceil_hour, floor_hour

STATE_NAME = "message-stats"
CHUNK = 50_000
# Distinct action names kept per bucket (names come from SDKs); the rest add up under OTHER.
MAX_ACTIONS = 50
OTHER_ACTIONS = "(other)"
COUNTED_ACTIONS = (VIEWED, CLICKED, DISMISSED)

EVENTS = new_rows.Source(
    key="events",
    position_field="event_position",
    table=Event._meta.db_table,
    hour_column="timestamp",
    # Viewers are visitor ids (dense integers: compact roaring bitmaps). The tracking API
    # creates a visitor for every anonymous id it records, in the same transaction.
    # The time and `properties.variant` feed the experiment tables (experiment_rollup.py),
    # which also need the visitor of a `held_out` report.
    select=(
        "e.workspace_id, e.content_id, e.action_type, e.action_name, v.id, e.timestamp, "
        "e.payload -> 'properties' ->> 'variant'"
    ),
    joins=(
        f"LEFT JOIN {Visitor._meta.db_table} v ON e.action_type IN ('{VIEWED}', '{HELD_OUT}') "
        "AND e.anonymous_id <> '' AND v.workspace_id = e.workspace_id "
        "AND v.anonymous_id = e.anonymous_id"
    ),
    where="e.content_id IS NOT NULL",
)
CONVERSIONS = new_rows.Source(
    key="conversions",
    position_field="conversion_position",
    table=Conversion._meta.db_table,
    hour_column="converted_at",
    select="e.message_id",
)


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


def roll_up(*, now: datetime | None = None, chunk: int = CHUNK) -> RollupRun:
    """Count new raw events and conversions into their hourly buckets (exactly once)."""
    now = now or timezone.now()
    run = RollupRun()
    RollupState.objects.get_or_create(name=STATE_NAME)
    pending = [EVENTS, CONVERSIONS]
    while pending:
        with transaction.atomic():
            # The row lock serialises concurrent runs (schedule + command): each chunk reads
            # the progress the last one saved.
            state = RollupState.objects.select_for_update().get(name=STATE_NAME)
            pending = _count_chunk(state, run, sources=pending, now=now, chunk=chunk)
            state.ran_at = now
            state.save()
            run.event_position = state.event_position
            run.conversion_position = state.conversion_position
    return run


def _count_chunk(state, run, *, sources, now, chunk) -> list:
    """Count the next chunk of each source's new rows; the sources with rows left."""
    if any(new_rows.is_legacy(state, source) for source in (EVENTS, CONVERSIONS)):
        _count_legacy(state, run, now=now)
        return []
    rows = {}
    left = []
    for source in sources:
        rows[source.key], finished = new_rows.read_new_rows(state, source, chunk=chunk)
        if not finished:
            left.append(source)
    events, conversions = rows.get(EVENTS.key, []), rows.get(CONVERSIONS.key, [])
    run.events += len(events)
    run.conversions += len(conversions)
    written, skipped = add_to_buckets(events, conversions, horizon=retention_horizon(now))
    bump_versions(add_to_experiments(events))
    run.buckets_written += written
    run.skipped_old_buckets += skipped
    return left


def _catch_up(state, run, *, now) -> None:
    """Count every new row, in the current transaction."""
    pending = [EVENTS, CONVERSIONS]
    while pending:
        pending = _count_chunk(state, run, sources=pending, now=now, chunk=CHUNK)


def _count_legacy(state, run, *, now) -> None:
    """The first run after the previous job, which recomputed buckets: the rows from its
    position on may be counted already, so their buckets are recomputed from the rows the
    state now counts instead of being added to (in one transaction)."""
    touched = set()
    for source in (EVENTS, CONVERSIONS):
        finished = False
        while not finished:
            rows, finished = new_rows.read_new_rows(state, source, chunk=CHUNK)
            if source is EVENTS:
                run.events += len(rows)
                # New tables: nothing in them was counted by the previous job.
                bump_versions(add_to_experiments(rows))
                touched |= {(row[2], _hour(row[0])) for row in rows}
            else:
                run.conversions += len(rows)
                touched |= {(row[1], _hour(row[0])) for row in rows}
    horizon = retention_horizon(now)
    recent = {(m, h) for m, h in touched if h >= horizon}
    run.skipped_old_buckets += len(touched) - len(recent)
    written, deleted = recompute_buckets(recent, counted_by=state)
    run.buckets_written += written
    run.buckets_deleted += deleted


# --- Adding new rows to their buckets ---------------------------------------------------------


def _hour(number: int) -> datetime:
    """The start of UTC hour `number` (hours since 1970, as new_rows reads them)."""
    return datetime.fromtimestamp(number * 3600, UTC)


def _empty_delta() -> dict:
    return {
        "views": 0,
        "clicks": 0,
        "clicks_by_action": defaultdict(int),
        "dismissals": 0,
        "conversions": 0,
        "viewers": [],
    }


def add_to_buckets(events: list[tuple], conversions: list[tuple], *, horizon) -> tuple[int, int]:
    """Add event rows (hour number, workspace id, message id, action type, action name, visitor
    id) and conversion rows (hour number, message id) to their hourly buckets and day viewer
    sets. Returns (buckets written, old buckets skipped)."""
    if not events and not conversions:
        return 0, 0
    message_ids = {row[2] for row in events} | {row[1] for row in conversions}
    workspace_of = dict(
        AnonymousMessage.objects.filter(pk__in=message_ids).values_list("pk", "workspace_id")
    )
    first_hour = int(horizon.timestamp()) // 3600
    by_number = defaultdict(_empty_delta)  # (message id, hour number) -> delta
    skipped = set()
    for hour, workspace_id, message_id, action_type, action_name, visitor_id, *_ in events:
        # A message's events are only those of its own workspace.
        if workspace_of.get(message_id) != workspace_id or action_type not in COUNTED_ACTIONS:
            continue
        if hour < first_hour:
            skipped.add((message_id, hour))
            continue
        delta = by_number[message_id, hour]
        if action_type == VIEWED:
            delta["views"] += 1
            if visitor_id is not None:
                delta["viewers"].append(visitor_id)
        elif action_type == CLICKED:
            delta["clicks"] += 1
            delta["clicks_by_action"][action_name] += 1
        else:
            delta["dismissals"] += 1
    for hour, message_id in conversions:
        if message_id not in workspace_of:
            continue
        if hour < first_hour:
            skipped.add((message_id, hour))
            continue
        by_number[message_id, hour]["conversions"] += 1
    if not by_number:
        return 0, len(skipped)
    deltas = {(message_id, _hour(hour)): delta for (message_id, hour), delta in by_number.items()}

    existing = {
        (row.message_id, floor_hour(row.hour)): row
        for row in MessageHourlyStats.objects.filter(
            message_id__in={m for m, _ in deltas}, hour__in={h for _, h in deltas}
        )
    }
    rows = []
    for (message_id, hour), delta in sorted(deltas.items()):
        row = existing.get((message_id, hour)) or MessageHourlyStats(
            workspace_id=workspace_of[message_id], message_id=message_id, hour=hour
        )
        row.views += delta["views"]
        row.clicks += delta["clicks"]
        row.dismissals += delta["dismissals"]
        row.conversions += delta["conversions"]
        if delta["clicks_by_action"]:
            merged = dict(row.clicks_by_action or {})
            for name, count in delta["clicks_by_action"].items():
                merged[name] = merged.get(name, 0) + count
            row.clicks_by_action = _capped(merged)
        if delta["viewers"]:
            viewers = viewer_sets.deserialize(row.viewer_set)
            viewers.update(delta["viewers"])
            row.unique_viewers = len(viewers)
            row.viewer_set = viewer_sets.serialize(viewers)
        rows.append(row)
    MessageHourlyStats.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["message", "hour"],
        update_fields=list(MessageHourlyStats.COUNTERS),
    )
    _add_to_days(deltas)
    bump_versions({m for m, _ in deltas})
    return len(rows), len(skipped)


def _add_to_days(deltas: dict) -> None:
    """Add the new viewers to the UTC days' viewer sets."""
    by_day = defaultdict(list)
    for (message_id, hour), delta in deltas.items():
        if delta["viewers"]:
            by_day[message_id, hour.date()] += delta["viewers"]
    if not by_day:
        return
    existing = {
        (row.message_id, row.day): row
        for row in MessageViewerDay.objects.filter(
            message_id__in={m for m, _ in by_day}, day__in={d for _, d in by_day}
        )
    }
    rows = []
    for (message_id, day), visitor_ids in sorted(by_day.items()):
        row = existing.get((message_id, day)) or MessageViewerDay(message_id=message_id, day=day)
        viewers = viewer_sets.deserialize(row.viewer_set)
        before = len(viewers)
        viewers.update(visitor_ids)
        if len(viewers) != before or row.pk is None:
            row.viewer_count = len(viewers)
            row.viewer_set = viewer_sets.serialize(viewers)
            rows.append(row)
    MessageViewerDay.objects.bulk_create(
        rows,
        batch_size=200,
        update_conflicts=True,
        unique_fields=["message", "day"],
        update_fields=["viewer_count", "viewer_set"],
    )


def bump_versions(message_ids) -> None:
    """New tokens for these messages' rollups: their cached reports are never read again."""
    MessageStatsVersion.objects.bulk_create(
        [
            MessageStatsVersion(message_id=message_id, token=secrets.token_hex(8))
            for message_id in sorted(message_ids)
        ],
        update_conflicts=True,
        unique_fields=["message"],
        update_fields=["token"],
    )


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
    with transaction.atomic():
        # The rollup job's lock; then count what it has not yet, so that the buckets recomputed
        # here hold exactly the rows the job will never add again.
        RollupState.objects.get_or_create(name=STATE_NAME)
        state = RollupState.objects.select_for_update().get(name=STATE_NAME)
        _catch_up(state, run, now=timezone.now())
        state.save()
        run.buckets_written = run.buckets_deleted = 0
        span_start = start
        while span_start < end:
            span_end = min(end, span_start + MAX_SPAN)
            hours = []
            hour = span_start
            while hour < span_end:
                hours.append(hour)
                hour += HOUR
            written, deleted = recompute_buckets(
                {(m, h) for m in ids for h in hours}, counted_by=state
            )
            run.buckets_written += written
            run.buckets_deleted += deleted
            span_start = span_end
        bump_versions(_rebuild_experiments(ids, start, end, counted_by=state))
    return run


def _rebuild_experiments(message_ids, start, end, *, counted_by) -> set[int]:
    """Rebuild these messages' experiment tables from `start` on (experiment_rollup's
    rebuild_experiments) from the tagged events the job counts: views, clicks and dismissals
    naming a variant, and held-out reports. Returns the messages whose rows changed."""
    workspace_of = dict(
        AnonymousMessage.objects.filter(pk__in=message_ids).values_list("pk", "workspace_id")
    )
    if not workspace_of:
        return set()
    exposure = (VIEWED, HELD_OUT)
    events = _counted(
        Event.objects.filter(
            _of_messages(workspace_of),
            Q(action_type=HELD_OUT)
            | Q(action_type__in=COUNTED_ACTIONS, payload__properties__has_key="variant"),
            timestamp__gte=start,
        ).order_by("pk"),
        EVENTS,
        counted_by,
    )
    rows = list(
        events.annotate(variant=KT("payload__properties__variant")).values_list(
            "workspace_id",
            "content_id",
            "action_type",
            "action_name",
            "anonymous_id",
            "timestamp",
            "variant",
        )
    )
    visitor_ids = _visitor_ids(
        {(w, anonymous_id) for w, _, action, _, anonymous_id, _, _ in rows if action in exposure}
    )
    return rebuild_experiments(
        [
            (
                int(at.timestamp()) // 3600,
                workspace_id,
                message_id,
                action,
                action_name,
                visitor_ids.get((workspace_id, anonymous_id)) if action in exposure else None,
                at,
                variant,
            )
            for workspace_id, message_id, action, action_name, anonymous_id, at, variant in rows
        ],
        message_ids=list(workspace_of),
        start=start,
        end=end,
    )


def _of_messages(workspace_of: dict[int, int]) -> Q:
    """The events of these messages ({id: workspace id}): a message's events are only those
    of its own workspace."""
    by_workspace = defaultdict(list)
    for message_id, workspace_id in workspace_of.items():
        by_workspace[workspace_id].append(message_id)
    of_messages = Q()
    for workspace_id, message_ids in by_workspace.items():
        of_messages |= Q(workspace_id=workspace_id, content_id__in=sorted(message_ids))
    return of_messages


# --- Recomputing buckets from raw data -------------------------------------------------------

DAY = timedelta(days=1)
# Touched hours closer than this are recomputed together (one set of queries); a span is at
# most MAX_SPAN long, which bounds the rows read at once.
SPAN_GAP = timedelta(hours=6)
MAX_SPAN = timedelta(hours=24)


def recompute_buckets(buckets: set[tuple[int, datetime]], *, counted_by) -> tuple[int, int]:
    """Recompute these (message_id, hour) buckets from the raw events and conversions that the
    RollupState `counted_by` counts.

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
        w, d = _recompute_span(messages, start, end, counted_by=counted_by)
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


def _recompute_span(
    messages: dict[int, int], start: datetime, end: datetime, *, counted_by
) -> tuple[int, int]:
    """Recompute every bucket of these messages ({id: workspace id}) in [start, end)."""
    events = _counted(
        Event.objects.filter(
            _of_messages(messages),
            timestamp__gte=start,
            timestamp__lt=end,
            action_type__in=COUNTED_ACTIONS,
        ).order_by(),
        EVENTS,
        counted_by,
    )

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
        _counted(
            Conversion.objects.filter(
                message_id__in=list(messages), converted_at__gte=start, converted_at__lt=end
            ),
            CONVERSIONS,
            counted_by,
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
    changed = {row.message_id for row in to_write} | {
        m for (m, _), row in existing.items() if row.pk in stale
    }
    if changed:
        bump_versions(changed)
    _recompute_days(messages, start, end)
    return len(to_write), len(stale)


def _counted(queryset, source, state):
    """Only the rows `state` counts (new_rows.counted_condition)."""
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    condition, params = new_rows.counted_condition(state, source, table)
    return queryset.extra(where=[condition], params=params)


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
