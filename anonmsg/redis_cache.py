"""Django's Redis cache backend, keeping one client per connection pool.

Django builds a new `redis.Redis` for every cache call, and redis-py's constructor fills a table
of about 170 response callbacks: about 0.1 ms, more than the round trip to Redis itself, on
every delivery and tracking request. A client is only a handle on its pool and is safe to share
between threads (redis-py's documentation), so one per pool is kept.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


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


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
