"""Retention: anonymous visitors never identified are deleted, with their events, after a while.

The period is `ANONMSG_RETENTION_DAYS` (default 30), never shorter than the longest goal window
of a live message of the visitor's workspace: a visitor who clicked a message may still convert
until that window closes. A visitor is deleted once it has not been seen for that long: neither
its `last_seen_at` nor any of its events is that recent (`last_seen_at` may lag the newest
event: it is rewritten at most once a minute). Its message states go with it (cascade), and
all its anonymous events, whatever their timestamps, are deleted explicitly (raw events have no
foreign key to visitors): no event outlives its visitor. Identified visitors and everything of people are kept. Metrics rollups
and conversions already counted are kept (they are not derived on read).

Idempotent and safe to run at any time, also while events arrive: each chunk re-checks the
conditions under a row lock, so a visitor identified meanwhile is never deleted.

On PostgreSQL the events table is partitioned by day of `received_at` (delivery/partitions.py)
and the bulk of the deleting is done by whole partitions instead of DELETE:
1. expired visitors are found and deleted as above, and so are their events that arrived
   after the cutoff (late events with old timestamps) or that sit in partitions already
   compacted; their other events (received before the cutoff, the vast majority) stay for
   step 2;
2. every partition whose whole day is older than the longest retention period of any
   workspace is *compacted*: rewritten with only the rows still to keep (people's events and
   events of visitors that still exist, identified or still within their retention), or
   dropped when it keeps none. Compacted partitions are named `…_kept` and never rewritten
   again; later expiring visitors' events in them go by DELETE (step 1), a small share.
So an expired visitor's events outlive its row by at most a day (until their partition is
compacted), never more, and the daily run rewrites about one day of events.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from campaigns.models import AnonymousMessage
from delivery import partitions
from delivery.models import Event, Visitor
from delivery.sdk_api import visitor_state

logger = logging.getLogger(__name__)

CHUNK = 1_000


@dataclass
class Purged:
    visitors: int = 0
    events: int = 0
    # Of `events`, those that went with partitions rewritten or dropped (PostgreSQL).
    events_in_partitions: int = 0
    partitions: int = 0


def retention_period(*, configured_days: int, longest_goal_window_hours: int) -> timedelta:
    """How long never-identified anonymous data is kept in one workspace (pure)."""
    return max(timedelta(days=configured_days), timedelta(hours=longest_goal_window_hours))


def retention_cutoffs(*, now: datetime, configured_days: int | None = None) -> dict[int, datetime]:
    """{workspace_id: cutoff} for every workspace holding anonymous visitors older than the
    configured period (a workspace with a longer live goal window gets a later cutoff)."""
    days = configured_days or settings.ANONMSG_RETENTION_DAYS
    candidates = (
        Visitor.objects.filter(profile__isnull=True, last_seen_at__lt=now - timedelta(days=days))
        .values_list("workspace_id", flat=True)
        .distinct()
        .order_by()
    )
    workspace_ids = set(candidates)
    windows = dict(
        AnonymousMessage.objects.live(now)
        .filter(workspace_id__in=workspace_ids)
        .values("workspace_id")
        .annotate(longest=Max("goal_window_hours"))
        .values_list("workspace_id", "longest")
        .order_by()
    )
    return {
        workspace_id: now
        - retention_period(
            configured_days=days, longest_goal_window_hours=windows.get(workspace_id, 0)
        )
        for workspace_id in sorted(workspace_ids)
    }


def compaction_horizon(*, now: datetime, configured_days: int | None = None) -> datetime:
    """Partitions of days entirely before this are compacted: no workspace's retention period
    reaches back that far (the longest goal window of any live message counts)."""
    days = configured_days or settings.ANONMSG_RETENTION_DAYS
    longest = AnonymousMessage.objects.live(now).aggregate(longest=Max("goal_window_hours"))
    return now - retention_period(
        configured_days=days, longest_goal_window_hours=longest["longest"] or 0
    )


def partitions_to_compact(
    existing: list[partitions.Partition], *, horizon: datetime
) -> list[partitions.Partition]:
    """The partitions not compacted yet whose rows were all received before `horizon` (pure)."""
    return [p for p in existing if not p.kept and p.upper is not None and p.upper <= horizon]


def pending_from(existing: list[partitions.Partition]) -> datetime | None:
    """Where the partitions not compacted yet begin: expired visitors' events received from
    there up to their cutoff are left to compaction (pure). None: no partitions (SQLite)."""
    pending = [p for p in existing if not p.kept]
    if not pending:
        return None
    lowers = [p.lower for p in pending]
    return None if None in lowers else min(lowers)


def purge_anonymous_data(*, now: datetime | None = None, dry_run: bool = False) -> Purged:
    """Delete never-identified anonymous visitors (and their events) past their retention."""
    now = now or timezone.now()
    purged = Purged()
    existing = partitions.event_partitions()
    leave_from = pending_from(existing)
    for workspace_id, cutoff in retention_cutoffs(now=now).items():
        after_pk = 0
        while after_pk is not None:
            after_pk = _purge_chunk(
                workspace_id, cutoff, after_pk, purged, dry_run=dry_run, leave_from=leave_from
            )
    if existing:
        _compact_partitions(existing, now=now, purged=purged, dry_run=dry_run)
    return purged


# The rows a compacted partition keeps: people's events, and those of visitors that still
# exist (identified, or not expired). An anonymous event without a visitor row is an expired
# visitor's.
KEEP_SQL = (
    "e.user_id <> '' OR EXISTS (SELECT 1 FROM {visitor} v "
    "WHERE v.workspace_id = e.workspace_id AND v.anonymous_id = e.anonymous_id)"
)


def _compact_partitions(
    existing: list[partitions.Partition], *, now: datetime, purged: Purged, dry_run: bool
) -> None:
    keep_sql = KEEP_SQL.format(visitor=connection.ops.quote_name(Visitor._meta.db_table))
    for partition in partitions_to_compact(existing, horizon=compaction_horizon(now=now)):
        if dry_run:
            dropped = partitions.count_rows(partition, where_sql=f"NOT ({keep_sql})")
        else:
            try:
                dropped = partitions.rewrite_partition(partition, keep_sql=keep_sql, params=[])
            except DatabaseError:
                # Most likely the lock timeout while inserts kept the table busy: the next
                # run compacts it.
                logger.warning("Could not compact %s; will retry", partition.name, exc_info=True)
                continue
        purged.partitions += 1
        purged.events += dropped
        purged.events_in_partitions += dropped


def _purge_chunk(
    workspace_id: int,
    cutoff: datetime,
    after_pk: int,
    purged: Purged,
    *,
    dry_run: bool,
    leave_from: datetime | None,
) -> int | None:
    """Purge the expired visitors among the next CHUNK candidates after `after_pk`; returns
    the pk to continue after, or None when done. Candidates were not seen since `cutoff` by
    their row; those with an event since then are kept (the row lags), and stay behind the
    keyset so that they are not read again."""
    with transaction.atomic():
        candidates = Visitor.objects.filter(
            workspace_id=workspace_id,
            profile__isnull=True,
            last_seen_at__lt=cutoff,
            pk__gt=after_pk,
        ).order_by("pk")
        if not dry_run:
            candidates = candidates.select_for_update()
        rows = list(candidates.values_list("pk", "anonymous_id")[:CHUNK])
        if not rows:
            return None
        # One probe per candidate on the (workspace, anonymous_id, timestamp) index; an
        # anti-join instead would read every event since the cutoff.
        active = set(
            Event.objects.filter(
                workspace_id=workspace_id,
                anonymous_id__in=[anonymous_id for _, anonymous_id in rows],
                timestamp__gte=cutoff,
            )
            .values_list("anonymous_id", flat=True)
            .distinct()
            .order_by()
        )
        expired = [(pk, anonymous_id) for pk, anonymous_id in rows if anonymous_id not in active]
        anonymous_ids = [anonymous_id for _, anonymous_id in expired]
        events = _events_of(workspace_id, anonymous_ids)
        if leave_from is not None:
            # Received before the cutoff in a partition still to compact: compaction drops
            # them with the rest of their day.
            events = events.filter(Q(received_at__gte=cutoff) | Q(received_at__lt=leave_from))
        purged.visitors += len(expired)
        if dry_run:
            purged.events += events.count()
        elif expired:
            purged.events += events.delete()[0]
            Visitor.objects.filter(pk__in=[pk for pk, _ in expired]).delete()
            visitor_state.forget_visitors(workspace_id, anonymous_ids)
    return rows[-1][0] if len(rows) == CHUNK else None


def _events_of(workspace_id: int, anonymous_ids: list[str]):
    """The anonymous events of these visitors, all of them: none may outlive its visitor."""
    return Event.objects.filter(
        workspace_id=workspace_id, anonymous_id__in=anonymous_ids, user_id=""
    )
