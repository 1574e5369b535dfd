"""anonmsg/redis_cache.py on a real Redis, and the settings REDIS_URL produces."""

import logging
import shutil
import socket
import subprocess
import threading
import time

import pytest
import redis
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
    settings.CACHES = redis_cache_settings(f"redis://127.0.0.1:{closed_port()}/0")
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
    assert "unreachable (ConnectionError" in caplog.text


# --- The circuit breaker: one line per outage (issue 10, finding 11) ---------------------------


def closed_port() -> int:
    """A loopback port nothing listens on (the system just handed it out and took it back)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def breaker_cache_settings(url: str, seconds: float) -> dict:
    caches_setting = redis_cache_settings(url)
    caches_setting["default"]["OPTIONS"]["CIRCUIT_BREAKER_SECONDS"] = seconds
    return caches_setting


def test_an_outage_logs_one_line_without_traceback_and_calls_return_at_once(settings, caplog):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CACHES = breaker_cache_settings(url, 60)
    started = time.monotonic()
    with caplog.at_level(logging.DEBUG, logger="anonmsg.redis_cache"):
        for i in range(500):
            assert cache.get(f"key-{i}") is None
            cache.set(f"key-{i}", i)
            cache.delete(f"key-{i}")
    assert time.monotonic() - started < 2
    records = [r for r in caplog.records if r.name == "anonmsg.redis_cache"]
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].levelno == logging.WARNING
    assert records[0].exc_info is None
    assert records[0].getMessage() == (
        f"Redis cache {url} unreachable (ConnectionError: Error 111 connecting to "
        f"{url[8:-2]}. Connection refused.); answering from the database, retrying every 60s"
    )


def test_every_thread_of_a_process_shares_the_outage_and_its_one_line(settings, caplog):
    settings.CACHES = breaker_cache_settings(f"redis://127.0.0.1:{closed_port()}/0", 60)

    def use_the_cache():
        for i in range(50):
            cache.get(f"key-{i}")
        caches.close_all()

    with caplog.at_level(logging.DEBUG, logger="anonmsg.redis_cache"):
        threads = [threading.Thread(target=use_the_cache) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    assert len([r for r in caplog.records if r.name == "anonmsg.redis_cache"]) == 1


@pytest.mark.parametrize(
    "url",
    ["redis://:s3cret@127.0.0.1:{port}/0", "redis://127.0.0.1:{port}/0?password=s3cret"],
)
def test_the_password_of_the_redis_url_is_not_logged(settings, caplog, url):
    settings.CACHES = breaker_cache_settings(url.format(port=closed_port()), 60)
    with caplog.at_level(logging.WARNING, logger="anonmsg.redis_cache"):
        cache.get("key")
    assert "unreachable" in caplog.text
    assert "s3cret" not in caplog.text


@pytest.fixture
def redis_server(tmp_path):
    """A Redis server of the test's own, on a free loopback port, started and stopped at will."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: apt-get install redis-server")
    port = closed_port()

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        process = None

        def start(self):
            self.process = subprocess.Popen(
                [
                    *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no", "--dir", str(tmp_path)),
                ],
                stdout=subprocess.DEVNULL,
            )
            client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.ping()
                    client.close()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

        def stop(self):
            if self.process is not None:
                self.process.terminate()
                self.process.wait(timeout=10)
                self.process = None

    server = Server()
    yield server
    server.stop()


def test_the_cache_comes_back_with_redis_and_says_so_once(settings, caplog, redis_server):
    settings.CACHES = breaker_cache_settings(redis_server.url, 0.2)
    with caplog.at_level(logging.DEBUG, logger="anonmsg.redis_cache"):
        assert cache.get("key", "miss") == "miss"  # Redis is down: the outage starts
        redis_server.start()
        time.sleep(0.3)  # the breaker's pause
        cache.set("key", "stored", 30)
        assert cache.get("key") == "stored"
        for _ in range(100):
            assert cache.get("key") == "stored"
        redis_server.stop()
        assert cache.get("key", "miss") == "miss"  # a second outage is a second line
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in messages] == ["WARNING", "INFO", "WARNING"]
    assert messages[1] == ("INFO", f"Redis cache {redis_server.url} reachable again")


def test_a_working_redis_logs_nothing(redis_cache, caplog):
    with caplog.at_level(logging.DEBUG, logger="anonmsg.redis_cache"):
        for i in range(100):
            cache.set(f"key-{i}", i)
            assert cache.get(f"key-{i}") == i
    assert [r for r in caplog.records if r.name == "anonmsg.redis_cache"] == []


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
