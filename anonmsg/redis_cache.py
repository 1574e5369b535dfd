"""Django's Redis cache backend, made cheaper per call and tolerant of a Redis outage.

- One client per connection pool. Django builds a new `redis.Redis` for every cache call, and
  redis-py's constructor fills a table of about 170 response callbacks: about 0.1 ms, more than
  the round trip to Redis itself, on every delivery and tracking request. A client is only a
  handle on its pool and is safe to share between threads (redis-py's documentation).
- A cache that fails is a cache that misses. Everything anonmsg caches can be read from the
  database again, so a Redis error is answered like an empty cache (the way django-redis's
  IGNORE_EXCEPTIONS does): SDKs keep getting answers while Redis is away, from the database.
  Writes and deletes that fail are skipped; cached entries are validated or short-lived
  (delivery/sdk_api/visitor_state.py, delivery/tracking/write_keys.py), so none can stay wrong
  for long.
- A short circuit breaker per process and Redis server. Without it an outage logged a traceback
  per cache call (41 MB in 30 s) and a stalled Redis cost every call its 0.5 s timeout. After a
  failure every call skips Redis for `CIRCUIT_BREAKER_SECONDS` (an OPTIONS key, default 5);
  then one call tries again. One warning when the outage starts, one info line when a call
  gets through again.
- The hot paths' round trip (`get_many_and_evalsha`) runs on a connection of its own per
  thread, kept open, rather than one borrowed from the pool and given back on every call: the
  pool's locking, bookkeeping and health poll cost about 15 µs of CPU per request, half the
  round trip's own. So do `get_many` (the hot round trip when rate limits are synced), the
  scripts (`evalsha`: the exact rate limits' check, their sync, the filter's writes), and
  `add` and `set_many`, what a delivery cache miss writes: packed by hiredis, and `set_many`
  as one `SET … EX` per key instead of redis-py's MULTI/EXEC pipeline. `get_bits` and
  `get_many_and_bits` read a filter's bits (delivery/sdk_api/known_visitors.py), the latter
  with the entries' MGET in the same round trip.
"""

import hashlib
import logging
import os
import pickle
import threading
import time
from functools import cache, wraps
from urllib.parse import urlsplit, urlunsplit

import hiredis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis import RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

logger = logging.getLogger(__name__)

DEFAULT_BREAKER_SECONDS = 5.0


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients.setdefault(pool, self._client(connection_pool=pool))
        return client


def _pack(command: tuple) -> bytes:
    """A command in Redis's protocol (what redis-py's packer writes, at a tenth of the cost)."""
    return hiredis.pack_command(command)


# Every pickle of protocol 2 or later (Django's serializer uses the highest) starts with PROTO.
PICKLE_START = pickle.PROTO


def _loads(value: bytes):
    """A value as Django's Redis serializer stored it: an int as its digits, anything else
    pickled. Django's own `loads` tries int() first, and the exception it raises on every
    pickle cost more than the unpickling."""
    return pickle.loads(value) if value[:1] == PICKLE_START else int(value)


def _found(key_map: dict, values: list) -> dict:
    """An MGET's replies as `get_many` answers: the caller's key → value, misses left out."""
    return {
        key_map[key]: _loads(value)
        for key, value in zip(key_map, values, strict=True)
        if value is not None
    }


@cache
def _sha1(script: bytes) -> str:
    return hashlib.sha1(script).hexdigest()


def _loading_first(script: bytes, evalsha: bytes) -> bytes:
    """A packed EVALSHA preceded by its script's SCRIPT LOAD: what is sent again when Redis
    answered NOSCRIPT (it restarted and forgot the script). Two replies: the SHA1, the
    script's answer."""
    return _pack(("SCRIPT", "LOAD", script)) + evalsha


def _read_reply(connection):
    return connection.read_response()


class CircuitBreaker:
    """Whether to call Redis now, and the one log line per outage."""

    def __init__(self, location: str, pause: float):
        self.location = location
        self.pause = pause
        self._lock = threading.Lock()
        self._open = False
        self._opened_at = 0.0
        self._retry_at = 0.0

    def allows(self) -> bool:
        if not self._open:
            return True
        now = time.monotonic()
        if now < self._retry_at:
            return False
        with self._lock:
            if now < self._retry_at:
                return False
            # This call is the trial; the others keep skipping until it has failed or passed.
            self._retry_at = now + self.pause
            return True

    def failed(self, error: Exception) -> None:
        with self._lock:
            now = time.monotonic()
            self._retry_at = now + self.pause
            if self._open:
                return
            self._open, self._opened_at = True, now
        logger.warning(
            "Redis cache %s unreachable (%s: %s); answering from the database, retrying every %gs",
            self.location,
            type(error).__name__,
            error,
            self.pause,
        )

    def passed(self, started: float) -> None:
        # A call that started before the outage was noticed proves nothing about now.
        if not self._open or started < self._opened_at:
            return
        with self._lock:
            if not self._open or started < self._opened_at:
                return
            self._open = False
        logger.info("Redis cache %s reachable again", self.location)


