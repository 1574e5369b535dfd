"""Which anonymous visitors may have state, known without the database: a Bloom filter per
workspace, kept in Redis.

Delivery reads the state of a visitor it has no cached entry for from the database
(visitor_state.py): a query for every new visitor, the common case on a real site, unless the
client claims `fresh=1`, which mobile SDKs and older browser SDKs do not. With this filter a
visitor whose bits are not all set has no state at all (no profile, no per-message state) and is
answered without a query; one whose bits are all set may have some and is read from the
database as before. False positives, visitors without state whose bits are all set: at most
1 in 90,000 when a filter is built (32 bits or more per visitor), 1 in 1,400 once its visitors
have doubled, 1 in 100 when half its bits are set, and it is rebuilt larger.

The filter is believed only while it is complete (every visitor with state in it):

- It is built from the database (`rebuild`; the hourly task `maintain` builds a workspace's
  filter when it is missing, after a Redis restart say, once a day, and when it fills up,
  resized).
- Every writer of a visitor's state renews the visitor's cache token after its commit
  (visitor_state.forget_visitors); `renew_and_remember` does that and sets the visitor's bits in
  one script, in the current filter and in the one being built, read atomically with them.
- A build announces itself before it reads the database, so a writer that commits after the
  read began sets its bits in the new filter itself; the build adds what it read, and makes the
  new filter current only if its announcement still stands.
- A writer whose script fails (Redis unreachable) may leave a visitor out: its process owes the
  workspace a drop, and deletes the filter's descriptions the next time it reaches Redis (the
  database answers until the hourly task builds a new one). A process killed before that
  leaves the hole until the daily build: the same bound, and the same consequence, as a visitor
  token a writer could not renew (docs/delivery-api.md).
- A filter string lost alone (evicted under `maxmemory`) reads as zeros: bit 0 is set by every
  build and by no writer, and a filter whose bit 0 is clear is not believed.

Redis only (BITFIELD and scripts): with another cache there is no filter, and every visitor
without a cached entry is read from the database.
"""

import hashlib
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.core.cache import caches
from django.db.models import Exists, OuterRef, Q
from redis import RedisError

from anonmsg.models import Workspace
from delivery.models import Visitor, VisitorMessageState
from delivery.sdk_api import CACHE_ALIAS

logger = logging.getLogger(__name__)

KEY_PREFIX = "anonmsg:delivery:filter:v1"
HASHES = 7
BITS_PER_VISITOR = 32  # room for twice the visitors at build time, at 16 bits each
MIN_SIZE_LOG2 = 16  # 8 KiB: a workspace with few visitors (a filter that fills is rebuilt larger)
# Rebuilt, larger, within the hour once this share of its bits is set: then about 1 visitor in
# 100 without state is a false positive (0.52 ** HASHES), read from the database.
FULL_SHARE = 0.52
# 128 MiB: 33 M visitors at build time, 67 M before the false positives pass 0.1 %.
MAX_SIZE_LOG2 = 30
REBUILD_AFTER_SECONDS = 24 * 60 * 60
# A filter nobody rebuilt for two days (the task cluster is down) is no longer believed.
DESCRIPTION_SECONDS = 2 * REBUILD_AFTER_SECONDS
BUILDING_SECONDS = 60 * 60
OLD_FILTER_SECONDS = 10 * 60  # readers that read the old description a moment ago still find it
STREAM_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class Description:
    """Which of the workspace's two filter strings is current, its size (2**size_log2 bits)
    and when it was built. Stored as one int: the cache keeps ints as digits, which the
    scripts read and `get_many` returns without unpickling."""

    slot: int
    size_log2: int
    built_at: int  # POSIX seconds

    def encode(self) -> int:
        return (self.built_at << 7) | (self.size_log2 << 1) | self.slot

    @classmethod
    def decode(cls, value: int) -> "Description":
        return cls(slot=value & 1, size_log2=(value >> 1) & 63, built_at=value >> 7)


def visitor_digest(anonymous_id: str) -> str:
    """The visitor's name in the cache: anonymous ids are client input (any characters, up to
    255), hashed into a safe key. Its first 16 hex digits place the visitor in the filter."""
    return hashlib.blake2b(anonymous_id.encode(), digest_size=16).hexdigest()


