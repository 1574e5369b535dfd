"""Rate limits on the public endpoints (anonmsg/rate_limits.py; docs/configuration.md).

Per write key and per client IP on tracking and delivery, per IP on the SDK script, per key on
the App API, and per IP for failed authentications; in this process without Redis, decided in
each process and synced through Redis with it (or decided in Redis itself, exact), per process
when a synced Redis fails and open when an exact one does.
"""

import json
import logging
import socket
import time

import pytest
from django.core.cache import caches
from django.test import RequestFactory

from anonmsg import rate_limits
from anonmsg.token_bucket import Bucket
from delivery.models import Event
from delivery.sdk_api import visitor_state
from tests.anonmsg.test_env import run_manage
from tests.conftest import REDIS_TEST_URL, redis_cache_settings
from tests.delivery.tracking_helpers import send
from tests.factories import WorkspaceFactory

IP = "198.51.100.7"
OTHER_IP = "198.51.100.8"


@pytest.fixture
def limits(settings):
    """Set some limits (per minute) for this test; the others stay as configured."""

    def set_limits(**values):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **values}

    return set_limits


def deliver(client, workspace, *, ip=IP, write_key=None, **extra):
    return client.get(
        "/api/v1/delivery",
        {
            "writeKey": write_key or workspace.write_key,
            "anonymousId": "anon-1",
            "url": "https://shop.example.com/pricing",
        },
        REMOTE_ADDR=ip,
        **extra,
    )


def track(client, write_key, *, ip=IP, basic=False, n=0):
    body = {"type": "track", "event": f"Event {n}", "anonymousId": "anon-1"}
    if basic:
        return send(client, "track", body, write_key=write_key, REMOTE_ADDR=ip)
    return send(client, "track", {**body, "writeKey": write_key}, REMOTE_ADDR=ip)


def assert_throttled(response, *, longest_wait: int):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= longest_wait
    assert response["Cache-Control"] == "no-store"


def assert_json_throttled(response, *, longest_wait: int, mentions: str):
    assert_throttled(response, longest_wait=longest_wait)
    body = response.json()
    assert body["error"] == "rate_limited"
    assert mentions in body["message"]


# --- Delivery -------------------------------------------------------------------------------


def test_delivery_is_limited_per_write_key(client, workspace, limits):
    limits(delivery_per_key=3)
    other = WorkspaceFactory()
    for n in range(3):
        assert deliver(client, workspace, ip=f"192.0.2.{n}").status_code == 200

    response = deliver(client, workspace, ip="192.0.2.99")

    # 3 a minute: the next token comes in 20 s.
    assert_json_throttled(response, longest_wait=20, mentions="for this write key")
    assert int(response["Retry-After"]) >= 19
    # The SDK on another origin can read the header.
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in response["Access-Control-Expose-Headers"]
    assert deliver(client, other, ip="192.0.2.99").status_code == 200


def test_a_changed_limit_applies_to_clients_already_seen(client, workspace, limits):
    # Each client's buckets are made once and reused (rate_limits._plans): a new limit must
    # still reach a client and key this process has already answered.
    for _ in range(3):
        assert deliver(client, workspace).status_code == 200
    limits(delivery_per_key=3)
    # The level already counted is capped at the new size: three more, then refused.
    assert deliver(client, workspace).status_code == 200
    assert deliver(client, workspace).status_code == 200
    assert deliver(client, workspace).status_code == 200
    assert_json_throttled(deliver(client, workspace), longest_wait=20, mentions="write key")
    limits(delivery_per_key=0)  # switched off
    assert deliver(client, workspace).status_code == 200


def test_delivery_is_limited_per_client_ip(client, workspace, limits):
    limits(delivery_per_ip=2)
    other = WorkspaceFactory()
    assert deliver(client, workspace).status_code == 200
    assert deliver(client, other).status_code == 200

    response = deliver(client, workspace)

    assert_json_throttled(response, longest_wait=30, mentions="from this IP address")
    assert deliver(client, workspace, ip=OTHER_IP).status_code == 200


def test_a_warm_delivery_request_still_makes_no_query(
    client, workspace, redis_cache, django_assert_num_queries
):
    deliver(client, workspace)
    deliver(client, workspace)
    with django_assert_num_queries(0):
        assert deliver(client, workspace).status_code == 200


