"""The token-bucket decision (anonmsg/token_bucket.py): plain values in, plain values out."""

import pytest

from anonmsg.token_bucket import CHECK, NOTE, Bucket, decide, expiry_ms, level


def bucket(key="b", mode="take"):
    return Bucket(key=key, per_minute=60, mode=mode)  # one token a second


@pytest.mark.parametrize(
    ("state", "now_ms", "expected"),
    [
        (None, 0, 60.0),  # never used: full
        ((0.0, 1_000), 1_000, 0.0),
        ((0.0, 1_000), 3_500, 2.5),  # one token a second
        ((59.0, 0), 10_000, 60.0),  # never above capacity
        ((5.0, 2_000), 1_000, 5.0),  # a clock that went back adds nothing
    ],
)
def test_a_bucket_refills_evenly_up_to_its_capacity(state, now_ms, expected):
    assert level(bucket(), state, now_ms) == pytest.approx(expected)


def test_a_request_takes_one_token_from_every_bucket():
    decision = decide([bucket("ip"), bucket("key")], [(10.0, 0), None], 0)
    assert decision.allowed
    assert decision.states == {0: (9.0, 0), 1: (59.0, 0)}


@pytest.mark.parametrize(
    ("states", "now_ms", "refused_by", "wait_ms"),
    [
        ([(0.0, 0), None], 0, 0, 1000),
        ([None, (0.5, 0)], 0, 1, 500),
        ([(0.0, 0), (0.0, 0)], 250, 0, 750),
        # Several empty buckets: the wait is the longest, the first refusing one is named.
        ([(0.75, 0), (0.0, 0)], 0, 0, 1000),
    ],
)
def test_an_empty_bucket_refuses_and_says_how_long_to_wait(states, now_ms, refused_by, wait_ms):
    decision = decide([bucket("ip"), bucket("key")], states, now_ms)
    assert not decision.allowed
    assert decision.refused_by == refused_by
    assert decision.wait_ms == wait_ms


def test_a_refused_request_takes_nothing_from_any_bucket():
    decision = decide([bucket("ip"), bucket("key")], [(30.0, 0), (0.0, 0)], 0)
    assert not decision.allowed
    assert decision.states == {}


def test_a_check_only_bucket_needs_a_token_but_takes_none():
    check_only = bucket("failed-auth", CHECK)
    assert decide([check_only, bucket()], [(1.0, 0), None], 0).states == {1: (59.0, 0)}
    refused = decide([check_only, bucket()], [(0.2, 0), None], 0)
    assert (refused.allowed, refused.refused_by, refused.wait_ms) == (False, 0, 800)


def test_counting_a_failure_needs_no_token_and_stops_at_zero():
    note = bucket("failed-auth", NOTE)
    assert decide([note], [(0.0, 0)], 0).states == {0: (0.0, 0)}


def test_a_state_can_be_forgotten_once_the_bucket_would_be_full():
    assert expiry_ms(bucket(), 0.0) == 61_000
    assert expiry_ms(bucket(), 60.0) == 1_000


def test_a_process_forgets_buckets_that_are_full_again_when_it_holds_too_many(monkeypatch):
    from anonmsg import rate_limits

    monkeypatch.setattr(rate_limits, "LOCAL_BUCKET_LIMIT", 3)
    buckets = rate_limits.LocalBuckets()
    clock = iter([0.0, 0.0, 0.0, 120.0])  # seconds; the last request comes two minutes later
    monkeypatch.setattr(rate_limits.time, "monotonic", lambda: next(clock))
    for n in range(3):
        buckets.decide([Bucket(f"ip-{n}", per_minute=60)])
    buckets.decide([Bucket("ip-3", per_minute=60)])
    # The three older buckets were full again (so forgettable): only the new one is kept.
    assert list(buckets.states) == ["ip-3"]
