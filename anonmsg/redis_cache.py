"""Django's Redis cache backend, made cheaper per call and tolerant of a Redis outage.

- One client per connection pool. Django builds a new `redis.Redis` for every cache call, and
  redis-py's constructor fills a table of about 170 response callbacks: about 0.1 ms, more than
  the round trip to Redis itself, on every delivery and tracking request. A client is only a
  handle on its pool and is safe to share between threads (redis-py's documentation).
- A cache that fails is a cache that misses. Everything anonmsg caches can be read from the
  database again, so a Redis error is logged and answered like an empty cache (the way
  django-redis's IGNORE_EXCEPTIONS does): SDKs keep getting answers while Redis is away, from
  the database. Writes and deletes that fail are logged; cached entries are validated or
  short-lived (delivery/lookup.py, delivery/write_keys.py), so none can stay wrong for long.
"""

import logging
from functools import wraps

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis import RedisError

logger = logging.getLogger(__name__)


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


def _miss_on_error(method, fallback):
    """`method`, answering `fallback(*args, **kwargs)` (what an empty cache would) when Redis
    fails."""

    @wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError:
            logger.warning(
                "Redis cache %s failed; treating it as a miss", method.__name__, exc_info=True
            )
            return fallback(*args, **kwargs)

    return wrapper


def _nothing(*args, **kwargs):
    return None


def _false(*args, **kwargs):
    return False


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def redis_client(self):
        """The redis-py client of the writable server, for what the cache API cannot say
        (the rate limiter's script, anonmsg/rate_limits.py). Same pool, same timeouts."""
        return self._cache.get_client(write=True)

    get = _miss_on_error(DjangoRedisCache.get, lambda key, default=None, version=None: default)
    get_many = _miss_on_error(DjangoRedisCache.get_many, lambda *args, **kwargs: {})
    has_key = _miss_on_error(DjangoRedisCache.has_key, _false)
    add = _miss_on_error(DjangoRedisCache.add, _false)
    set = _miss_on_error(DjangoRedisCache.set, _nothing)
    # Django's contract for set_many: the keys that were not stored.
    set_many = _miss_on_error(DjangoRedisCache.set_many, lambda data, *args, **kwargs: list(data))
    touch = _miss_on_error(DjangoRedisCache.touch, _false)
    delete = _miss_on_error(DjangoRedisCache.delete, _false)
    delete_many = _miss_on_error(DjangoRedisCache.delete_many, _nothing)