def visitor_hashes(digest: str) -> tuple[int, int]:
    """Two 32-bit hashes (the second odd) for double hashing: small enough for the scripts'
    Lua numbers to add exactly."""
    return int(digest[:8], 16), int(digest[8:16], 16) | 1


def bit_offsets(hashes: tuple[int, int], size_log2: int) -> list[int]:
    """The visitor's bits in a filter of 2**size_log2 bits (the write script computes the
    same)."""
    first, step = hashes
    size = 1 << size_log2
    return [(first + i * step) % size for i in range(HASHES)]


def size_log2_for(visitors: int) -> int:
    return min(MAX_SIZE_LOG2, max(MIN_SIZE_LOG2, (visitors * BITS_PER_VISITOR - 1).bit_length()))


def supported(cache_) -> bool:
    return hasattr(cache_, "get_bits")


def description_key(workspace_id: int) -> str:
    return f"{KEY_PREFIX}:{workspace_id}"


def _building_key(workspace_id: int) -> str:
    return f"{KEY_PREFIX}:{workspace_id}:building"


def _filter_key(workspace_id: int, slot: int) -> str:
    return f"{KEY_PREFIX}:{workspace_id}:bits:{slot}"


# --- Reading --------------------------------------------------------------------------------


class Filter(NamedTuple):
    """A filter as a description describes it: its string's key and its size."""

    description: int
    key: str
    size_log2: int

    @classmethod
    def described(cls, workspace_id: int, description: int) -> "Filter":
        built = Description.decode(description)
        return cls(description, _filter_key(workspace_id, built.slot), built.size_log2)


class Probe(NamedTuple):
    """Where a visitor's bits are in a filter: bit 0 ("built") first."""

    description: int
    key: str
    offsets: list[int]


# workspace id → the filter this process saw described last: the one to probe in the same round
# trip as the next request's entries. Only a guess, checked against the description that round
# trip reads.
_last_seen: dict[int, Filter] = {}
LAST_SEEN_LIMIT = 10_000


def probe(cache_, workspace_id: int, digest: str, filter_: Filter | None = None) -> Probe | None:
    """The visitor's bits in `filter_` (default: the workspace's filter as this process last
    saw it); None if there is none to look at."""
    if filter_ is None:
        filter_ = _last_seen.get(workspace_id)
    if filter_ is None or not supported(cache_):
        return None
    offsets = bit_offsets(visitor_hashes(digest), filter_.size_log2)
    return Probe(filter_.description, filter_.key, [0, *offsets])


def surely_without_state(
    cache_,
    description: int | None,
    workspace_id: int,
    digest: str,
    probed: Probe | None = None,
    bits: list[int] | None = None,
) -> bool:
    """Whether the workspace's filter (`description`, read with the visitor's entries) is
    complete and leaves this visitor out. False whenever that is not known: no filter, Redis
    failing, a filter string lost, or the visitor's bits all set. `bits`: what `probed`
    read in the same round trip, used if it probed the filter `description` describes (else
    the bits are read now)."""
    if description is None or not supported(cache_):
        _last_seen.pop(workspace_id, None)
        return False
    if bits is None or probed is None or probed.description != description:
        if len(_last_seen) >= LAST_SEEN_LIMIT:
            _last_seen.clear()
        filter_ = _last_seen[workspace_id] = Filter.described(workspace_id, description)
        probed = probe(cache_, workspace_id, digest, filter_)
        bits = cache_.get_bits(probed.key, probed.offsets)
    return bits is not None and bits[0] == 1 and 0 in bits[1:]


def forget_last_seen() -> None:
    """Tests: play a process that has not read any filter's description yet."""
    _last_seen.clear()


# --- Writing (after a commit) ----------------------------------------------------------------

