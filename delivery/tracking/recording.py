"""record_events: one request's validated events, written in one transaction.

Anonymous calls (no userId) on PostgreSQL take one statement that is its own transaction
(one_statement.py): steps 1 and 2 below, without profiles. Otherwise:

1. The raw events whose messageId is new, in one statement: on PostgreSQL the ids are claimed
   in the dedup table and the new events inserted into today's partition (message_ids.py);
   on SQLite a multi-row `INSERT … ON CONFLICT (workspace, message_id) DO NOTHING`. What
   comes back is what is new; a retried event is a duplicate and has no other effect at all.
2. For the new events only: visitors (one upsert), profiles (one upsert), merges, traits,
   and the per-visitor message state that delivery reads (one upsert).
3. After commit, `events_recorded` and `profile_traits_changed` (delivery/signals.py).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction

from campaigns.assignment import HOLDOUT
from campaigns.models import AnonymousMessage
from delivery import first_exposure
from delivery.models import Event, Profile, VisitorMessageState
from delivery.sdk_api import visitor_state
from delivery.signals import events_recorded, profile_traits_changed
from delivery.tracking import identity, message_ids, one_statement
from delivery.tracking.bulk_sql import insert_rows
from delivery.tracking.one_statement import state_conflict_clause
from delivery.tracking.parsing import CLICKED, DISMISSED, HELD_OUT, VIEWED, IncomingEvent

logger = logging.getLogger(__name__)

EVENT_COLUMNS = [
    ("workspace_id", "bigint"),
    ("message_id", "text"),
    ("type", "text"),
    ("name", "text"),
    ("anonymous_id", "text"),
    ("user_id", "text"),
    ("timestamp", "timestamptz"),
    ("received_at", "timestamptz"),
    ("content_id", "bigint"),
    ("action_type", "text"),
    ("action_name", "text"),
    ("payload", "jsonb"),
]
STATE_COLUMNS = [
    ("visitor_id", "bigint"),
    ("message_id", "bigint"),
    ("views", "integer"),
    ("first_viewed_at", "timestamptz"),
    ("last_viewed_at", "timestamptz"),
    ("dismissed_at", "timestamptz"),
    ("responded_at", "timestamptz"),
    ("arm", "text"),
    ("exposed_at", "timestamptz"),
]


@dataclass
class Recorded:
    """What one request changed."""

    event_ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    profile_ids: set[int] = field(default_factory=set)
    message_ids: set[int] = field(default_factory=set)
    trait_changes: dict[int, tuple[dict, dict]] = field(default_factory=dict)
    # Anonymous ids whose delivery state changed (message state, merged into a profile).
    changed_visitors: set[str] = field(default_factory=set)


def record_events(
    *, workspace_id: int, events: list[IncomingEvent], received_at: datetime
) -> Recorded:
    """Store `events` (already validated and deduplicated within the request) atomically."""
    try:
        if one_statement.applies(events):
            return _record_anonymous(workspace_id, events, received_at)
        with transaction.atomic():
            return record_in_transaction(
                workspace_id=workspace_id, events=events, received_at=received_at
            )
    except IntegrityError:
        forget_known_messages(workspace_id)  # a message may have been deleted: ask again
        raise


def _record_anonymous(
    workspace_id: int, events: list[IncomingEvent], received_at: datetime
) -> Recorded:
    """`record_events` for calls without a userId, in one statement (one_statement.py)."""
    known_messages = _messages_of_workspace(workspace_id, events)
    statement = one_statement.statement_and_parameters(
        workspace_id=workspace_id,
        event_columns=EVENT_COLUMNS,
        rows=_event_rows(workspace_id, events, received_at, known_messages),
        extras=[(event.user_agent, event.page, n) for n, event in enumerate(events)],
        with_states=any(
            event.anonymous_id and event.content_id in known_messages for event in events
        ),
        at=received_at,
    )
    inserted = {message_id: pk for pk, message_id in one_statement.run(*statement)}
    new = [event for event in events if event.message_id in inserted]
    recorded = Recorded(event_ids=sorted(inserted.values()), duplicates=len(events) - len(new))
    for event in new:
        if event.content_id in known_messages:
            recorded.message_ids.add(event.content_id)
            if event.anonymous_id:
                recorded.changed_visitors.add(event.anonymous_id)
    if new:
        visitor_state.forget_visitors(workspace_id, recorded.changed_visitors)
        transaction.on_commit(lambda: _announce(workspace_id, recorded))
    return recorded


def record_in_transaction(
    *, workspace_id: int, events: list[IncomingEvent], received_at: datetime
) -> Recorded:
    """`record_events` inside the caller's transaction (delivery/tracking/group_commit.py
    records several requests in one)."""
    known_messages = _messages_of_workspace(workspace_id, events)
    inserted = _insert_events(workspace_id, events, received_at, known_messages)
    new = [event for event in events if event.message_id in inserted]
    recorded = Recorded(event_ids=sorted(inserted.values()), duplicates=len(events) - len(new))
    if new:
        need_ids = any(event.user_id or event.content_id in known_messages for event in new)
        visitors = identity.upsert_visitors(
            workspace_id=workspace_id, events=new, need_ids=need_ids
        )
        _resolve_identities(workspace_id, new, visitors, recorded)
        _update_message_states(new, visitors, known_messages, recorded)
        visitor_state.forget_visitors(workspace_id, recorded.changed_visitors)
        transaction.on_commit(lambda: _announce(workspace_id, recorded))
    return recorded


# workspace id → ids found to be its messages. A message never moves to another workspace, so
# an id found stays right until the message is deleted; then the state upsert fails its foreign
# key at commit, and whoever sees that IntegrityError calls forget_known_messages.
_known_messages: dict[int, frozenset[int]] = {}
KNOWN_MESSAGES_PER_WORKSPACE = 10_000


def _messages_of_workspace(workspace_id: int, events: list[IncomingEvent]) -> set[int]:
    """The message events' contentIds that are messages of this workspace (remembered per
    process: most message events name a message seen before, and then cost no query)."""
    content_ids = {event.content_id for event in events if event.content_id is not None}
    if not content_ids:
        return set()
    known = _known_messages.get(workspace_id, frozenset())
    unknown = content_ids - known
    if not unknown:
        return content_ids
    found = set(
        AnonymousMessage.objects.filter(workspace_id=workspace_id, pk__in=unknown).values_list(
            "pk", flat=True
        )
    )
    if found and len(known) + len(found) <= KNOWN_MESSAGES_PER_WORKSPACE:
        _known_messages[workspace_id] = known | found
    return (content_ids & known) | found


def forget_known_messages(workspace_id: int | None = None) -> None:
    """Drop what this process remembers of a workspace's message ids (all, without one)."""
    if workspace_id is None:
        _known_messages.clear()
    else:
        _known_messages.pop(workspace_id, None)


