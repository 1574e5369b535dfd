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
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from campaigns.models import AnonymousMessage
from delivery.models import Event, Visitor
from delivery.sdk_api import visitor_state

CHUNK = 1_000


@dataclass
class Purged:
    visitors: int = 0
    events: int = 0


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


def purge_anonymous_data(*, now: datetime | None = None, dry_run: bool = False) -> Purged:
    """Delete never-identified anonymous visitors (and their events) past their retention."""
    now = now or timezone.now()
    purged = Purged()
    for workspace_id, cutoff in retention_cutoffs(now=now).items():
        after_pk = 0
        while after_pk is not None:
            after_pk = _purge_chunk(workspace_id, cutoff, after_pk, purged, dry_run=dry_run)
    return purged


def _purge_chunk(
    workspace_id: int, cutoff: datetime, after_pk: int, purged: Purged, *, dry_run: bool
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