# KEYS: the description, the announcement of a build, filter strings 0 and 1, then one token
# key per visitor. ARGV: the tokens' seconds, one token per key, then two hashes per visitor.
# An announcement is "<description>:<nonce>"; both start with the description's digits. One
# BITFIELD per visitor: Lua's unpack() takes a few thousand values at most.
_WRITE_SCRIPT = b"""
local visitors = #KEYS - 4
for i = 1, visitors do
  redis.call('SET', KEYS[4 + i], ARGV[1 + i], 'EX', ARGV[1])
end
for d = 1, 2 do
  local raw = redis.call('GET', KEYS[d])
  if raw then
    local description = tonumber(string.match(raw, '^%d+'))
    local filter = KEYS[3 + description % 2]
    local size = 2 ^ (math.floor(description / 2) % 64)
    for v = 2 + visitors, #ARGV, 2 do
      local first, step = tonumber(ARGV[v]), tonumber(ARGV[v + 1])
      local ops = {}
      for i = 0, HASHES - 1 do
        ops[#ops + 1] = 'SET'
        ops[#ops + 1] = 'u1'
        ops[#ops + 1] = string.format('%d', (first + i * step) % size)
        ops[#ops + 1] = 1
      end
      redis.call('BITFIELD', filter, unpack(ops))
    end
  end
end
""".replace(b"HASHES", str(HASHES).encode())

_DROP_SCRIPT = b"redis.call('DEL', unpack(KEYS))"

# workspace ids whose filters may miss a visitor: a write script failed in this process.
_owed: set[int] = set()
_owed_lock = threading.Lock()


def renew_and_remember(
    cache_, workspace_id: int, tokens: list[tuple[str, str, str]], seconds: int
) -> None:
    """Set visitors' cache tokens for `seconds` and their bits in the workspace's filters, in
    one round trip. `tokens`: (visitor digest, token key, token) per visitor."""
    _pay_debts(cache_)
    keys = [
        description_key(workspace_id),
        _building_key(workspace_id),
        _filter_key(workspace_id, 0),
        _filter_key(workspace_id, 1),
    ]
    keys += [key for _, key, _ in tokens]
    args = [seconds, *(cache_.serialized(token) for _, _, token in tokens)]
    for digest, _, _ in tokens:
        args += visitor_hashes(digest)
    if not _run(cache_, _WRITE_SCRIPT, keys, args):
        with _owed_lock:
            _owed.add(workspace_id)


def _pay_debts(cache_) -> None:
    if not _owed:
        return
    with _owed_lock:
        owed = set(_owed)
    keys = [key for pk in owed for key in (description_key(pk), _building_key(pk))]
    if _run(cache_, _DROP_SCRIPT, keys, []):
        with _owed_lock:
            _owed.difference_update(owed)
        logger.warning(
            "Dropped the visitor filters of workspace(s) %s: a state write could not reach "
            "Redis. Delivery reads those visitors from the database until the hourly task "
            "builds the filters again.",
            ", ".join(map(str, sorted(owed))),
        )


def _run(cache_, script: bytes, keys: list[str], args: list) -> bool:
    """Run a script on the cache's keys; False when Redis failed (or is known to be down)."""
    return cache_.script_ran(script, [cache_.make_key(key) for key in keys], args)


# --- Building -------------------------------------------------------------------------------

# KEYS: the built filter, the scratch string holding what the build read, the description,
# the announcement, the filter string being replaced. ARGV: the announcement, the new
# description, its seconds, the replaced string's seconds.
_SWITCH_SCRIPT = b"""
if redis.call('GET', KEYS[4]) ~= ARGV[1] then
  redis.call('DEL', KEYS[2])
  return 0
end
redis.call('BITOP', 'OR', KEYS[1], KEYS[1], KEYS[2])
redis.call('DEL', KEYS[2], KEYS[4])
redis.call('EXPIRE', KEYS[1], ARGV[3] + ARGV[4])
redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[3])
redis.call('EXPIRE', KEYS[5], ARGV[4])
return 1
"""


def visitors_with_state(workspace_id: int):
    """The anonymous ids delivery would find state for: a profile, or per-message state."""
    return Visitor.objects.filter(workspace_id=workspace_id).filter(
        Q(profile__isnull=False)
        | Exists(VisitorMessageState.objects.filter(visitor=OuterRef("pk")))
    )


