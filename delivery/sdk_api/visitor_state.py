"""What every delivery request reads: the workspace behind a write key and the visitor's state.

`workspace_and_visitor(write_key, anonymous_id)` answers from the database in one query (three
unique indexes), or, when the shared cache is on (`DELIVERY_STATE_CACHE`, on by default when
REDIS_URL is set), from one round trip to the cache and no query at all.

Why the cached answers can be trusted: each entry is stored with a *token*, a random value
kept under its own key. A writer invalidates by deleting the token after its transaction
commits (`forget_workspaces`, `forget_visitors`). A reader reads the token *before* the
database and stores the entry with the token it read, so an entry read before a change can
never carry the token that is current after it: a stale entry never validates, whatever the
interleaving of processes. A visitor's entry also carries its workspace's token, so any
workspace change (content version, plan, in-app switch, time zone, an admin edit) also
invalidates every visitor of that workspace.

A *fresh* visitor (`fresh=True`: the SDK says it has reported nothing for this anonymous id,
docs/delivery-api.md) is answered as a visitor without state, from the workspace's entries
alone, unless its visitor token exists: every writer of a visitor's state *sets* a new token
(rather than deleting it) that lives `WRITTEN_TOKEN_SECONDS`, longer than the SDK's fresh
window, so state written by anyone else (a server-side identify, an admin) still counts.

Any other visitor without a valid entry and without a token (never written, or not for hours)
is looked up in the workspace's filter of visitors with state (known_visitors.py, Redis only):
one left out of a complete filter has none, and is answered as a fresh visitor is, from the
workspace's entries alone; the others are read from the database.

Only a cache shared by every process can be used this way: with a per-process memory cache a
tracking request in one process could not invalidate another's copy. A Redis that fails
answers like an empty cache (anonmsg/redis_cache.py): delivery then reads the database.
"""

import secrets
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import NamedTuple

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction

from anonmsg.models import ANONYMOUS_MESSAGE_PLANS, Workspace
from anonmsg.rate_limits import Check
from delivery.models import Visitor, VisitorMessageState
from delivery.sdk_api import CACHE_ALIAS, known_visitors
from delivery.sdk_api.eligibility import MessageState
from delivery.tracking.bulk_sql import execute_reconnecting

# In every key: a release that changes what an entry holds changes this, so that it never reads
# an entry written by another release.
KEY_PREFIX = "anonmsg:delivery:v1"
# Entries only need to outlive a visitor's session; correctness comes from the tokens.
ENTRY_SECONDS = 15 * 60
# A visitor token set by a writer outlives the SDK's fresh window (FRESH_WINDOW_SECONDS, 30 min,
# static/delivery/sdk.js) with room to spare: while an SDK may still call an id fresh, the
# server still knows that someone wrote state for it.
WRITTEN_TOKEN_SECONDS = 2 * 60 * 60
WRITE_KEY_LIMIT = 10_000

WORKSPACE_FIELDS = ("id", "plan", "inapp_enabled", "content_version", "time_zone")
STATE_FIELDS = ("message_id", "views", "last_viewed_at", "dismissed_at", "responded_at")

# write key → workspace id, learned from the database: it names the cache keys before the cache
# is read. Entries are checked against the cached workspace's own write key. Only a hint (per
# process, known keys only, never trusted alone), unlike tracking/write_keys.py, whose shared,
# short-lived map is the tracking API's answer itself (unknown keys included).
_workspace_ids: dict[str, int] = {}


class DeliveryWorkspace(NamedTuple):
    """The few workspace fields delivery reads (a model instance costs ten times as much; a
    named tuple, made on every request, a third of a frozen dataclass)."""

    pk: int
    plan: str
    inapp_enabled: bool
    content_version: int
    time_zone: str

    @property
    def has_anonymous_messages(self) -> bool:
        return self.plan in ANONYMOUS_MESSAGE_PLANS


# One message's state as stored: (views, last viewed, dismissed, responded), the times as POSIX
# timestamps (cheap to cache and to read back).
StateRow = tuple[int, float | None, float | None, float | None]