def test_unknown_write_keys_are_limited_per_ip_much_sooner(
    client, workspace, limits, django_assert_num_queries
):
    limits(failed_auth_per_ip=3)
    for n in range(3):
        assert deliver(client, workspace, write_key=f"wk_guess{n}").status_code == 401

    # Refused before any key is looked up, valid or not, from that address only.
    with django_assert_num_queries(0):
        response = deliver(client, workspace, write_key="wk_guess3")
    assert_json_throttled(response, longest_wait=20, mentions="unknown or revoked key")
    assert deliver(client, workspace).status_code == 429
    assert deliver(client, workspace, ip=OTHER_IP).status_code == 200


# --- Tracking -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("basic", [True, False], ids=["basic-auth", "key-in-body"])
def test_tracking_is_limited_per_write_key_and_a_refused_call_stores_nothing(
    client, workspace, limits, basic
):
    limits(tracking_per_key=2)
    for n in range(2):
        assert track(client, workspace.write_key, ip=f"192.0.2.{n}", basic=basic, n=n).json() == {
            "success": True
        }

    response = track(client, workspace.write_key, ip="192.0.2.9", basic=basic, n=2)

    assert_json_throttled(response, longest_wait=30, mentions="tracking requests for this write")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Expose-Headers"] == "Retry-After"
    assert sorted(Event.objects.values_list("name", flat=True)) == ["Event 0", "Event 1"]
    other = WorkspaceFactory()
    assert track(client, other.write_key, ip="192.0.2.9").status_code == 200


def test_tracking_is_limited_per_client_ip(client, workspace, limits):
    limits(tracking_per_ip=2)
    other = WorkspaceFactory()
    assert track(client, workspace.write_key).status_code == 200
    assert track(client, other.write_key, basic=True).status_code == 200

    response = track(client, workspace.write_key, n=2)

    assert_json_throttled(response, longest_wait=30, mentions="from this IP address")
    assert track(client, workspace.write_key, ip=OTHER_IP).status_code == 200


def test_a_call_without_any_key_still_spends_the_ips_tokens(client, limits):
    limits(tracking_per_ip=1)
    body = {"type": "track", "event": "E", "anonymousId": "a"}
    assert send(client, "track", body, REMOTE_ADDR=IP).status_code == 401
    assert send(client, "track", body, REMOTE_ADDR=IP).status_code == 429


@pytest.mark.parametrize("basic", [True, False], ids=["basic-auth", "key-in-body"])
def test_unknown_write_keys_on_tracking_are_failed_authentications(
    client, workspace, limits, basic, django_assert_num_queries
):
    limits(failed_auth_per_ip=2)
    for n in range(2):
        assert track(client, f"wk_guess{n}", basic=basic).status_code == 401

    with django_assert_num_queries(0):
        response = track(client, "wk_guess2", basic=basic)
    assert_json_throttled(response, longest_wait=30, mentions="unknown or revoked key")
    assert track(client, workspace.write_key, ip=OTHER_IP, basic=basic).status_code == 200


def test_a_preflight_is_never_limited(client, limits):
    limits(tracking_per_ip=1, delivery_per_ip=1)
    for _ in range(3):
        assert client.options("/v1/batch", REMOTE_ADDR=IP).status_code == 204
        assert client.options("/api/v1/delivery", REMOTE_ADDR=IP).status_code == 204


# --- The SDK script -------------------------------------------------------------------------


def test_the_sdk_script_is_limited_per_client_ip_in_plain_text(client, workspace, limits):
    limits(sdk_script_per_ip=2)
    path = f"/v1/analytics-js/snippet/{workspace.write_key}/analytics.min.js"
    for _ in range(2):
        assert client.get(path, REMOTE_ADDR=IP).status_code == 200

    response = client.get(path, REMOTE_ADDR=IP)

    assert_throttled(response, longest_wait=30)
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "SDK script requests" in response.content.decode()
    assert client.get(path, REMOTE_ADDR=OTHER_IP).status_code == 200


# --- The App API ----------------------------------------------------------------------------


def app_api(client, key, *, ip=IP):
    return client.get(
        "/api/v1/anonymous-messages", headers={"Authorization": f"Bearer {key}"}, REMOTE_ADDR=ip
    )


def test_the_app_api_is_limited_per_key_not_per_ip(client, workspace, limits):
    limits(app_api_per_key=2)
    key = workspace.rotate_api_key()
    other_key = WorkspaceFactory().rotate_api_key()
    assert app_api(client, key, ip="192.0.2.1").status_code == 200
    assert app_api(client, key, ip="192.0.2.2").status_code == 200

    response = app_api(client, key, ip="192.0.2.3")

    assert_json_throttled(response, longest_wait=30, mentions="App API requests for this key")
    assert app_api(client, other_key, ip="192.0.2.3").status_code == 200


