"""Rate limits on the public endpoints: token buckets per client IP and per key.

| Family | Endpoints | Buckets |
| --- | --- | --- |
| `tracking` | `POST /v1/*` | per client IP, per write key |
| `delivery` | `GET /api/v1/delivery` | per client IP, per write key |
| `sdk_script` | the SDK script | per client IP |
| `app_api` | `/api/v1/anonymous-messages…` | per App API key |

Every family but the SDK script also checks the client IP's *failed authentication* bucket:
a request with an unknown or revoked key takes a token from it (`note_failed_auth`), and an
IP with none left is refused before any key is looked up, like a locked-out login. Limits are
per minute, a bucket holds a minute's worth (the burst) and refills evenly; settings
`RATE_LIMITS_ENABLED` and `RATE_LIMITS` (docs/configuration.md, "Rate limits").

Where the buckets live (the decision is always anonmsg/token_bucket.py's):
- **Synced** (Redis, `RATE_LIMIT_SYNC_MS` > 0, the default): each process decides from its
  own copy of the buckets, so a request makes no round trip for its limits, and at most every
  `RATE_LIMIT_SYNC_MS` one request sends what the process spent since the last time to Redis,
  in one script that adds it to the shared buckets and answers their levels, which replace the
  process's copies. Every process thus sees what the others spent within a sync or two; a
  bucket a process has not seen yet starts full there, so a client may get up to one sync's
  worth more per process than the limit (docs/configuration.md, "Rate limits"). The shape of
  the algorithm is Gubernator's "global" behaviour and Envoy's local-then-global limits.
- **Exact** (Redis, `RATE_LIMIT_SYNC_MS=0`): one Lua script per request decides in Redis; on
  the delivery and tracking hot paths it rides along the cache read they make anyway
  (`Check.get_many_with`).
- **Local** (no Redis): each process alone; N processes let N times the limit through.

Why not a library: django-ratelimit counts fixed windows through the cache (two round trips,
and a client may send twice its limit across a window's edge); `limits` offers fixed, moving
and sliding windows, each limit a round trip of its own on its own connection pool, and
a reset time costs another; neither decides without a round trip.

When Redis fails, synced limits keep being decided in each process (as without Redis) and
exact ones are not enforced (fail open: an outage of the cache must not refuse SDKs); Redis is
left alone for OUTAGE_RETRY_SECONDS, and the outage is logged once (per process) when it starts
and once when it ends, not on every request.
"""

import hashlib
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
from redis import RedisError

from anonmsg.client_ip import client_ip
from anonmsg.redis_cache import RedisCache
from anonmsg.token_bucket import (
    CHECK,
    NOTE,
    RATE_LIMIT_SCRIPT,
    SYNC_SCRIPT,
    TAKE,
    Bucket,
    Decision,
    decide,
    expiry_ms,
)

logger = logging.getLogger(__name__)

# v2: each bucket is a string, no longer a hash (anonmsg/token_bucket.py).
KEY_PREFIX = "anonmsg:rate:v2"
FAILED_AUTH = "failed_auth_per_ip"
# family: (limit per client IP, limit per key, checks failed authentications)
FAMILIES = {
    "tracking": ("tracking_per_ip", "tracking_per_key", True),
    "delivery": ("delivery_per_ip", "delivery_per_key", True),
    "sdk_script": ("sdk_script_per_ip", None, False),
    "app_api": (None, "app_api_per_key", True),
}
DESCRIPTIONS = {
    "tracking_per_ip": "tracking requests from this IP address",
    "tracking_per_key": "tracking requests for this write key",
    "delivery_per_ip": "delivery requests from this IP address",
    "delivery_per_key": "delivery requests for this write key",
    "sdk_script_per_ip": "SDK script requests from this IP address",
    "app_api_per_key": "App API requests for this key",
    FAILED_AUTH: "requests with an unknown or revoked key from this IP address",
}
OUTAGE_RETRY_SECONDS = 5.0
LOCAL_BUCKET_LIMIT = 100_000
# Buckets spent from since the last sync; more than this and the next request syncs at once.
UNSENT_LIMIT = 5_000
_SYNC_SCRIPT = SYNC_SCRIPT.encode()


@dataclass(frozen=True, slots=True)
class Refusal:
    limit: str
    retry_after: int  # whole seconds, at least 1

    @property
    def message(self) -> str:
        return (
            f"Too many {DESCRIPTIONS[self.limit]}. Retry after {self.retry_after} s "
            "(the Retry-After header); nothing was stored."
        )


