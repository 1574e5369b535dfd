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

from django.core.cache.backends.base import DEFAULT_TIMEOUT
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


def _failed(operation: str) -> None:
    logger.warning("Redis cache %s failed; treating it as a miss", operation, exc_info=True)


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError:
            _failed("get")
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError:
            _failed("get_many")
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError:
            _failed("has_key")
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError:
            _failed("add")
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError:
            _failed("set")

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError:
            _failed("set_many")
            return list(data)  # Django's contract: the keys that were not stored

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError:
            _failed("touch")
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError:
            _failed("delete")
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except RedisError:
            _failed("delete_many")