def test_unknown_app_api_keys_are_failed_authentications(
    client, workspace, limits, django_assert_num_queries
):
    limits(failed_auth_per_ip=2)
    key = workspace.rotate_api_key()
    for n in range(2):
        assert app_api(client, f"sk_guess{n}").status_code == 401

    with django_assert_num_queries(0):
        response = app_api(client, "sk_guess2")
    assert_json_throttled(response, longest_wait=30, mentions="unknown or revoked key")
    assert app_api(client, key, ip=OTHER_IP).status_code == 200


# --- Client IPs -----------------------------------------------------------------------------


def test_behind_a_proxy_each_client_has_its_own_bucket_whatever_it_forwards(
    client, workspace, settings, limits
):
    settings.LOGIN_PROXY_COUNT = 1
    limits(delivery_per_ip=1)
    proxy = {"ip": "10.0.0.2"}
    assert (
        deliver(client, workspace, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy).status_code == 200
    )
    # A client cannot get fresh buckets by prepending addresses of its own.
    forged = "1.2.3.4, 203.0.113.7"
    assert deliver(client, workspace, HTTP_X_FORWARDED_FOR=forged, **proxy).status_code == 429
    assert (
        deliver(client, workspace, HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy).status_code == 200
    )


def test_an_ipv6_client_is_limited_per_64_prefix(client, workspace, limits):
    limits(delivery_per_ip=1)
    assert deliver(client, workspace, ip="2001:db8:1:2::1").status_code == 200
    assert deliver(client, workspace, ip="2001:db8:1:2:ffff::9").status_code == 429
    assert deliver(client, workspace, ip="2001:db8:1:3::1").status_code == 200


def test_limits_can_be_turned_off(client, workspace, settings, limits):
    limits(delivery_per_ip=1, failed_auth_per_ip=1)
    settings.RATE_LIMITS_ENABLED = False
    for _ in range(3):
        assert deliver(client, workspace).status_code == 200
        assert deliver(client, workspace, write_key="wk_guess").status_code == 401


def test_a_zero_limit_is_off(client, workspace, limits):
    limits(delivery_per_ip=0, delivery_per_key=0, failed_auth_per_ip=0)
    for _ in range(3):
        assert deliver(client, workspace).status_code == 200


# --- Redis: synced (the default) -----------------------------------------------------------


def request_from(ip=IP):
    return RequestFactory().get("/api/v1/delivery", REMOTE_ADDR=ip)


def scripts_in(round_trips) -> list[bytes]:
    return [b"".join(sent) for sent in round_trips if b"EVALSHA" in b"".join(sent)]


def warm_delivery(client, workspace, round_trips, assert_num_queries):
    """A delivery request once this process knows the workspace and the visitor (its third),
    made with no query; `round_trips` then holds what it alone sent to Redis."""
    visitor_state.clear_local()
    deliver(client, workspace)
    deliver(client, workspace)
    round_trips.clear()
    with assert_num_queries(0):
        return deliver(client, workspace)


@pytest.fixture
def exact(settings):
    """Every request decided in Redis itself (RATE_LIMIT_SYNC_MS=0)."""
    settings.RATE_LIMIT_SYNC_MS = 0


def assert_refused_by_the_shared_key_bucket(response, redis_cache):
    assert_json_throttled(response, longest_wait=30, mentions="for this write key")
    assert int(response["Retry-After"]) >= 29
    buckets = [key.decode() for key in redis_cache.scan_iter("anonmsg:rate:*")]
    assert any(key.startswith("anonmsg:rate:v2:delivery_per_key:") for key in buckets)
    # A bucket is forgotten once it would be full again (here: within a minute).
    assert all(0 < redis_cache.pttl(key) <= 61_000 for key in buckets)


def test_synced_processes_share_the_buckets_through_redis(client, workspace, redis_cache, limits):
    limits(delivery_per_key=2)
    assert deliver(client, workspace).status_code == 200  # this process's first sync
    rate_limits.reset_local()  # another process: nothing of the above is in this one
    # Its copy starts full: this request is decided here, then its sync learns the rest.
    assert deliver(client, workspace, ip=OTHER_IP).status_code == 200

    response = deliver(client, workspace, ip="192.0.2.50")

    assert_refused_by_the_shared_key_bucket(response, redis_cache)


