"""Identity: anonymous visitors, profiles, and merging the first into the second.

Rules (DESIGN.md §2, docs/tracking-api.md):
- every anonymous id is a `Visitor`; every userId is a `Profile`;
- a call carrying both a userId and an anonymousId (identify, or any later call) merges that
  visitor into the profile, once: a visitor already merged into a profile stays with it;
- `alias(userId, previousId)` links previousId to the profile: an anonymous id is merged like
  identify; a previous userId's profile is folded into this one (`Profile.merged_into`);
- identify traits are merged into the profile's traits (new keys win) within the caps of
  `delivery.tracking.traits`, `traits.email` is the profile's e-mail.

The set-based upserts are one statement for a whole batch (`INSERT … ON CONFLICT`, see
delivery/tracking/bulk_sql.py), on PostgreSQL and SQLite.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from django.db import connection
from django.db.models import Q, Subquery

from delivery.models import Profile, Visitor
from delivery.tracking.bulk_sql import insert_rows
from delivery.tracking.parsing import IncomingEvent
from delivery.tracking.traits import fill_traits, merge_traits

logger = logging.getLogger(__name__)

# A nullable timestamp column keeps the earlier/later of its value and the incoming one.
# (Portable: PostgreSQL's LEAST/GREATEST and SQLite's MIN/MAX treat NULL differently.)
EARLIER = (
    "CASE WHEN {t}.{c} IS NULL THEN excluded.{c} WHEN excluded.{c} IS NULL THEN {t}.{c} "
    "WHEN excluded.{c} < {t}.{c} THEN excluded.{c} ELSE {t}.{c} END"
)
LATER = (
    "CASE WHEN {t}.{c} IS NULL THEN excluded.{c} WHEN excluded.{c} IS NULL THEN {t}.{c} "
    "WHEN excluded.{c} > {t}.{c} THEN excluded.{c} ELSE {t}.{c} END"
)


VISITOR_COLUMNS = [
    ("workspace_id", "bigint"),
    ("anonymous_id", "text"),
    ("first_seen_at", "timestamptz"),
    ("last_seen_at", "timestamptz"),
    ("user_agent", "text"),
    ("last_page", "text"),
]
PROFILE_COLUMNS = [
    ("workspace_id", "bigint"),
    ("user_id", "text"),
    ("first_seen_at", "timestamptz"),
    ("last_seen_at", "timestamptz"),
    ("email", "text"),
    ("traits", "jsonb"),
]


@dataclass(slots=True)
class VisitorRef:
    id: int
    profile_id: int | None


@dataclass(slots=True)
class _Seen:
    first: datetime
    last: datetime
    user_agent: str = ""
    user_agent_at: datetime | None = None
    page: str = ""
    page_at: datetime | None = None


def upsert_visitors(
    *, workspace_id: int, events: Iterable[IncomingEvent], need_ids: bool = True
) -> dict[str, VisitorRef]:
    """Create or refresh the visitor of every anonymous id in `events`, in one statement.

    Returns {anonymous_id: VisitorRef}. With need_ids=False (nothing to merge, no message
    state to update), returns {} and leaves a known visitor's row alone unless something
    shown about it changed: first seen earlier, a new user agent or page, or last seen moved
    by more than a minute. Most calls of a browsing visitor then write no visitor row at all.
    """
    seen: dict[str, _Seen] = {}
    for event in events:
        if not event.anonymous_id:
            continue
        at = event.timestamp
        entry = seen.get(event.anonymous_id)
        if entry is None:
            entry = seen[event.anonymous_id] = _Seen(first=at, last=at)
        else:
            entry.first = min(entry.first, at)
            entry.last = max(entry.last, at)
        if event.user_agent and (entry.user_agent_at is None or at >= entry.user_agent_at):
            entry.user_agent, entry.user_agent_at = event.user_agent, at
        if event.page and (entry.page_at is None or at >= entry.page_at):
            entry.page, entry.page_at = event.page, at
    if not seen:
        return {}

    # Sorted, so that concurrent requests lock visitor rows in the same order.
    rows = [
        (workspace_id, anonymous_id, entry.first, entry.last, entry.user_agent, entry.page)
        for anonymous_id, entry in sorted(seen.items())
    ]
    returned = insert_rows(
        Visitor._meta.db_table,
        VISITOR_COLUMNS,
        rows,
        visitor_conflict_clause(connection.vendor, only_if_changed=not need_ids)
        + (" RETURNING id, anonymous_id, profile_id" if need_ids else ""),
    )
    return {anonymous_id: VisitorRef(pk, profile_id) for pk, anonymous_id, profile_id in returned}


@cache
def visitor_conflict_clause(vendor: str, *, only_if_changed: bool) -> str:
    """`ON CONFLICT … DO UPDATE` of a visitor upsert (see `upsert_visitors`): first seen the
    earliest, last seen the latest, user agent and page from the latest call that has one;
    `only_if_changed`: the row is left alone unless that changes what it shows."""
    table = connection.ops.quote_name(Visitor._meta.db_table)
    replace_if_newer = (
        "CASE WHEN excluded.{c} <> '' AND excluded.last_seen_at >= {t}.last_seen_at "
        "THEN excluded.{c} ELSE {t}.{c} END"
    )
    clause = (
        "ON CONFLICT (workspace_id, anonymous_id) DO UPDATE SET "
        f"user_agent = {replace_if_newer.format(t=table, c='user_agent')}, "
        f"last_page = {replace_if_newer.format(t=table, c='last_page')}, "
        f"first_seen_at = {EARLIER.format(t=table, c='first_seen_at')}, "
        f"last_seen_at = {LATER.format(t=table, c='last_seen_at')}"
    )
    if not only_if_changed:
        return clause
    return f"{clause} WHERE {visitor_changed(vendor, new='excluded', old=table)}"


def visitor_changed(vendor: str, *, new: str, old: str) -> str:
    """SQL: whether a visitor upsert's row `new` changes what the stored row `old` shows
    (first seen earlier, a new user agent or page, last seen moved by more than a minute)."""
    if vendor == "postgresql":
        a_minute_later = f"{old}.last_seen_at + interval '1 minute'"
    else:
        a_minute_later = f"datetime({old}.last_seen_at, '+60 seconds')"
    return (
        f"({new}.first_seen_at < {old}.first_seen_at"
        f" OR {new}.last_seen_at > {a_minute_later}"
        f" OR ({new}.user_agent <> '' AND {new}.user_agent <> {old}.user_agent)"
        f" OR ({new}.last_page <> '' AND {new}.last_page <> {old}.last_page))"
    )


def upsert_profiles(*, workspace_id: int, seen: dict[str, tuple[datetime, datetime]]) -> dict:
    """Create or refresh the profile of every userId in `seen` ({user_id: (first, last)}).

    Returns {user_id: id of the person}: a profile folded into another by an alias answers
    with the other one's id.
    """
    if not seen:
        return {}
    table = connection.ops.quote_name(Profile._meta.db_table)
    rows = [
        (workspace_id, user_id, first, last, "", {})
        for user_id, (first, last) in sorted(seen.items())
    ]
    returned = insert_rows(
        Profile._meta.db_table,
        PROFILE_COLUMNS,
        rows,
        "ON CONFLICT (workspace_id, user_id) DO UPDATE SET "
        f"first_seen_at = {EARLIER.format(t=table, c='first_seen_at')}, "
        f"last_seen_at = {LATER.format(t=table, c='last_seen_at')} "
        "RETURNING id, user_id, merged_into_id",
    )
    return {user_id: merged_into_id or pk for pk, user_id, merged_into_id in returned}


@dataclass
class TraitChanges:
    """Profiles whose traits changed during one request: {profile_id: (before, after)}."""

    changes: dict[int, tuple[dict, dict]] = field(default_factory=dict)

    def record(self, profile_id: int, before: dict, after: dict) -> None:
        if profile_id in self.changes:
            before = self.changes[profile_id][0]
        if before == after:
            self.changes.pop(profile_id, None)
        else:
            self.changes[profile_id] = (before, after)


def _log_dropped(profile_id: int, dropped: list[str]) -> None:
    if dropped:
        logger.info(
            "Profile %s is at its traits cap: %d trait(s) not stored (%s)",
            profile_id,
            len(dropped),
            ", ".join(key[:40] for key in dropped[:10]),
        )


def email_from_traits(traits: dict, fallback: str = "") -> str:
    email = traits.get("email")
    return email.strip()[:255] if isinstance(email, str) and email.strip() else fallback


def apply_traits(*, updates: dict[int, list[dict]], changes: TraitChanges) -> None:
    """Merge each profile's identify traits, in call order, under a row lock."""
    if not updates:
        return
    for profile in Profile.objects.select_for_update().filter(pk__in=updates).order_by("pk"):
        before = profile.traits if isinstance(profile.traits, dict) else {}
        after = before
        for traits in updates[profile.pk]:
            merged = merge_traits(after, traits)
            after = merged.traits
            _log_dropped(profile.pk, merged.dropped)
        email = email_from_traits(after, profile.email)
        if after != before or email != profile.email:
            profile.traits, profile.email = after, email
            profile.save(update_fields=["traits", "email"])
            changes.record(profile.pk, before, after)


