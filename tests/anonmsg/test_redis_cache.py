"""anonmsg/redis_cache.py on a real Redis, and the settings REDIS_URL produces."""

import logging

import pytest
from django.core.cache import cache, caches
from django.core.checks import run_checks

from delivery.checks import state_cache_is_shared
from tests.anonmsg.test_env import run_manage
from tests.conftest import redis_cache_settings

SHOW_CACHE = (
    "from django.conf import settings; "
    "print(settings.CACHES['default']['BACKEND'], settings.DELIVERY_STATE_CACHE)"
)


def test_values_round_trip_through_redis(redis_cache):
    cache.set("greeting", {"text": "hello"}, 30)
    assert cache.get("greeting") == {"text": "hello"}
    assert cache.add("greeting", "other", 30) is False
    assert cache.get_many(["greeting", "missing"]) == {"greeting": {"text": "hello"}}
    cache.delete_many(["greeting"])
    assert cache.get("greeting") is None
    assert redis_cache.dbsize() == 0  # the fixture's Redis is the cache's Redis


def test_one_client_is_kept_per_connection_pool(redis_cache):
    client = caches["default"]._cache
    assert client.get_client() is client.get_client()
    assert client.get_client() is client.get_client(write=True)  # one server: one pool


def test_a_redis_that_is_down_reads_as_an_empty_cache(settings, caplog):
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/0")  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="anonmsg.redis_cache"):
        assert cache.get("key", "default") == "default"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.add("key", 1) is False
        cache.set("key", 1)
        assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
        assert cache.delete("key") is False
        cache.delete_many(["a", "b"])
        assert cache.has_key("key") is False
        assert cache.touch("key") is False
    assert "Redis cache get failed; treating it as a miss" in caplog.text


def test_redis_url_selects_the_tolerant_backend_and_turns_the_state_cache_on():
    result = run_manage(
        "shell", "--no-imports", "-c", SHOW_CACHE, REDIS_URL="redis://127.0.0.1:6379/15"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["anonmsg.redis_cache.RedisCache", "True"]


def test_without_redis_url_each_process_has_its_own_cache_and_no_state_cache():
    result = run_manage(
        "shell", "--no-imports", "-c", SHOW_CACHE, REDIS_URL=None, DELIVERY_STATE_CACHE=None
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.cache.backends.locmem.LocMemCache", "False"]


def test_the_state_cache_can_be_turned_off_with_redis():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        SHOW_CACHE,
        REDIS_URL="redis://127.0.0.1:6379/15",
        DELIVERY_STATE_CACHE="0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["anonmsg.redis_cache.RedisCache", "False"]


@pytest.mark.parametrize(
    ("backend", "enabled", "warned"),
    [
        ("django.core.cache.backends.locmem.LocMemCache", True, True),
        ("django.core.cache.backends.locmem.LocMemCache", False, False),
        ("anonmsg.redis_cache.RedisCache", True, False),
    ],
)
def test_a_state_cache_on_a_per_process_cache_is_a_warning(settings, backend, enabled, warned):
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": "redis://127.0.0.1:6379/15"}}
    settings.DELIVERY_STATE_CACHE = enabled
    found = [message.id for message in state_cache_is_shared()]
    assert found == (["anonmsg.W001"] if warned else [])
    assert ("anonmsg.W001" in [m.id for m in run_checks(tags=["caches"])]) is warned
