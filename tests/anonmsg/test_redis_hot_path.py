"""The hot paths' Redis round trips (RedisCache.get_many_and_evalsha, get_many) on their own
connection per thread, and REDIS_URL through a Unix socket, on real Redis servers."""

import shutil
import subprocess
import threading
import time

import pytest
import redis
from django.core.cache import cache

from anonmsg.token_bucket import RATE_LIMIT_SCRIPT
from tests.anonmsg.test_env import run_manage
from tests.conftest import redis_cache_settings

SCRIPT = RATE_LIMIT_SCRIPT.encode()
BUCKET = ("anonmsg:rate:v2:test:one",)
ARGS = (600, "take")


def round_trip(keys=("a", "b")):
    return cache.get_many_and_evalsha(list(keys), SCRIPT, list(BUCKET), list(ARGS))


def test_one_round_trip_reads_the_keys_and_runs_the_script(redis_cache):
    cache.set("a", {"value": 1}, 30)
    found, answer = round_trip()
    assert found == {"a": {"value": 1}}
    assert [int(part) for part in answer] == [0, 0]  # allowed
    assert redis_cache.exists(BUCKET[0])  # the bucket was taken from


def test_get_many_reads_on_the_threads_own_connection_as_django_would(redis_cache):
    cache.set_many({"n": 7, "d": {"value": 1}, "s": "text"}, 30)
    round_trip()
    own = cache._own.connection

    assert cache.get_many(["n", "d", "s", "missing"]) == {"n": 7, "d": {"value": 1}, "s": "text"}
    assert cache.get_many([]) == {}
    assert cache._own.connection is own
    assert redis_cache.get(cache.make_key("n")) == b"7"  # stored as Django stores it


def test_each_thread_keeps_its_own_connection_across_calls(redis_cache):
    round_trip()
    first = cache._own.connection
    for _ in range(5):
        round_trip()
    assert cache._own.connection is first
    seen = []

    def other_thread():
        from django.core.cache import cache as thread_cache

        thread_cache.get_many_and_evalsha(["a"], SCRIPT, list(BUCKET), list(ARGS))
        seen.append(thread_cache._own.connection)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen and seen[0] is not first


def test_a_connection_redis_closed_is_replaced_without_losing_the_answer(redis_cache):
    cache.set("a", "kept", 30)
    assert round_trip()[0] == {"a": "kept"}
    # Every client but this one is disconnected, as a Redis restart or idle timeout would.
    assert redis_cache.client_kill_filter(_type="normal", skipme=True) >= 1
    assert round_trip()[0] == {"a": "kept"}


def test_a_failure_mid_exchange_drops_the_connection(redis_cache):
    round_trip()
    connection = cache._own.connection
    with pytest.raises(redis.RedisError):
        cache.get_many_and_evalsha(["a"], b"return redis.call('NOPE')", [], [])
    assert cache._own.connection is None
    assert connection._sock is None
    assert round_trip()[1] is not None  # the next call makes a new one