class Check:
    """The buckets one request must take a token from, to be run once: alone (`run`), or in
    the same Redis round trip as a cache read of the hot path (`get_many_with`)."""

    __slots__ = ("names", "buckets", "refusal")

    def __init__(self, names: tuple[str, ...], buckets: tuple[Bucket, ...]):
        self.names = names
        self.buckets = buckets
        self.refusal: Refusal | None = None

    def run(self) -> Refusal | None:
        self._settle(_decide(self.buckets))
        return self.refusal

    def get_many_with(self, cache, keys) -> dict:
        """`cache.get_many(keys)`, running this check in the same round trip when both are in
        Redis; else one after the other. Its refusal, if any, is `self.refusal`."""
        if _decided_here(cache):
            self.run()  # synced: decided here, no round trip (or the sync's, now and then)
            return cache.get_many(keys)
        try:
            found, answer = cache.get_many_and_evalsha(
                keys, _redis.script, _redis.keys(self.buckets), _redis.args(self.buckets)
            )
        except RedisError as exc:
            _redis.failed(exc)
            return {}  # what the cache answers when Redis fails: a miss
        self._settle(_redis.decision(answer))
        return found

    def get_many_and_bits_with(self, cache, keys, key, offsets) -> tuple[dict, list | None]:
        """`cache.get_many_and_bits(keys, key, offsets)` and this check: one round trip when
        the limits are synced; in the exact mode the check rides along the MGET and the bits
        are not read (None)."""
        if _decided_here(cache):
            self.run()
            return cache.get_many_and_bits(keys, key, offsets)
        return self.get_many_with(cache, keys), None

    def _settle(self, decision: Decision | None) -> None:
        if decision is not None and not decision.allowed:
            self.refusal = Refusal(
                limit=self.names[decision.refused_by],
                retry_after=max(1, -(-decision.wait_ms // 1000)),
            )


def _decided_here(cache) -> bool:
    """Whether a check is decided in this process (limits synced, or Redis not there or
    resting) rather than by a script riding along the cache read."""
    return not isinstance(cache, RedisCache) or _redis.paused() or bool(settings.RATE_LIMIT_SYNC_MS)


def prepare(request, family: str, *, key: str = "") -> Check | None:
    """The check of this request's buckets (None if no limit applies), not run yet."""
    if not settings.RATE_LIMITS_ENABLED:
        return None
    ip = client_ip(request)
    names_and_buckets = _plans.get((family, ip, key))
    if names_and_buckets is None:
        names_and_buckets = _plan(family, ip, key)
        if len(_plans) >= PLAN_LIMIT:
            _plans.clear()
        _plans[family, ip, key] = names_and_buckets
    names, buckets = names_and_buckets
    return Check(names, buckets) if buckets else None


# (family, client IP, key) → the names and buckets of its check. The same clients and keys
# come back request after request, and making their buckets (a digest, three keys) cost as
# much as deciding on them. Bounded, as every map of client input; emptied when the limits
# change (`_limits_changed`).
_plans: dict[tuple[str, str, str], tuple[tuple[str, ...], tuple[Bucket, ...]]] = {}
PLAN_LIMIT = 10_000


def _plan(family: str, ip: str, key: str) -> tuple[tuple[str, ...], tuple[Bucket, ...]]:
    ip_limit, key_limit, checks_failed_auth = FAMILIES[family]
    limits = settings.RATE_LIMITS
    subject = ip_subject(ip)
    names = []
    buckets = []
    if checks_failed_auth and limits[FAILED_AUTH]:
        names.append(FAILED_AUTH)
        buckets.append(_bucket(FAILED_AUTH, subject, limits[FAILED_AUTH], CHECK))
    if ip_limit and limits[ip_limit]:
        names.append(ip_limit)
        buckets.append(_bucket(ip_limit, subject, limits[ip_limit]))
    if key_limit and key and limits[key_limit]:
        names.append(key_limit)
        buckets.append(_bucket(key_limit, key_subject(key), limits[key_limit]))
    return tuple(names), tuple(buckets)


@receiver(setting_changed)
def _limits_changed(*, setting, **kwargs):
    if setting in ("RATE_LIMITS", "RATE_LIMITS_ENABLED"):
        _plans.clear()


def check(request, family: str, *, key: str = "") -> Refusal | None:
    """Take a token for this request from its buckets; a Refusal if one of them is empty."""
    pending = prepare(request, family, key=key)
    return pending.run() if pending is not None else None


class Refused(Exception):
    """Raised by `enforce`, for views that answer errors from exceptions."""

    def __init__(self, refusal: Refusal):
        super().__init__(refusal.message)
        self.refusal = refusal


def enforce(request, family: str, *, key: str = "") -> None:
    """`check`, raising Refused instead of returning a Refusal."""
    if refusal := check(request, family, key=key):
        raise Refused(refusal)


def note_failed_auth(request) -> None:
    """This request's key was unknown or revoked: count it against its client IP."""
    per_minute = settings.RATE_LIMITS[FAILED_AUTH] if settings.RATE_LIMITS_ENABLED else 0
    if per_minute:
        ip = ip_subject(client_ip(request))
        _decide([_bucket(FAILED_AUTH, ip, per_minute, NOTE)])


def too_many_requests(refusal: Refusal) -> JsonResponse:
    """The APIs' 429: `{"error": "rate_limited", "message": …}` and Retry-After."""
    response = JsonResponse({"error": "rate_limited", "message": refusal.message}, status=429)
    return _with_retry_after(response, refusal)


def too_many_requests_text(refusal: Refusal) -> HttpResponse:
    """The SDK script's 429, in plain text."""
    response = HttpResponse(refusal.message, status=429, content_type="text/plain; charset=utf-8")
    return _with_retry_after(response, refusal)


def _with_retry_after(response: HttpResponse, refusal: Refusal) -> HttpResponse:
    response["Retry-After"] = str(refusal.retry_after)
    response["Cache-Control"] = "no-store"
    return response


# --- Subjects -------------------------------------------------------------------------------


def ip_subject(ip: str) -> str:
    """An IPv4 address as is; an IPv6 address as its /64, which one client usually holds whole
    (otherwise it could rotate through 2^64 addresses, each with a fresh bucket)."""
    if ":" not in ip:
        return ip or "unknown"
    try:
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False).network_address)
    except ValueError:
        return "unknown"