def merge_visitor(*, visitor_id: int, profile_id: int, at: datetime) -> bool:
    """Merge an anonymous visitor into a profile, unless it already belongs to one.

    The person was first seen when their first anonymous id was: the profile's first_seen_at
    moves back to the visitor's.
    """
    merged = Visitor.objects.filter(pk=visitor_id, profile__isnull=True).update(
        profile_id=profile_id, identified_at=at
    )
    if merged:
        first_seen = Subquery(Visitor.objects.filter(pk=visitor_id).values("first_seen_at"))
        Profile.objects.filter(pk=profile_id, first_seen_at__gt=first_seen).update(
            first_seen_at=first_seen
        )
    return bool(merged)


def alias(
    *, workspace_id: int, profile_id: int, previous_id: str, at: datetime, changes: TraitChanges
) -> None:
    """Link `previous_id` to the person `profile_id` (see the module docstring)."""
    visitor = Visitor.objects.filter(workspace_id=workspace_id, anonymous_id=previous_id).first()
    if visitor is not None:
        if visitor.profile_id is None:
            merge_visitor(visitor_id=visitor.pk, profile_id=profile_id, at=at)
        return
    previous = (
        Profile.objects.filter(workspace_id=workspace_id, user_id=previous_id)
        .values_list("pk", "merged_into_id")
        .first()
    )
    if previous is None:
        # Never seen: remember it as one of the person's anonymous ids, so that its calls,
        # when they come, are the person's.
        Visitor.objects.get_or_create(
            workspace_id=workspace_id,
            anonymous_id=previous_id,
            defaults={
                "profile_id": profile_id,
                "identified_at": at,
                "first_seen_at": at,
                "last_seen_at": at,
            },
        )
        return
    source_id = previous[1] or previous[0]
    if source_id != profile_id:
        fold_profile(source_id=source_id, target_id=profile_id, changes=changes)


def fold_profile(*, source_id: int, target_id: int, changes: TraitChanges) -> None:
    """Fold one person into another: visitors move, traits fill gaps, the source is hidden."""
    profiles = {
        p.pk: p for p in Profile.objects.select_for_update().filter(pk__in=[source_id, target_id])
    }
    source, target = profiles[source_id], profiles[target_id]
    Visitor.objects.filter(profile_id=source_id).update(profile_id=target_id)
    Profile.objects.filter(Q(pk=source_id) | Q(merged_into_id=source_id)).update(
        merged_into_id=target_id
    )
    before = target.traits if isinstance(target.traits, dict) else {}
    merged = fill_traits(before, source.traits if isinstance(source.traits, dict) else {})
    _log_dropped(target_id, merged.dropped)
    after = merged.traits
    target.traits = after
    target.email = target.email or source.email
    target.first_seen_at = min(target.first_seen_at, source.first_seen_at)
    target.last_seen_at = max(target.last_seen_at, source.last_seen_at)
    target.save(update_fields=["traits", "email", "first_seen_at", "last_seen_at"])
    changes.record(target_id, before, after)