@pytest.fixture
def unix_redis(tmp_path):
    """A Redis server of the test's own listening only on a Unix socket."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: apt-get install redis-server")
    socket_path = tmp_path / "redis.sock"
    process = subprocess.Popen(
        [
            *("redis-server", "--port", "0", "--unixsocket", str(socket_path)),
            *("--unixsocketperm", "700", "--save", "", "--appendonly", "no"),
            *("--dir", str(tmp_path)),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"unix://{socket_path}?db=3"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.terminate()
                raise
            time.sleep(0.05)
    yield url, client
    client.close()
    process.terminate()
    process.wait(timeout=10)


def test_the_cache_works_through_a_unix_socket(settings, unix_redis):
    url, server = unix_redis
    settings.CACHES = redis_cache_settings(url)
    cache.set("a", [1, 2], 30)
    assert cache.get("a") == [1, 2]
    assert round_trip()[0] == {"a": [1, 2]}
    assert server.exists(BUCKET[0])  # database 3 of that server, as the URL says


def test_a_unix_socket_redis_url_selects_the_redis_cache(unix_redis):
    url, _ = unix_redis
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.core.cache import cache; cache.set('k', 7); print(cache.get('k'))",
        REDIS_URL=url,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["7"]


@pytest.mark.parametrize(
    "raw",
    ["unix://", "unix:///run/redis.sock?database=1", "unix:///run/redis.sock?db=x", "http://r"],
)
def test_a_bad_redis_url_is_a_clear_startup_error(raw):
    result = run_manage("check", REDIS_URL=raw)
    assert result.returncode != 0
    assert f"REDIS_URL={raw!r}" in result.stderr


def test_a_bucket_is_one_string_that_expires_once_full_again(redis_cache):
    round_trip()
    tokens, at_ms = redis_cache.get(BUCKET[0]).split()
    assert float(tokens) == 599  # one of a minute's 600 taken
    assert float(at_ms) > 1.7e12  # Redis's clock, in ms
    assert 0 < redis_cache.pttl(BUCKET[0]) <= 100 + 1000  # a tenth of a second to refill, +1 s


# --- add and set_many: one SET per key, on the thread's own connection ------------------------


def command_calls(server, *names: str) -> dict[str, int]:
    stats = server.info("commandstats")
    return {name: stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in names}


def test_set_many_stores_each_key_with_its_expiry_in_one_set_each_without_a_transaction(
    redis_cache,
):
    before = command_calls(redis_cache, "set", "mset", "multi", "exec", "expire")
    assert cache.set_many({"entry": ("token", {"rows": [1.5, None]}), "count": 7}, 90) == []
    after = command_calls(redis_cache, "set", "mset", "multi", "exec", "expire")
    assert {name: after[name] - before[name] for name in after} == {
        "set": 2,
        "mset": 0,
        "multi": 0,
        "exec": 0,
        "expire": 0,
    }
    # Readable by every reader: Django's own get_many and the hot path's round trip.
    assert cache.get_many(["entry", "count"]) == {
        "entry": ("token", {"rows": [1.5, None]}),
        "count": 7,
    }
    assert round_trip(["entry", "count"])[0] == {
        "entry": ("token", {"rows": [1.5, None]}),
        "count": 7,
    }
    for key in ("entry", "count"):
        assert 85 <= redis_cache.ttl(cache.make_key(key)) <= 90


def test_set_many_follows_djangos_timeouts_none_forever_zero_gone(redis_cache):
    cache.set_many({"forever": 1, "also": "x"}, None)
    assert redis_cache.ttl(cache.make_key("forever")) == -1
    cache.set_many({"forever": 2}, 0)
    assert cache.get("forever") is None
    assert cache.get("also") == "x"


def test_add_stores_only_a_missing_key_with_its_expiry(redis_cache):
    assert cache.add("token", "first", 60) is True
    assert cache.add("token", "second", 60) is False
    assert cache.get("token") == "first"
    assert 55 <= redis_cache.ttl(cache.make_key("token")) <= 60
    assert cache.add("forever", 1, None) is True
    assert redis_cache.ttl(cache.make_key("forever")) == -1
    assert cache.add("gone", 1, 0) is True  # Django's meaning: stored and removed at once
    assert cache.get("gone") is None


def test_add_and_set_many_use_the_threads_own_connection_and_survive_its_loss(redis_cache):
    cache.add("a", 1, 30)
    connection = cache._own.connection
    cache.set_many({"b": 2}, 30)
    assert cache._own.connection is connection
    assert redis_cache.client_kill_filter(_type="normal", skipme=True) >= 1
    assert cache.add("c", 3, 30) is True
    assert cache.set_many({"d": 4}, 30) == []
    assert cache.get_many(["a", "b", "c", "d"]) == {"a": 1, "b": 2, "c": 3, "d": 4}


def test_a_script_runs_on_the_threads_own_connection_and_survives_a_script_flush(redis_cache):
    round_trip()
    own = cache._own.connection
    script = b"return redis.call('INCRBY', KEYS[1], ARGV[1])"
    redis_cache.script_flush()  # what a Redis restart does to loaded scripts
    assert cache.evalsha(script, ["counter"], [2]) == 2  # loaded, then run
    assert cache.evalsha(script, ["counter"], [3]) == 5
    redis_cache.script_flush()
    assert cache.evalsha(script, ["counter"], [1]) == 6
    assert cache._own.connection is own  # an error reply does not cost the connection


def test_bits_are_read_alone_or_with_the_entries_in_one_round_trip(redis_cache, redis_round_trips):
    cache.set("a", {"value": 1}, 30)
    redis_cache.setbit(cache.make_key("bits"), 0, 1)
    redis_cache.setbit(cache.make_key("bits"), 9, 1)
    assert cache.get_bits("bits", [0, 1, 9, 10_000]) == [1, 0, 1, 0]
    assert cache.get_bits("missing", [0, 5]) == [0, 0]
    redis_round_trips.clear()
    found, bits = cache.get_many_and_bits(["a", "b"], "bits", [9, 8])
    assert (found, bits) == ({"a": {"value": 1}}, [1, 0])
    assert len(redis_round_trips) == 1


def test_bits_read_from_a_redis_that_is_down_are_unknown(settings):
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/0")  # nothing listens there
    from django.core.cache import caches

    down = caches["default"]
    assert down.get_bits("bits", [0]) is None
    assert down.get_many_and_bits(["a"], "bits", [0]) == ({}, None)