def test_what_processes_let_through_before_they_knew_is_waited_off(redis_cache, settings):
    a, b = rate_limits.SyncedBuckets(), rate_limits.SyncedBuckets()
    cache = caches["default"]
    bucket = Bucket(key="anonmsg:rate:v2:test:one-client", per_minute=2)

    def ask(process):
        return process.decide([bucket], cache, sync_ms=60_000)

    assert ask(a).allowed  # a syncs at once (its first): 1 left between them
    assert ask(a).allowed  # decided in a alone: a has not sent it yet
    assert ask(b).allowed  # b's first: allowed, then b's sync leaves the bucket at 0
    assert not ask(b).allowed
    a.sync(cache)  # a's second token: the shared bucket is one below zero

    refused = ask(a)

    assert not refused.allowed
    # Two tokens to wait for at two a minute: a minute, not the half a minute of an empty one.
    assert 59_000 <= refused.wait_ms <= 60_000
    tokens, _ = redis_cache.get(bucket.key).split()
    assert -1.1 < float(tokens) < -0.9


def test_a_warm_tracking_call_makes_no_redis_round_trip(
    client, workspace, redis_cache, redis_round_trips, settings
):
    settings.RATE_LIMIT_SYNC_MS = 60_000
    track(client, workspace.write_key)  # looks the key up, syncs the buckets
    redis_round_trips.clear()

    for n in range(1, 4):
        assert track(client, workspace.write_key, n=n).status_code == 200

    assert redis_round_trips == []
    assert Event.objects.filter(workspace=workspace).count() == 4


def test_a_warm_delivery_request_reads_its_cache_and_no_script(
    client, workspace, redis_cache, redis_round_trips, django_assert_num_queries, settings
):
    settings.RATE_LIMIT_SYNC_MS = 60_000
    response = warm_delivery(client, workspace, redis_round_trips, django_assert_num_queries)

    assert response.status_code == 200
    assert len(redis_round_trips) == 1
    assert b"MGET" in b"".join(redis_round_trips[0])
    assert scripts_in(redis_round_trips) == []


def test_synced_buckets_are_sent_at_most_once_per_interval(
    redis_cache, redis_round_trips, settings, limits
):
    settings.RATE_LIMIT_SYNC_MS = 300
    limits(delivery_per_ip=600, failed_auth_per_ip=0)
    for _ in range(20):
        assert rate_limits.check(request_from(), "delivery") is None
    assert len(scripts_in(redis_round_trips)) == 1  # the first request's

    redis_cache.script_flush()  # as after a Redis restart: taught again
    time.sleep(0.35)
    assert rate_limits.check(request_from(), "delivery") is None

    # One sync more, sent twice: Redis answered NOSCRIPT, was taught it and asked again.
    assert len(scripts_in(redis_round_trips)) == 3
    assert any(b"SCRIPT" in b"".join(sent) for sent in redis_round_trips)
    key = next(redis_cache.scan_iter("anonmsg:rate:v2:delivery_per_ip:*"))
    tokens, _ = redis_cache.get(key).split()
    assert 578 < float(tokens) < 581  # 21 taken, a few refilled meanwhile


def test_synced_failed_authentications_reach_other_processes(
    client, workspace, redis_cache, limits
):
    limits(failed_auth_per_ip=2)
    for n in range(2):
        assert deliver(client, workspace, write_key=f"wk_guess{n}").status_code == 401
    rate_limits.sync_now()
    rate_limits.reset_local()
    deliver(client, workspace)  # the other process learns this IP's state from its first sync
    assert deliver(client, workspace).status_code == 429


def test_with_redis_down_synced_limits_apply_in_each_process(
    client, workspace, settings, limits, caplog
):
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/0")  # nothing listens there
    limits(delivery_per_ip=2, failed_auth_per_ip=0)
    caplog.set_level(logging.WARNING, logger="anonmsg.rate_limits")

    statuses = [deliver(client, workspace).status_code for _ in range(4)]

    assert statuses == [200, 200, 429, 429]
    outage = [r for r in caplog.records if r.name == "anonmsg.rate_limits"]
    assert len(outage) == 1
    assert "counted per process" in outage[0].getMessage()