class MessageStates(Mapping[int, MessageState]):
    """message id → MessageState, each decoded only when asked for: a visitor has states for
    dozens of messages, and a page asks about a few."""

    __slots__ = ("_rows",)

    def __init__(self, rows: dict[int, StateRow]):
        self._rows = rows

    def __getitem__(self, message_id: int) -> MessageState:
        return _decode(self._rows[message_id])

    def get(self, message_id, default=None):
        row = self._rows.get(message_id)
        return default if row is None else _decode(row)

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def _decode(row: StateRow) -> MessageState:
    views, last_viewed_at, dismissed_at, responded_at = row
    return MessageState(
        views=views,
        last_viewed_at=_datetime(last_viewed_at),
        dismissed_at=_datetime(dismissed_at),
        responded_at=_datetime(responded_at),
    )


def _datetime(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


class VisitorState(NamedTuple):
    identified: bool
    states: Mapping[int, MessageState]


NO_VISITOR = VisitorState(identified=False, states=MessageStates({}))


def enabled() -> bool:
    return settings.DELIVERY_STATE_CACHE


def workspace_and_visitor(
    write_key: str, anonymous_id: str, *, rate_check: Check | None = None, fresh: bool = False
) -> tuple[DeliveryWorkspace | None, VisitorState]:
    """The workspace with this write key (None if none) and what this visitor did.

    `rate_check` (anonmsg/rate_limits.py) is run in the same round trip as the cache read, or
    before the database is asked; when it refuses (`rate_check.refusal`) nothing is read.
    `fresh`: the client says it has reported nothing for this id; believed (no state, no
    query) when the cached workspace is valid and no writer has set the visitor's token.
    """
    if not enabled():
        if rate_check is not None and rate_check.run():
            return None, NO_VISITOR
        return _answer(*_query(write_key, anonymous_id))
    workspace_id = _workspace_ids.get(write_key)
    if workspace_id is None and rate_check is not None and rate_check.run():
        return None, NO_VISITOR
    if workspace_id is None:
        # This process has not met this write key: the cache keys are named by workspace id.
        workspace_row, identified, state_rows = _query(write_key, anonymous_id)
        if workspace_row is not None:
            if len(_workspace_ids) >= WRITE_KEY_LIMIT:
                _workspace_ids.clear()
            _workspace_ids[write_key] = workspace_row[0]
        return _answer(workspace_row, identified, state_rows)
    digest = known_visitors.visitor_digest(anonymous_id)
    keys = _cache_keys(workspace_id, digest)
    cache_ = caches[CACHE_ALIAS]
    # Without the fresh claim the visitor may be new: its bits in the workspace's filter (as
    # this process last saw the filter) ride along the entries.
    probe = None if fresh else known_visitors.probe(cache_, workspace_id, digest)
    found, bits = _read_entries(cache_, keys, rate_check, probe)
    if rate_check is not None and rate_check.refusal:
        return None, NO_VISITOR
    ws_token = _valid_workspace_token(found, keys, write_key)
    if ws_token is not None:
        if fresh and keys[2] not in found:
            return DeliveryWorkspace(*found[keys[1]][2]), NO_VISITOR
        cached = _valid_visitor_entry(found, keys, ws_token, anonymous_id)
        if cached is not None:
            return _answer(found[keys[1]][2], *cached)
        if keys[2] not in found and known_visitors.surely_without_state(
            cache_, found.get(keys[4]), workspace_id, digest, probe, bits
        ):
            # Nothing to cache: the filter answers this visitor's next request as cheaply.
            return DeliveryWorkspace(*found[keys[1]][2]), NO_VISITOR
    # The miss path: tokens first (see the module doc), then the database, then the cache.
    tokens = _current_tokens(cache_, found, keys)
    workspace_row, identified, state_rows = _query(write_key, anonymous_id)
    if workspace_row is None or workspace_row[0] != workspace_id:
        _workspace_ids.pop(write_key, None)  # the workspace is gone (or the key moved)
    elif tokens is not None:
        ws_token, visitor_token = tokens
        cache_.set_many(
            {
                keys[1]: (ws_token, write_key, workspace_row),
                keys[3]: (visitor_token, ws_token, anonymous_id, identified, state_rows),
            },
            ENTRY_SECONDS,
        )
    return _answer(workspace_row, identified, state_rows)


def _read_entries(cache_, keys, rate_check: Check | None, probe) -> tuple[dict, list | None]:
    """The cache entries (found), and the probe's bits if it was read in the same round trip
    (else None); the rate check runs along."""
    if probe is None:
        found = (
            cache_.get_many(keys) if rate_check is None else rate_check.get_many_with(cache_, keys)
        )
        return found, None
    if rate_check is None:
        return cache_.get_many_and_bits(keys, probe.key, probe.offsets)
    return rate_check.get_many_and_bits_with(cache_, keys, probe.key, probe.offsets)


def _answer(workspace_row, identified: bool, state_rows) -> tuple:
    if workspace_row is None:
        return None, NO_VISITOR
    return DeliveryWorkspace(*workspace_row), VisitorState(
        identified=identified, states=MessageStates(state_rows)
    )


# --- Invalidation (after commit) ------------------------------------------------------------


def forget_workspaces(workspace_ids) -> None:
    """Once the current transaction commits: the cached rows of these workspaces, and with
    them every cached visitor of theirs, are stale."""
    if enabled():
        keys = [_workspace_token_key(pk) for pk in set(workspace_ids)]
        transaction.on_commit(lambda: _delete(keys), robust=True)


def forget_visitors(workspace_id: int, anonymous_ids) -> None:
    """Once the current transaction commits: these visitors' cached states are stale, and they
    are no longer fresh. A new token, not none: a fresh claim is believed only without one."""
    if enabled() and anonymous_ids:
        anonymous_ids = set(anonymous_ids)
        transaction.on_commit(lambda: _renew(workspace_id, anonymous_ids), robust=True)


# --- The cache ------------------------------------------------------------------------------


def _workspace_token_key(workspace_id: int) -> str:
    return f"{KEY_PREFIX}:ws-token:{workspace_id}"


def _workspace_key(workspace_id: int) -> str:
    return f"{KEY_PREFIX}:ws:{workspace_id}"


def _visitor_keys(workspace_id: int, digest: str) -> tuple[str, str]:
    """(token key, entry key) of a visitor's cached state (known_visitors.visitor_digest)."""
    return (
        f"{KEY_PREFIX}:visitor-token:{workspace_id}:{digest}",
        f"{KEY_PREFIX}:visitor:{workspace_id}:{digest}",
    )


def _visitor_token_key(workspace_id: int, anonymous_id: str) -> str:
    return _visitor_keys(workspace_id, known_visitors.visitor_digest(anonymous_id))[0]


def _cache_keys(workspace_id: int, digest: str) -> tuple[str, str, str, str, str]:
    """Workspace token, workspace entry, visitor token, visitor entry, and the description of
    the workspace's filter of visitors with state (known_visitors.py): one MGET."""
    return (
        _workspace_token_key(workspace_id),
        _workspace_key(workspace_id),
        *_visitor_keys(workspace_id, digest),
        known_visitors.description_key(workspace_id),
    )


def _valid_workspace_token(found: dict, keys, write_key: str) -> str | None:
    """The workspace token if the cached workspace entry carries it (and is this write
    key's), else None."""
    ws_token = found.get(keys[0])
    ws_entry = found.get(keys[1])
    if ws_token is None or ws_entry is None or ws_entry[0] != ws_token or ws_entry[1] != write_key:
        return None
    return ws_token


def _valid_visitor_entry(found: dict, keys, ws_token: str, anonymous_id: str):
    """(identified, state rows) if the cached visitor entry carries the current visitor token
    and the workspace token (and is this visitor's), else None."""
    visitor_token = found.get(keys[2])
    visitor_entry = found.get(keys[3])
    if (
        visitor_token is None
        or visitor_entry is None
        or visitor_entry[0] != visitor_token
        or visitor_entry[1] != ws_token
        or visitor_entry[2] != anonymous_id
    ):
        return None
    return visitor_entry[3], visitor_entry[4]


def _current_tokens(cache_, found: dict, keys) -> tuple[str, str] | None:
    """The workspace's and the visitor's tokens as read with the entries, created where
    missing. None if the cache would not keep them (then nothing is stored)."""
    tokens = []
    for key in (keys[0], keys[2]):
        token = found.get(key)
        if token is None:
            token = secrets.token_hex(8)
            if not cache_.add(key, token, ENTRY_SECONDS):
                token = cache_.get(key)  # another process made one first
        if token is None:
            return None
        tokens.append(token)
    return tokens[0], tokens[1]


def _delete(keys: list[str]) -> None:
    # If Redis fails here the entries stay valid until they expire (ENTRY_SECONDS).
    caches[CACHE_ALIAS].delete_many(keys)


def _renew(workspace_id: int, anonymous_ids: set[str]) -> None:
    # A new random token invalidates entries as a deletion would. If Redis fails here the
    # entries stay valid until they expire (ENTRY_SECONDS). With Redis the same round trip
    # adds the visitors to the workspace's filter of visitors with state.
    cache_ = caches[CACHE_ALIAS]
    tokens = []
    for anonymous_id in anonymous_ids:
        digest = known_visitors.visitor_digest(anonymous_id)
        tokens.append((digest, _visitor_keys(workspace_id, digest)[0], secrets.token_hex(8)))
    if known_visitors.supported(cache_):
        known_visitors.renew_and_remember(cache_, workspace_id, tokens, WRITTEN_TOKEN_SECONDS)
    else:
        cache_.set_many({key: token for _, key, token in tokens}, WRITTEN_TOKEN_SECONDS)


def clear_local() -> None:
    """Forget this process's write keys and filter descriptions (tests use it to play
    "another process")."""
    _workspace_ids.clear()
    known_visitors.forget_last_seen()


# --- The database ---------------------------------------------------------------------------


@cache
def _lookup_sql(vendor: str) -> str:
    """The one query, written out: compiling it with the ORM on every request cost three times
    as much as running it. Names come from the models' metadata.

    Timestamps come back naive in UTC on both databases: on PostgreSQL `AT TIME ZONE 'UTC'`
    lets psycopg's C loader read them (Django's time-zone-aware loader is Python, per value).
    """
    quote = connection.ops.quote_name

    def columns(model, alias, names):
        for name in names:
            field = model._meta.get_field(name)
            column = f"{alias}.{quote(field.column)}"
            if vendor == "postgresql" and field.get_internal_type() == "DateTimeField":
                column = f"{column} AT TIME ZONE 'UTC'"
            yield column

    select = [
        *columns(Workspace, "w", WORKSPACE_FIELDS),
        *columns(Visitor, "v", ["profile"]),
        *columns(VisitorMessageState, "s", [name.removesuffix("_id") for name in STATE_FIELDS]),
    ]
    workspace, visitor, state = (
        quote(model._meta.db_table) for model in (Workspace, Visitor, VisitorMessageState)
    )
    return (
        f"SELECT {', '.join(select)} FROM {workspace} w "
        f"LEFT JOIN {visitor} v ON v.{quote('workspace_id')} = w.{quote('id')} "
        f"AND v.{quote('anonymous_id')} = %s "
        f"LEFT JOIN {state} s ON s.{quote('visitor_id')} = v.{quote('id')} "
        f"WHERE w.{quote('write_key')} = %s"
    )


def _query(write_key: str, anonymous_id: str):
    """(workspace row or None, identified, {message id: StateRow}): the workspace by its write
    key (unique), LEFT JOIN the visitor by (workspace, anonymous id) (unique), LEFT JOIN its
    per-message states by visitor (unique with message). The workspace row carries
    `content_version`, the key of the live-message cache, so a warm request needs nothing else.
    """
    sql = _lookup_sql(connection.vendor)
    if connection.vendor == "postgresql" and connection.get_autocommit():
        # No health check round trip first (a new visitor without the fresh hint comes here on
        # every page view); not prepared: planned for its write key and visitor each time.
        rows = execute_reconnecting(sql, [anonymous_id, write_key], prepare=False)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, [anonymous_id, write_key])
            rows = cursor.fetchall()
    if not rows:
        return None, False, {}
    width = len(WORKSPACE_FIELDS)
    pk, plan, inapp_enabled, content_version, time_zone = rows[0][:width]
    workspace_row = (pk, plan, bool(inapp_enabled), content_version, time_zone)
    identified = rows[0][width] is not None
    states = {
        message_id: (
            views or 0,
            _timestamp(last_viewed),
            _timestamp(dismissed),
            _timestamp(responded),
        )
        for message_id, views, last_viewed, dismissed, responded in (
            row[width + 1 :] for row in rows
        )
        if message_id is not None
    }
    return workspace_row, identified, states


def _timestamp(value: datetime | None) -> float | None:
    """A naive UTC datetime from the query as a POSIX timestamp."""
    return None if value is None else value.replace(tzinfo=UTC).timestamp()
