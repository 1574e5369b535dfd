"""Token buckets, as a pure decision (plain values in, plain values out).

A bucket holds up to a minute's worth of tokens and refills evenly. A request names several
buckets at once (its client IP's, its key's, …) and passes only if every one holds the token it
needs; then a token leaves each, otherwise none leaves any (a refused request costs nothing,
so a client that keeps retrying is not held back longer).

`anonmsg/rate_limits.py` runs this in each process (alone, or synced through Redis with
SYNC_SCRIPT below), or as one Lua script inside Redis per request (RATE_LIMIT_SCRIPT below).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

# (tokens, when they were counted in ms); None for a bucket never used (or expired): full.
State = tuple[float, float] | None

# What a request does with a bucket: take a token (needs one), only check that one is there
# (needs one, takes none), or only note a token spent (needs none: counting failures).
TAKE, CHECK, NOTE = "take", "check", "note"
_NEED = {TAKE: 1, CHECK: 1, NOTE: 0}
_TAKE = {TAKE: 1, CHECK: 0, NOTE: 1}


@dataclass(frozen=True, slots=True)
class Bucket:
    """Holds up to `per_minute` tokens (a minute's worth) and gains per_minute / 60 a second.

    What `decide` reads of it is worked out once, when it is made: every SDK request decides on
    three buckets, and properties computed anew cost more than the arithmetic itself."""

    key: str
    per_minute: int
    mode: str = TAKE
    capacity: float = field(init=False, repr=False, compare=False)
    per_ms: float = field(init=False, repr=False, compare=False)
    need: int = field(init=False, repr=False, compare=False)
    take: int = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        derived = {
            "capacity": float(self.per_minute),
            "per_ms": self.per_minute / 60_000,
            "need": _NEED[self.mode],
            "take": _TAKE[self.mode],
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)


class Decision(NamedTuple):
    # A tuple, not a dataclass: one is made for every SDK request.
    allowed: bool
    # Milliseconds until every refusing bucket holds what it needs (0 when allowed).
    wait_ms: int
    # The first bucket that refused (index into the buckets), None when allowed.
    refused_by: int | None
    # The states to store for the buckets a pass took from: {index: (tokens, now_ms)}.
    states: dict[int, tuple[float, float]]


def level(bucket: Bucket, state: State, now_ms: float) -> float:
    """The bucket's tokens at `now_ms`. A state may carry more after its two values (a
    process's copy keeps when it may be forgotten)."""
    if state is None:
        return bucket.capacity
    return min(bucket.capacity, state[0] + max(0.0, now_ms - state[1]) * bucket.per_ms)


def decide(buckets: Sequence[Bucket], states: Sequence[State], now_ms: float) -> Decision:
    levels = [level(bucket, state, now_ms) for bucket, state in zip(buckets, states, strict=True)]
    wait_ms = 0
    refused_by = None
    for index, bucket in enumerate(buckets):
        tokens = levels[index]
        if tokens < bucket.need:
            wait_ms = max(wait_ms, math.ceil((bucket.need - tokens) / bucket.per_ms))
            if refused_by is None:
                refused_by = index
    if refused_by is not None:
        return Decision(False, max(wait_ms, 1), refused_by, {})
    taken = {}
    for index, bucket in enumerate(buckets):
        if bucket.take:
            taken[index] = (max(0.0, levels[index] - bucket.take), now_ms)
    return Decision(True, 0, None, taken)


def expiry_ms(bucket: Bucket, tokens: float) -> int:
    """How long a stored state matters: once the bucket is full again it can be forgotten."""
    return math.ceil((bucket.capacity - tokens) / bucket.per_ms) + 1000


# What both scripts below start with: Redis's clock (TIME, the one clock every web process
# agrees on), the buckets' states (one MGET) and `level`, the arithmetic of `level` above. A
# bucket is one string, "<tokens> <at ms>".
_PROLOGUE = """
local now_s = redis.call('TIME')
local now = tonumber(now_s[1]) * 1000 + tonumber(now_s[2]) / 1000
local states = redis.call('MGET', unpack(KEYS))
local function level(state, capacity, per_ms, at_now)
  if not state then return capacity end
  local space = string.find(state, ' ', 1, true)
  local at = tonumber(string.sub(state, space + 1))
  return math.min(capacity, tonumber(string.sub(state, 1, space - 1)) + math.max(0, at_now - at) * per_ms)
end
"""


# The same decision inside Redis, so that every process shares the buckets and a request costs
# one round trip. KEYS: the buckets; ARGV: per_minute and mode of each. Returns {wait_ms,
# refused_by} with refused_by 1-based, or {0, 0} when allowed. Each bucket taken from is written
# with one SET … PX: half the Redis CPU of a hash (HMGET, HSET and PEXPIRE per bucket).
RATE_LIMIT_SCRIPT = (
    _PROLOGUE
    + """
local levels = {}
local wait = 0
local refused = 0
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[2 * i - 1])
  local per_ms = capacity / 60000
  local need = 1
  if ARGV[2 * i] == 'note' then need = 0 end
  local tokens = level(states[i], capacity, per_ms, now)
  levels[i] = tokens
  if tokens < need then
    wait = math.max(wait, math.ceil((need - tokens) / per_ms))
    if refused == 0 then refused = i end
  end
end
if refused > 0 then
  return {math.max(wait, 1), refused}
end
for i = 1, #KEYS do
  if ARGV[2 * i] ~= 'check' then
    local capacity = tonumber(ARGV[2 * i - 1])
    local tokens = math.max(0, levels[i] - 1)
    local expiry = math.ceil((capacity - tokens) / (capacity / 60000)) + 1000
    redis.call('SET', KEYS[i], tokens .. ' ' .. now, 'PX', expiry)
  end
end
return {0, 0}
"""
)


# Synced buckets: what one process spent since its last sync, added to the shared buckets.
# KEYS: the buckets; ARGV: per_minute and the tokens taken, for each. Each bucket is refilled
# to Redis's now, loses what was taken (down to minus a minute's worth: what processes let
# through beyond the limit before they knew, to be waited off) and is written back if anything
# was taken; the answer is every bucket's level, as strings (Lua numbers would be truncated).
SYNC_SCRIPT = (
    _PROLOGUE
    + """
local levels = {}
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[2 * i - 1])
  local taken = tonumber(ARGV[2 * i])
  local per_ms = capacity / 60000
  local tokens = level(states[i], capacity, per_ms, now)
  if taken > 0 then
    tokens = math.max(-capacity, tokens - taken)
    local expiry = math.ceil((capacity - tokens) / per_ms) + 1000
    redis.call('SET', KEYS[i], tokens .. ' ' .. now, 'PX', expiry)
  end
  levels[i] = tostring(tokens)
end
return levels
"""
)