def test_when_redis_is_back_what_was_spent_meanwhile_is_shared(
    settings, redis_cache, limits, caplog
):
    limits(delivery_per_ip=60, failed_auth_per_ip=0)
    caplog.set_level(logging.WARNING, logger="anonmsg.rate_limits")
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/0")
    for _ in range(5):
        assert rate_limits.check(request_from(), "delivery") is None
    settings.CACHES = redis_cache_settings(REDIS_TEST_URL)
    rate_limits._redis.down_until = time.monotonic()  # the pause is over

    rate_limits.sync_now()

    key = next(redis_cache.scan_iter("anonmsg:rate:v2:delivery_per_ip:*"))
    tokens, _ = redis_cache.get(key).split()
    assert 54.9 < float(tokens) < 55.1
    messages = [r.getMessage() for r in caplog.records if r.name == "anonmsg.rate_limits"]
    assert len(messages) == 2
    assert "shared again" in messages[1]


# --- Redis: exact (RATE_LIMIT_SYNC_MS=0) ------------------------------------------------------


def test_exact_limits_are_shared_by_every_process(client, workspace, redis_cache, limits, exact):
    limits(delivery_per_key=2)
    assert deliver(client, workspace).status_code == 200
    rate_limits.reset_local()  # another process: nothing of the above is in this one
    assert deliver(client, workspace, ip=OTHER_IP).status_code == 200
    rate_limits.reset_local()

    response = deliver(client, workspace, ip="192.0.2.50")

    assert_refused_by_the_shared_key_bucket(response, redis_cache)


def test_a_warm_delivery_request_checks_its_limits_in_its_one_redis_round_trip(
    client, workspace, redis_cache, redis_round_trips, django_assert_num_queries, exact
):
    response = warm_delivery(client, workspace, redis_round_trips, django_assert_num_queries)

    assert response.status_code == 200
    assert len(redis_round_trips) == 1
    assert b"EVALSHA" in b"".join(redis_round_trips[0]) and b"MGET" in b"".join(
        redis_round_trips[0]
    )


@pytest.mark.django_db(transaction=True)
def test_a_warm_tracking_request_with_exact_limits_makes_one_round_trip(
    client, workspace, redis_cache, redis_round_trips, exact
):
    track(client, workspace.write_key)
    redis_round_trips.clear()

    assert track(client, workspace.write_key, n=1).status_code == 200

    # The key is known in this process now: the script is the one round trip.
    assert len(redis_round_trips) == 1 and len(scripts_in(redis_round_trips)) == 1


def test_a_warm_delivery_request_refused_by_redis_reads_nothing_else(
    client, workspace, redis_cache, limits, redis_round_trips, django_assert_num_queries, exact
):
    limits(delivery_per_key=2)
    response = warm_delivery(client, workspace, redis_round_trips, django_assert_num_queries)

    assert response.status_code == 429
    assert len(redis_round_trips) == 1


def test_a_redis_that_forgot_the_script_is_taught_it_again(
    client, workspace, redis_cache, limits, exact
):
    limits(delivery_per_key=3, sdk_script_per_ip=1)
    visitor_state.clear_local()
    deliver(client, workspace)
    redis_cache.script_flush()  # as after a Redis restart
    assert deliver(client, workspace).status_code == 200  # pipelined with the cached read
    redis_cache.script_flush()
    assert deliver(client, workspace).status_code == 200
    assert deliver(client, workspace).status_code == 429
    redis_cache.script_flush()
    assert rate_limits.check(request_from(), "sdk_script") is None  # alone
    assert rate_limits.check(request_from(), "sdk_script") is not None


def test_the_redis_buckets_refill_with_time(redis_cache, limits, exact):
    limits(delivery_per_ip=600, failed_auth_per_ip=0)  # ten a second
    spent = 0
    while (refusal := rate_limits.check(request_from(), "delivery")) is None and spent < 5000:
        spent += 1
    assert 600 <= spent < 5000  # a minute's worth, and what came in meanwhile
    assert refusal.retry_after == 1
    time.sleep(0.25)
    assert rate_limits.check(request_from(), "delivery") is None


def test_failed_authentications_are_counted_in_redis(client, workspace, redis_cache, limits, exact):
    limits(failed_auth_per_ip=2)
    for n in range(2):
        assert deliver(client, workspace, write_key=f"wk_guess{n}").status_code == 401
    rate_limits.reset_local()
    assert deliver(client, workspace).status_code == 429


def test_with_redis_down_the_limits_fail_open_and_the_outage_is_logged_once(
    client, workspace, settings, limits, caplog, exact
):
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/0")  # nothing listens there
    limits(delivery_per_ip=1, delivery_per_key=1, failed_auth_per_ip=1)
    caplog.set_level(logging.WARNING, logger="anonmsg.rate_limits")

    statuses = [deliver(client, workspace).status_code for _ in range(5)]

    assert statuses == [200] * 5
    outage = [r for r in caplog.records if r.name == "anonmsg.rate_limits"]
    assert len(outage) == 1
    assert "not enforced" in outage[0].getMessage()


