"""The SDK-facing side of a workspace: its write key, and when an SDK was last heard from.

Both are on the hot path of every tracking (and delivery) request, so both avoid the database
most of the time: the write key → workspace id mapping is cached briefly, and "SDK last seen"
is written at most once a minute per workspace.

Not the delivery API's map (sdk_api/visitor_state.py): that one is a per-process hint naming
cache keys, checked against each entry; this one is the tracking API's answer, remembered in
two places: the shared cache (60 s, unknown keys 10 s, forgotten on rotation by
delivery/invalidation.py) and, for LOCAL_KEY_SECONDS, this process's memory, so that a warm
tracking call makes no round trip for its key (with synced rate limits, none at all). The
price: another process may accept a key rotated a moment ago for up to LOCAL_KEY_SECONDS.
"""

import math
import re
import time
from datetime import timedelta

from django.core.cache import cache, caches
from django.db.models import Q
from django.utils import timezone

from anonmsg.models import Workspace
from anonmsg.rate_limits import Check

# Write keys are `wk_` + URL-safe base64; anything else is refused without a query.
WRITE_KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")
KNOWN_KEY_SECONDS = 60
UNKNOWN_KEY_SECONDS = 10
LOCAL_KEY_SECONDS = 5.0
LOCAL_KEY_LIMIT = 10_000  # keys remembered per process (unknown ones are client input)
SDK_SEEN_EVERY = timedelta(seconds=60)


def _cache_key(write_key: str) -> str:
    return f"delivery:write-key:{write_key}"


def workspace_id_for_write_key(write_key: str, *, rate_check: Check | None = None) -> int | None:
    """The id of the workspace this write key belongs to, or None (cached; see module doc).

    `rate_check` (anonmsg/rate_limits.py) is run in the same round trip as the cache read; when
    it refuses (`rate_check.refusal`) the answer is None and the database is not asked.
    """
    if not WRITE_KEY_SHAPE.fullmatch(write_key):
        if rate_check is not None:
            rate_check.run()
        return None
    here = _known_here.get(write_key)
    if here is not None and here[1] > time.monotonic():
        if rate_check is not None and rate_check.run():
            return None
        return here[0] or None
    key = _cache_key(write_key)
    if rate_check is None:
        workspace_id = cache.get(key)
    else:
        workspace_id = rate_check.get_many_with(caches["default"], [key]).get(key)
        if rate_check.refusal:
            return None
    if workspace_id is None:
        workspace_id = (
            Workspace.objects.filter(write_key=write_key).values_list("pk", flat=True).first()
        ) or 0
        cache.set(key, workspace_id, KNOWN_KEY_SECONDS if workspace_id else UNKNOWN_KEY_SECONDS)
    if len(_known_here) >= LOCAL_KEY_LIMIT:
        _known_here.clear()
    _known_here[write_key] = (workspace_id, time.monotonic() + LOCAL_KEY_SECONDS)
    return workspace_id or None


# write key → (workspace id, 0 for none; until when, time.monotonic()). Unlocked: dict
# operations are atomic, and two threads filling one entry write the same answer.
_known_here: dict[str, tuple[int, float]] = {}


def forget_write_key(write_key: str) -> None:
    """Drop a cached mapping (the workspace is gone, or its key changed): shared, and this
    process's; other processes forget theirs within LOCAL_KEY_SECONDS."""
    cache.delete(_cache_key(write_key))
    _known_here.pop(write_key, None)


def forget_write_keys_here() -> None:
    """Clear this process's copies (tests start from a clean slate, as with the cache)."""
    _known_here.clear()


def note_sdk_seen(workspace_id: int, *, now=None) -> bool:
    """Record that an SDK of this workspace called us. Returns True when it wrote.

    Three throttles: this process's memory (not even a cache round trip most of the time), a
    cache key per workspace (no query when another process noted it) and a conditional
    UPDATE, so that several processes with their own caches still write at most once a minute
    per workspace.
    """
    if not _first_this_minute_here(workspace_id):
        return False
    if not cache.add(f"delivery:sdk-seen:{workspace_id}", 1, SDK_SEEN_EVERY.total_seconds()):
        return False
    now = now or timezone.now()
    return bool(
        Workspace.objects.filter(pk=workspace_id)
        .filter(Q(sdk_last_seen_at__isnull=True) | Q(sdk_last_seen_at__lt=now - SDK_SEEN_EVERY))
        .update(sdk_last_seen_at=now)
    )


# workspace id → when this process last got past its throttle (time.monotonic()).
_noted_here: dict[int, float] = {}


def _first_this_minute_here(workspace_id: int) -> bool:
    # Unlocked: two threads racing both pass, and the shared throttles behind take care of it.
    now = time.monotonic()
    if now - _noted_here.get(workspace_id, -math.inf) < SDK_SEEN_EVERY.total_seconds():
        return False
    _noted_here[workspace_id] = now
    return True


def forget_sdk_seen_here() -> None:
    """Clear this process's throttle (tests start from a clean slate, as with the cache)."""
    _noted_here.clear()