def key_subject(key: str) -> str:
    # Keys are client input (any text): digested into a short, safe name. Never the App API
    # key itself: callers pass its hash.
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def _bucket(limit: str, subject: str, per_minute: int, mode: str = TAKE) -> Bucket:
    return Bucket(key=f"{KEY_PREFIX}:{limit}:{subject}", per_minute=per_minute, mode=mode)


# --- Where the buckets live -----------------------------------------------------------------


def _decide(buckets: Sequence[Bucket]) -> Decision | None:
    """The decision for these buckets (see the module doc for where they live); None when
    exact limits meet a Redis that is unavailable (fail open)."""
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return _local.decide(buckets)
    if settings.RATE_LIMIT_SYNC_MS:
        return _synced.decide(buckets, cache, sync_ms=settings.RATE_LIMIT_SYNC_MS)
    return _redis.decide(buckets, cache)


def sync_now() -> None:
    """Send what this process spent to Redis and read the shared levels back, now (tests)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        _synced.sync(cache)


class RedisBuckets:
    def __init__(self):
        self.script = RATE_LIMIT_SCRIPT.encode()
        self.down_until = 0.0
        self.outage = False

    @staticmethod
    def keys(buckets: Sequence[Bucket]) -> list[str]:
        return [bucket.key for bucket in buckets]

    @staticmethod
    def args(buckets: Sequence[Bucket]) -> list:
        args = []
        for bucket in buckets:
            args += (bucket.per_minute, bucket.mode)
        return args

    def paused(self) -> bool:
        """Whether Redis failed a moment ago (then it is left alone for a while)."""
        return bool(self.down_until) and time.monotonic() < self.down_until

    def decide(self, buckets: Sequence[Bucket], cache) -> Decision | None:
        if self.paused():
            return None
        try:
            answer = cache.evalsha(self.script, self.keys(buckets), self.args(buckets))
        except RedisError as exc:
            self.failed(exc)
            return None
        return self.decision(answer)

    def answered(self) -> None:
        if self.outage:
            self.outage = False
            self.down_until = 0.0
            logger.warning("Rate limits are %s again: Redis answers.", self._shared_or_enforced())

    @staticmethod
    def _shared_or_enforced() -> str:
        return "shared" if settings.RATE_LIMIT_SYNC_MS else "enforced"

    def decision(self, answer) -> Decision:
        self.answered()
        wait_ms, refused = answer
        if not refused:
            return Decision(True, 0, None, {})
        return Decision(False, int(wait_ms), int(refused) - 1, {})

    def failed(self, exc: Exception) -> None:
        self.down_until = time.monotonic() + OUTAGE_RETRY_SECONDS
        if not self.outage:
            self.outage = True
            if settings.RATE_LIMIT_SYNC_MS:
                meanwhile = "Rate limits are counted per process: Redis failed (%s)."
            else:
                meanwhile = (
                    "Rate limits are not enforced: Redis failed (%s). Requests are let through;"
                )
            logger.warning(
                meanwhile + " Redis is tried again every %g s.", exc, OUTAGE_RETRY_SECONDS
            )


class LocalBuckets:
    """The buckets of this process (no REDIS_URL): limits then apply per web process."""

    def __init__(self):
        self.lock = threading.Lock()
        # key → (tokens, counted at ms, forgettable after ms)
        self.states: dict[str, tuple[float, float, float]] = {}

    def decide(self, buckets: Sequence[Bucket]) -> Decision:
        now_ms = time.monotonic() * 1000
        with self.lock:
            decision = decide(buckets, [self.states.get(bucket.key) for bucket in buckets], now_ms)
            for index, (tokens, at_ms) in decision.states.items():
                bucket = buckets[index]
                self.states[bucket.key] = (tokens, at_ms, at_ms + expiry_ms(bucket, tokens))
            self._spent(buckets, decision)
            if len(self.states) > LOCAL_BUCKET_LIMIT:
                self._forget_full(now_ms)
        return decision

    def _spent(self, buckets: Sequence[Bucket], decision: Decision) -> None:
        """Called under the lock with every decision (SyncedBuckets counts what to send)."""

    def _forget_full(self, now_ms: float) -> None:
        for key in [key for key, state in self.states.items() if state[2] < now_ms]:
            del self.states[key]
        if len(self.states) > LOCAL_BUCKET_LIMIT:
            self.states.clear()

    def clear(self) -> None:
        with self.lock:
            self.states.clear()


class SyncedBuckets(LocalBuckets):
    """This process's copies of the shared buckets, decided here and synced through Redis
    (module doc). Tokens may go below zero after a sync: what other processes let through
    beyond the limit, which this one then waits off."""

    def __init__(self):
        super().__init__()
        # key → [bucket, tokens taken here since the last sync]; buckets only checked are
        # listed too (0 taken), so that the sync brings back their shared level.
        self.unsent: dict[str, list] = {}
        self.synced_at = -math.inf
        self.syncing = False

    def decide(self, buckets: Sequence[Bucket], cache, *, sync_ms: int) -> Decision:
        decision = super().decide(buckets)
        if (
            time.monotonic() - self.synced_at >= sync_ms / 1000 or len(self.unsent) > UNSENT_LIMIT
        ) and not self.syncing:
            self.sync(cache)
        return decision

    def _spent(self, buckets: Sequence[Bucket], decision: Decision) -> None:
        for bucket in buckets:
            entry = self.unsent.get(bucket.key)
            if entry is None:
                entry = self.unsent[bucket.key] = [bucket, 0]
            if decision.allowed:
                entry[1] += bucket.take

    def sync(self, cache) -> None:
        """One round trip: add what this process spent to the shared buckets, and take their
        levels as this process's copies. Skipped while another thread syncs or Redis rests."""
        with self.lock:
            if self.syncing or not self.unsent:
                return
            self.synced_at = time.monotonic()
            if _redis.paused():
                if len(self.unsent) > UNSENT_LIMIT:
                    self.unsent.clear()  # counted here meanwhile, as without Redis
                return
            self.syncing = True
            sent, self.unsent = self.unsent, {}
        levels = None
        try:
            args = []
            for bucket, taken in sent.values():
                args += (bucket.per_minute, taken)
            levels = [float(level) for level in cache.evalsha(_SYNC_SCRIPT, list(sent), args)]
        except RedisError as exc:
            _redis.failed(exc)
        finally:
            with self.lock:
                self.syncing = False
                self._take_levels(sent, levels)

    def _take_levels(self, sent: dict[str, list], levels: list[float] | None) -> None:
        if levels is None:  # still spent: sent with the next sync that gets through
            for key, (bucket, taken) in sent.items():
                self.unsent.setdefault(key, [bucket, 0])[1] += taken
            return
        _redis.answered()
        now_ms = time.monotonic() * 1000
        for (key, (bucket, _)), level in zip(sent.items(), levels, strict=True):
            since = self.unsent.get(key)
            tokens = level - (since[1] if since else 0)
            self.states[key] = (tokens, now_ms, now_ms + expiry_ms(bucket, tokens))

    def clear(self) -> None:
        with self.lock:
            self.states.clear()
            self.unsent.clear()
            self.synced_at = -math.inf
            self.syncing = False


_local = LocalBuckets()
_synced = SyncedBuckets()
_redis = RedisBuckets()


def reset_local() -> None:
    """Forget this process's buckets and Redis outage (tests start from full buckets)."""
    _plans.clear()
    _local.clear()
    _synced.clear()
    _redis.down_until = 0.0
    _redis.outage = False