def test_a_redis_failing_under_a_warm_request_fails_open_too(
    client, workspace, redis_cache, settings, limits, caplog, exact
):
    limits(delivery_per_key=1)
    visitor_state.clear_local()
    assert deliver(client, workspace).status_code == 200  # this process now knows the key
    caplog.set_level(logging.WARNING, logger="anonmsg.rate_limits")
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/0")  # Redis goes away

    # The rate check rides along the cached read, which fails: served from the database.
    statuses = [deliver(client, workspace).status_code for _ in range(3)]

    assert statuses == [200] * 3
    assert len([r for r in caplog.records if r.name == "anonmsg.rate_limits"]) == 1


def test_when_redis_is_back_the_limits_apply_again(settings, redis_cache, limits, caplog, exact):
    limits(delivery_per_ip=1, failed_auth_per_ip=0)
    caplog.set_level(logging.WARNING, logger="anonmsg.rate_limits")
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/0")
    assert rate_limits.check(request_from(), "delivery") is None
    settings.CACHES = redis_cache_settings(REDIS_TEST_URL)
    # Redis is left alone for a few seconds after a failure: still open meanwhile.
    assert rate_limits.check(request_from(), "delivery") is None
    rate_limits._redis.down_until = time.monotonic()  # the pause is over

    assert rate_limits.check(request_from(), "delivery") is None
    assert rate_limits.check(request_from(), "delivery") is not None
    messages = [r.getMessage() for r in caplog.records if r.name == "anonmsg.rate_limits"]
    assert len(messages) == 2
    assert "enforced again" in messages[1]


@pytest.mark.parametrize("sync_ms", [1, 0], ids=["synced", "exact"])
def test_a_redis_that_stops_answering_delays_one_request_not_every_one(settings, limits, sync_ms):
    # A server that accepts connections and never answers: reads time out (0.5 s).
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        settings.CACHES = redis_cache_settings(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        settings.RATE_LIMIT_SYNC_MS = sync_ms
        # Exact limits fail open: even a limit of one lets every request through.
        limits(delivery_per_ip=600 if sync_ms else 1, failed_auth_per_ip=0)
        started = time.monotonic()
        assert rate_limits.check(request_from(), "delivery") is None
        first = time.monotonic() - started
        started = time.monotonic()
        for _ in range(20):
            time.sleep(0.002)  # past the synced interval each time
            assert rate_limits.check(request_from(), "delivery") is None
        following = time.monotonic() - started
    finally:
        silent.close()
    assert first < 2.0
    assert following < 0.3


# --- The OpenAPI document -------------------------------------------------------------------


def test_every_rate_limited_operation_documents_its_429_with_retry_after(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    limited = {
        path: operation
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method in ("get", "post", "patch")
        and (path.startswith("/api/") or path.startswith("/v1/"))
        and path not in ("/api/v1/openapi.json", "/v1/m")
    }
    assert "/api/v1/delivery" in limited and "/v1/batch" in limited
    for path, operation in limited.items():
        answer = operation["responses"].get("429")
        assert answer, f"{path} does not document its 429"
        assert "Retry-After" in answer["headers"], path


# --- Settings -------------------------------------------------------------------------------

SETTINGS_CODE = (
    "import json; from django.conf import settings; "
    "print(json.dumps([settings.RATE_LIMITS_ENABLED, settings.RATE_LIMITS]))"
)


def test_the_limits_come_from_the_environment_with_generous_defaults():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        SETTINGS_CODE,
        RATE_LIMITS="off",
        RATE_LIMIT_DELIVERY_PER_KEY="600000",
        RATE_LIMIT_TRACKING_PER_IP="0",
    )
    assert result.returncode == 0, result.stderr
    enabled, limits = json.loads(result.stdout)
    assert enabled is False
    assert limits == {
        "tracking_per_ip": 0,
        "tracking_per_key": 120_000,
        "delivery_per_ip": 6_000,
        "delivery_per_key": 600_000,
        "sdk_script_per_ip": 1_200,
        "app_api_per_key": 1_200,
        "failed_auth_per_ip": 300,
    }


def test_a_negative_limit_is_a_clear_startup_error():
    result = run_manage("check", RATE_LIMIT_FAILED_AUTH_PER_IP="-5")
    assert result.returncode != 0
    assert "RATE_LIMIT_FAILED_AUTH_PER_IP=-5 is too small" in result.stderr