def rebuild(workspace_id: int, *, now: datetime) -> int | None:
    """Build the workspace's filter from the database and make it current: the number of
    visitors read, or None when another build or a drop came in between. Raises RedisError
    when Redis fails."""
    cache_ = shared_cache()
    if not supported(cache_):
        return None
    current = cache_.get(description_key(workspace_id))
    slot = 0 if current is None else 1 - Description.decode(current).slot
    visitors = visitors_with_state(workspace_id)
    built = Description(
        slot=slot, size_log2=size_log2_for(visitors.count()), built_at=int(now.timestamp())
    )
    announcement = f"{built.encode()}:{secrets.token_hex(4)}"
    target = _filter_key(workspace_id, slot)
    scratch = f"{target}:scratch"
    client = cache_.client()
    # Writers see the announcement only once the string is emptied.
    client.delete(cache_.make_key(target))
    client.set(cache_.make_key(_building_key(workspace_id)), announcement, ex=BUILDING_SECONDS)
    bits, read = _read_into_bits(visitors, built.size_log2)
    client.set(cache_.make_key(scratch), bytes(bits), ex=BUILDING_SECONDS)
    switched = cache_.evalsha(
        _SWITCH_SCRIPT,
        [
            cache_.make_key(key)
            for key in (
                target,
                scratch,
                description_key(workspace_id),
                _building_key(workspace_id),
                _filter_key(workspace_id, 1 - slot),
            )
        ],
        [announcement, built.encode(), DESCRIPTION_SECONDS, OLD_FILTER_SECONDS],
    )
    return read if switched else None


def _read_into_bits(visitors, size_log2: int) -> tuple[bytearray, int]:
    """The filter of these visitors, in Redis's bit order (bit 0 is the first byte's
    highest), with bit 0 set: "built"."""
    bits = bytearray(1 << (size_log2 - 3))
    bits[0] |= 0x80
    read = 0
    for anonymous_id in visitors.values_list("anonymous_id", flat=True).iterator(
        chunk_size=STREAM_CHUNK
    ):
        read += 1
        for offset in bit_offsets(visitor_hashes(visitor_digest(anonymous_id)), size_log2):
            bits[offset >> 3] |= 0x80 >> (offset & 7)
    return bits, read


def shared_cache():
    return caches[CACHE_ALIAS]


def maintain(*, now: datetime, older_than_seconds: int = REBUILD_AFTER_SECONDS) -> dict:
    """Build the filters that are missing, older than that, or full (`FULL_SHARE`):
    {workspace id: visitors read, or None}. Stops at the first Redis failure, with one
    warning: the next run tries again."""
    cache_ = shared_cache()
    if not supported(cache_):
        return {}
    built = {}
    try:
        _maintain(cache_, built, now=now, older_than_seconds=older_than_seconds)
    except RedisError as error:
        logger.warning(
            "Visitor filters: Redis failed after %d built (%s: %s); the next hourly run "
            "goes on. Delivery reads the visitors of workspaces without one from the database.",
            len(built),
            type(error).__name__,
            error,
        )
    return built


def _maintain(cache_, built: dict, *, now: datetime, older_than_seconds: int) -> None:
    if not cache_.circuit_breaker.allows():
        raise RedisError("the cache's circuit breaker is open")
    workspace_ids = list(Workspace.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(workspace_ids), 500):
        chunk = workspace_ids[start : start + 500]
        found = cache_.get_many([description_key(pk) for pk in chunk])
        for pk in chunk:
            description = found.get(description_key(pk))
            if description is None or _due(
                cache_,
                pk,
                Description.decode(description),
                now=now,
                older_than_seconds=older_than_seconds,
            ):
                built[pk] = rebuild(pk, now=now)


def _due(
    cache_, workspace_id: int, built: Description, *, now: datetime, older_than_seconds: int
) -> bool:
    if now.timestamp() - built.built_at >= older_than_seconds:
        return True
    ones = cache_.client().bitcount(cache_.make_key(_filter_key(workspace_id, built.slot)))
    return ones >= FULL_SHARE * (1 << built.size_log2)


def forget_debts() -> None:
    """Tests: forget what this process owes."""
    with _owed_lock:
        _owed.clear()