def _insert_events(
    workspace_id: int,
    events: list[IncomingEvent],
    received_at: datetime,
    known_messages: set[int],
) -> dict[str, int]:
    """Insert the raw events whose messageId is new; returns {message_id: id} of those.

    On PostgreSQL the messageIds are claimed in the same statement (message_ids.py): that is
    the exact deduplication, across partitions and for 7+ days. SQLite's plain table keeps
    its unique index on (workspace_id, message_id)."""
    rows = _event_rows(workspace_id, events, received_at, known_messages)
    if connection.vendor == "postgresql":
        returned = message_ids.insert_new_events(
            workspace_id=workspace_id, columns=EVENT_COLUMNS, rows=rows, at=received_at
        )
    else:
        # Sorted by messageId, so that concurrent batches sharing ids take their unique-index
        # locks in the same order.
        rows.sort(key=lambda row: row[1])
        returned = insert_rows(
            Event._meta.db_table,
            EVENT_COLUMNS,
            rows,
            "ON CONFLICT (workspace_id, message_id) DO NOTHING RETURNING id, message_id",
        )
    return {message_id: pk for pk, message_id in returned}


def _event_rows(
    workspace_id: int,
    events: list[IncomingEvent],
    received_at: datetime,
    known_messages: set[int],
) -> list[tuple]:
    """The events as rows in EVENT_COLUMNS order."""
    rows = []
    for event in events:
        # An unknown or foreign contentId stays in the payload only: no column, so no rollup
        # or state ever counts it.
        is_message_event = event.content_id in known_messages
        rows.append(
            (
                workspace_id,
                event.message_id,
                event.type,
                event.name,
                event.anonymous_id,
                event.user_id,
                event.timestamp,
                received_at,
                event.content_id if is_message_event else None,
                event.action_type if is_message_event else "",
                event.action_name if is_message_event else "",
                event.payload,
            )
        )
    return rows