# One breaker per Redis server and process: Django builds a cache object per thread.
_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def circuit_breaker(location: str, pause: float) -> CircuitBreaker:
    with _breakers_lock:
        return _breakers.setdefault(location, CircuitBreaker(location, pause))


def _miss_on_error(method, fallback):
    """`method`, answering `fallback(*args, **kwargs)` (what an empty cache would) when Redis
    fails or the circuit breaker is open."""

    @wraps(method)
    def wrapper(self, *args, **kwargs):
        breaker = self.circuit_breaker
        if not breaker.allows():
            return fallback(*args, **kwargs)
        started = time.monotonic()
        try:
            result = method(self, *args, **kwargs)
        except RedisError as error:
            breaker.failed(error)
            return fallback(*args, **kwargs)
        breaker.passed(started)
        return result

    return wrapper


def _nothing(*args, **kwargs):
    return None


def _false(*args, **kwargs):
    return False


def _redacted(url: str) -> str:
    """The URL without its password (nor the query, which may carry one): it goes to the log."""
    parts = urlsplit(url)._replace(query="")
    if parts.password is not None:
        port = f":{parts.port}" if parts.port else ""
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{parts.hostname}{port}")
    return urlunsplit(parts)


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS", {}))
        pause = float(options.pop("CIRCUIT_BREAKER_SECONDS", DEFAULT_BREAKER_SECONDS))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = RedisCacheClient
        self.circuit_breaker = circuit_breaker(_redacted(self._servers[0]), pause)
        self._own = threading.local()

    # Lua scripts (the rate limiter's, in anonmsg/rate_limits.py; the filter's, in
    # delivery/sdk_api/known_visitors.py), run by their SHA1 on this thread's own connection to
    # the writable server. Unlike the cache calls these raise RedisError, for the caller to
    # decide what a failure means.

    def evalsha(self, script: bytes, keys: list[str], args: list):
        """One round trip (two when Redis has forgotten the script: `_loading_first`)."""
        command = _pack(("EVALSHA", _sha1(script), len(keys), *keys, *args))
        try:
            answer, _ = self._exchange(command)
        except NoScriptError:
            _, answer = self._exchange(_loading_first(script, command), then=_read_reply)
        return answer

    def _script_ran(self, script: bytes, keys: list[str], args: list) -> bool:
        """`evalsha`, answering whether it ran: False when Redis failed or rests."""
        self.evalsha(script, keys, args)
        return True

    def get_many_and_evalsha(self, keys, script: bytes, script_keys: list[str], script_args: list):
        """`get_many(keys)` and a script in one round trip: (found, the script's answer).

        Both commands are written to one connection at once and both replies read. Not
        redis-py's pipeline: its machinery costs the hot paths more CPU than the round trip
        it saves (and with a Script, it asks SCRIPT EXISTS first, a round trip more). Packed
        by hiredis: redis-py's packer costs 16 µs for these two commands, hiredis 2.
        """
        # make_key, not make_and_validate_key: the callers' keys are short ASCII names of
        # their own, and the validation (memcached's rules, char by char) cost more than the
        # round trip's own client CPU.
        key_map = {self.make_key(key): key for key in keys}
        evalsha = _pack(("EVALSHA", _sha1(script), len(script_keys), *script_keys, *script_args))

        def script_answer(connection):
            try:
                return connection.read_response()
            except NoScriptError:
                connection.send_packed_command(
                    [_loading_first(script, evalsha)], check_health=False
                )
                connection.read_response()
                return connection.read_response()

        values, answer = self._exchange(_pack(("MGET", *key_map)) + evalsha, then=script_answer)
        return _found(key_map, values), answer

    def _get_many(self, keys, version=None):
        """Django's `get_many` (one MGET), on this thread's own connection and packed by
        hiredis: the delivery API's one round trip when rate limits are synced (no script to
        send along). Keys are made, not validated, as in `get_many_and_evalsha`."""
        key_map = {self.make_key(key, version=version): key for key in keys}
        if not key_map:
            return {}
        values, _ = self._exchange(_pack(("MGET", *key_map)))
        return _found(key_map, values)

    def _get_bits(self, key, offsets):
        """The bits of a Redis string at these offsets (0 or 1 each; 0 past its end or for a
        missing key), one `BITFIELD … GET u1 …` on this thread's own connection: the lookup
        of delivery/sdk_api/known_visitors.py's filter. Failure answers None."""
        bits, _ = self._exchange(_pack(self._bitfield_get(key, offsets)))
        return bits

    def _get_many_and_bits(self, keys, key, offsets):
        """`get_many(keys)` and `get_bits(key, offsets)` in one round trip: (found, bits)."""
        key_map = {self.make_key(name): name for name in keys}
        values, bits = self._exchange(
            _pack(("MGET", *key_map)) + _pack(self._bitfield_get(key, offsets)),
            then=_read_reply,
        )
        return _found(key_map, values), bits

    def _bitfield_get(self, key, offsets) -> tuple:
        command = ["BITFIELD", self.make_key(key)]
        for offset in offsets:
            command += ("GET", "u1", offset)
        return tuple(command)

    def client(self):
        """The redis-py client of the writable server, for what the cache API lacks (a
        filter's build: delivery/sdk_api/known_visitors.py). Its calls raise RedisError."""
        return self._cache.get_client(write=True)

    def serialized(self, value) -> bytes | int:
        """`value` as this cache stores it (for a script that writes entries itself)."""
        return self._cache._serializer.dumps(value)

    def _add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """Django's `add` (SET … NX), on this thread's own connection: a delivery cache miss
        creates its tokens with it (delivery/sdk_api/visitor_state.py)."""
        timeout = self.get_backend_timeout(timeout)
        if timeout == 0:  # stored and gone at once, as Django does it
            return DjangoRedisCache.add(self, key, value, 0, version=version)
        command = ["SET", self.make_and_validate_key(key, version=version)]
        command += [self._cache._serializer.dumps(value), "NX"]
        if timeout is not None:
            command += ["EX", timeout]
        stored, _ = self._exchange(_pack(tuple(command)))
        return stored is not None

    def _set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        """Django's `set_many`, as one `SET … EX` per key written at once on this thread's own
        connection, without redis-py's MULTI/EXEC pipeline (MSET, then an EXPIRE per key): a
        quarter of a delivery cache miss's CPU went to it. Each key is stored with its expiry
        atomically; the keys together are not, which no caller needs (each entry is checked
        against its tokens on reading). Returns the keys not stored: none."""
        if not data:
            return []
        timeout = self.get_backend_timeout(timeout)
        if timeout == 0:
            return DjangoRedisCache.set_many(self, data, 0, version=version)
        expiry = () if timeout is None else ("EX", timeout)
        dumps = self._cache._serializer.dumps
        packed = b"".join(
            _pack(("SET", self.make_and_validate_key(key, version=version), dumps(value), *expiry))
            for key, value in data.items()
        )

        def the_other_replies(connection):
            for _ in range(len(data) - 1):
                connection.read_response()

        self._exchange(packed, then=the_other_replies)
        return []

    def _exchange(self, packed: bytes, *, then=None):
        """Write `packed` (one or more commands) on this thread's own connection and read the
        first reply; `then(connection)` reads the others. Returns (first reply, what `then`
        returned). An idle connection that Redis closed meanwhile (a restart, an idle timeout)
        gets one more try on a new one: the callers' commands can run twice (at worst a rate
        limit counts the request twice)."""
        connection, reused = self._own_connection()
        try:
            try:
                connection.send_packed_command([packed], check_health=False)
                first = connection.read_response()
            except RedisConnectionError:
                if not reused:
                    raise
                connection.disconnect()
                connection.send_packed_command([packed], check_health=False)
                first = connection.read_response()
            return first, then(connection) if then is not None else None
        except ResponseError:
            # Redis answered one command with an error (a script it forgot, say): with no
            # other reply to read, the connection is as good as before.
            if then is not None:
                self._drop(connection)
            raise
        except BaseException:
            # A reply may still be unread: this connection must not be used again.
            self._drop(connection)
            raise

    def _drop(self, connection) -> None:
        connection.disconnect()
        self._own.connection = None

    def _own_connection(self):
        """(this thread's connection to the writable server, whether it was used before).
        Made from the pool's settings (address, database, password, timeouts) but never given
        back to it; a forked child makes its own."""
        own = self._own
        connection = getattr(own, "connection", None)
        if connection is not None and own.pid == os.getpid():
            return connection, True
        pool = self._cache.get_client(write=True).connection_pool
        own.connection = pool.connection_class(**pool.connection_kwargs)
        own.pid = os.getpid()
        return own.connection, False

    get = _miss_on_error(DjangoRedisCache.get, lambda key, default=None, version=None: default)
    get_many = _miss_on_error(_get_many, lambda *args, **kwargs: {})
    script_ran = _miss_on_error(_script_ran, _false)
    get_bits = _miss_on_error(_get_bits, _nothing)
    get_many_and_bits = _miss_on_error(_get_many_and_bits, lambda *args, **kwargs: ({}, None))
    has_key = _miss_on_error(DjangoRedisCache.has_key, _false)
    add = _miss_on_error(_add, _false)
    set = _miss_on_error(DjangoRedisCache.set, _nothing)
    # Django's contract for set_many: the keys that were not stored.
    set_many = _miss_on_error(_set_many, lambda data, *args, **kwargs: list(data))
    touch = _miss_on_error(DjangoRedisCache.touch, _false)
    delete = _miss_on_error(DjangoRedisCache.delete, _false)
    delete_many = _miss_on_error(DjangoRedisCache.delete_many, _nothing)