def _resolve_identities(
    workspace_id: int,
    events: list[IncomingEvent],
    visitors: dict[str, identity.VisitorRef],
    recorded: Recorded,
) -> None:
    seen: dict[str, tuple[datetime, datetime]] = {}
    for event in events:
        if event.user_id:
            first, last = seen.get(event.user_id, (event.timestamp, event.timestamp))
            seen[event.user_id] = (min(first, event.timestamp), max(last, event.timestamp))
    if not seen:
        return
    profiles = identity.upsert_profiles(workspace_id=workspace_id, seen=seen)
    changes = identity.TraitChanges()
    trait_updates: dict[int, list[dict]] = defaultdict(list)
    for event in events:
        if not event.user_id:
            continue
        profile_id = profiles[event.user_id]
        recorded.profile_ids.add(profile_id)
        visitor = visitors.get(event.anonymous_id) if event.anonymous_id else None
        if visitor is not None and visitor.profile_id is None:
            identity.merge_visitor(visitor_id=visitor.id, profile_id=profile_id, at=event.timestamp)
            visitor.profile_id = profile_id
            recorded.changed_visitors.add(event.anonymous_id)
        if event.type == "identify" and event.traits:
            trait_updates[profile_id].append(event.traits)
        elif event.type == "alias":
            identity.alias(
                workspace_id=workspace_id,
                profile_id=profile_id,
                previous_id=event.previous_id,
                at=event.timestamp,
                changes=changes,
            )
            recorded.changed_visitors.add(event.previous_id)
    identity.apply_traits(updates=trait_updates, changes=changes)
    recorded.trait_changes = changes.changes


@dataclass(slots=True)
class _StateDelta:
    views: int = 0
    first_viewed_at: datetime | None = None
    last_viewed_at: datetime | None = None
    dismissed_at: datetime | None = None
    responded_at: datetime | None = None
    exposure: first_exposure.Exposure | None = None  # the first among these events, if any


def _later(current: datetime | None, new: datetime) -> datetime:
    return new if current is None or new > current else current


def _update_message_states(
    events: list[IncomingEvent],
    visitors: dict[str, identity.VisitorRef],
    known_messages: set[int],
    recorded: Recorded,
) -> None:
    """Views, dismissals and clicks of this workspace's messages, per anonymous visitor."""
    deltas: dict[tuple[int, int], _StateDelta] = {}
    for event in events:
        if event.content_id not in known_messages:
            continue
        recorded.message_ids.add(event.content_id)
        visitor = visitors.get(event.anonymous_id)
        if visitor is None:
            continue
        delta = deltas.setdefault((visitor.id, event.content_id), _StateDelta())
        recorded.changed_visitors.add(event.anonymous_id)
        at = event.timestamp
        if event.action_type in (VIEWED, HELD_OUT):
            # A held-out report counts as a view of nothing: frequency (max views, minimum
            # interval) treats both arms alike. An exposure names its arm.
            arm = HOLDOUT if event.action_type == HELD_OUT else event.variant
            if arm:
                delta.exposure = first_exposure.earlier(delta.exposure, (at, arm))
            delta.views += 1
            delta.first_viewed_at = (
                at if delta.first_viewed_at is None else min(delta.first_viewed_at, at)
            )
            delta.last_viewed_at = _later(delta.last_viewed_at, at)
        elif event.action_type == DISMISSED:
            delta.dismissed_at = _later(delta.dismissed_at, at)
        elif event.action_type == CLICKED:
            delta.responded_at = _later(delta.responded_at, at)
    if not deltas:
        return

    rows = [
        (
            visitor_id,
            message_id,
            delta.views,
            delta.first_viewed_at,
            delta.last_viewed_at,
            delta.dismissed_at,
            delta.responded_at,
            delta.exposure[1] if delta.exposure else "",
            delta.exposure[0] if delta.exposure else None,
        )
        for (visitor_id, message_id), delta in sorted(deltas.items())
    ]
    insert_rows(VisitorMessageState._meta.db_table, STATE_COLUMNS, rows, state_conflict_clause())


def _announce(workspace_id: int, recorded: Recorded) -> None:
    """Tell the listeners (metrics) what was committed. A failing receiver is logged only:
    the events are stored, and the client must still get its 200."""
    results = events_recorded.send_robust(
        sender=Event,
        workspace_id=workspace_id,
        event_ids=recorded.event_ids,
        profile_ids=set(recorded.profile_ids),
        message_ids=set(recorded.message_ids),
    )
    for profile_id, (old_traits, new_traits) in recorded.trait_changes.items():
        results += profile_traits_changed.send_robust(
            sender=Profile,
            workspace_id=workspace_id,
            profile_id=profile_id,
            old_traits=old_traits,
            new_traits=new_traits,
        )
    for receiver, result in results:
        if isinstance(result, Exception):
            logger.error(
                "Tracking signal receiver %r failed",
                receiver,
                exc_info=(type(result), result, result.__traceback__),
            )
