"""Experiment assignment (campaigns/assignment.py): sticky, uniform, and moving as few visitors
as a change of split must (docs/campaigns.md, "Experiments")."""

import uuid
from collections import Counter

import pytest

from campaigns.assignment import (
    BUCKETS,
    HOLDOUT,
    arm_of_buckets,
    assign,
    buckets,
    moved_share,
)

# 100,000 visitors' anonymous ids, as SDKs make them (UUID 4 shape), fixed for the run.
IDS = [str(uuid.UUID(int=(i * 0x9E3779B97F4A7C15 + 12345) % 2**128, version=4)) for i in range(100_000)]  # fmt: skip
# Chi-square critical values at p = 0.001 by degrees of freedom: a uniform hash passes them
# with room to spare; one that favoured a bucket range would be far past them.
CHI_SQUARE_0_001 = {1: 10.828, 2: 13.816, 3: 16.266, 4: 18.467}


@pytest.mark.parametrize(
    ("message_id", "seed", "anonymous_id", "expected"),
    [
        (1, "seed", "visitor-1", (4224, 4630)),
        (12, "9f2c4e1a0b7d3c55", "5b0c6f1e-7a44-4f0e-9d1b-2a9c1e3f4d5a", (2835, 3312)),
        (987654, "", "x", (3828, 8380)),
    ],
)
def test_buckets_are_the_same_in_every_release(message_id, seed, anonymous_id, expected):
    # Pinned: a release that changed the hash would move every running experiment's visitors.
    assert buckets(message_id=message_id, seed=seed, anonymous_id=anonymous_id) == expected


def test_the_arm_depends_only_on_message_seed_and_visitor():
    split = {"holdout_percent": 10, "weights": [("A", 50), ("B", 50)]}
    first = [assign(message_id=7, seed="s1", anonymous_id=i, **split) for i in IDS[:2000]]
    again = [assign(message_id=7, seed="s1", anonymous_id=i, **split) for i in IDS[:2000]]
    assert first == again
    other_seed = [assign(message_id=7, seed="s2", anonymous_id=i, **split) for i in IDS[:2000]]
    other_message = [assign(message_id=8, seed="s1", anonymous_id=i, **split) for i in IDS[:2000]]
    # A new experiment (seed) or another message reshuffles: about half change arm.
    assert 0.35 < sum(a != b for a, b in zip(first, other_seed, strict=True)) / 2000 < 0.65
    assert 0.35 < sum(a != b for a, b in zip(first, other_message, strict=True)) / 2000 < 0.65


@pytest.mark.parametrize(
    ("holdout_percent", "weights"),
    [
        (0, [("A", 50), ("B", 50)]),
        (10, [("A", 50), ("B", 50)]),
        (0, [("A", 34), ("B", 33), ("C", 33)]),
        (20, [("A", 25), ("B", 25), ("C", 25), ("D", 25)]),
        (5, [("A", 90), ("B", 10)]),
        (50, [("A", 100)]),
    ],
)
def test_visitors_spread_over_the_arms_as_the_split_says(holdout_percent, weights):
    counts = Counter(
        assign(
            message_id=42,
            seed="0123456789abcdef",
            anonymous_id=anonymous_id,
            holdout_percent=holdout_percent,
            weights=weights,
        )
        for anonymous_id in IDS
    )
    expected = {
        key: len(IDS) * (100 - holdout_percent) * weight / 10_000 for key, weight in weights
    }
    if holdout_percent:
        expected[HOLDOUT] = len(IDS) * holdout_percent / 100
    assert set(counts) == set(expected)
    chi_square = sum((counts[arm] - n) ** 2 / n for arm, n in expected.items())
    assert chi_square < CHI_SQUARE_0_001[len(expected) - 1], (counts, chi_square)


def test_each_bucket_is_equally_likely():
    holdout_buckets = Counter()
    variant_buckets = Counter()
    for anonymous_id in IDS:
        holdout_bucket, variant_bucket = buckets(message_id=3, seed="s", anonymous_id=anonymous_id)
        holdout_buckets[holdout_bucket * 10 // BUCKETS] += 1
        variant_buckets[variant_bucket * 10 // BUCKETS] += 1
    for counted in (holdout_buckets, variant_buckets):
        # Ten deciles, 9 degrees of freedom: 27.877 at p = 0.001.
        assert sum((n - 10_000) ** 2 / 10_000 for n in counted.values()) < 27.877


def _arms(ids, *, holdout_percent, weights):
    return [
        assign(
            message_id=5,
            seed="seed",
            anonymous_id=anonymous_id,
            holdout_percent=holdout_percent,
            weights=weights,
        )
        for anonymous_id in ids
    ]


@pytest.mark.parametrize(
    ("before", "after", "holdout_before", "holdout_after", "bound"),
    [
        # Weight moved between neighbours: exactly that share moves.
        ([("A", 50), ("B", 50)], [("A", 60), ("B", 40)], 0, 0, 0.10),
        ([("A", 50), ("B", 50)], [("A", 50), ("B", 25), ("C", 25)], 0, 0, 0.25),
        ([("A", 30), ("B", 40), ("C", 30)], [("A", 40), ("B", 20), ("C", 40)], 0, 0, 0.20),
        ([("A", 40), ("B", 30), ("C", 30)], [("A", 30), ("B", 30), ("C", 40)], 0, 0, 0.20),
        # A bigger holdout moves only the visitors between the old and the new line.
        ([("A", 50), ("B", 50)], [("A", 50), ("B", 50)], 10, 20, 0.10),
        ([("A", 50), ("B", 50)], [("A", 50), ("B", 50)], 10, 0, 0.10),
        # Winner chosen: the loser's visitors (and only they) move.
        ([("A", 50), ("B", 50)], [("A", 0), ("B", 100)], 10, 10, 0.45),
    ],
)
def test_a_change_of_split_moves_at_most_the_expected_share(
    before, after, holdout_before, holdout_after, bound
):
    assert moved_share(
        before, after, holdout_before=holdout_before, holdout_after=holdout_after
    ) == pytest.approx(bound)
    ids = IDS[:20_000]
    old = _arms(ids, holdout_percent=holdout_before, weights=before)
    new = _arms(ids, holdout_percent=holdout_after, weights=after)
    moved = sum(a != b for a, b in zip(old, new, strict=True)) / len(ids)
    assert moved <= bound + 0.01  # the bound is on buckets; 20,000 visitors sample them
    if bound:
        assert moved > bound / 2  # and the change did take effect


def test_unchanged_weights_move_nobody():
    ids = IDS[:5000]
    split = {"holdout_percent": 10, "weights": [("A", 34), ("B", 33), ("C", 33)]}
    assert _arms(ids, **split) == _arms(ids, **split)


@pytest.mark.parametrize(
    ("holdout_bucket", "variant_bucket", "expected"),
    [
        (0, 0, HOLDOUT),
        (999, 9999, HOLDOUT),  # 10 % holdout: buckets 0–999
        (1000, 0, "A"),
        (1000, 4999, "A"),
        (1000, 5000, "B"),
        (9999, 9999, "B"),
    ],
)
def test_bucket_boundaries(holdout_bucket, variant_bucket, expected):
    assert (
        arm_of_buckets(
            holdout_bucket,
            variant_bucket,
            holdout_percent=10,
            weights=[("A", 50), ("B", 50)],
        )
        == expected
    )


def test_a_variant_with_no_weight_gets_nobody():
    arms = set(_arms(IDS[:5000], holdout_percent=0, weights=[("A", 0), ("B", 100), ("C", 0)]))
    assert arms == {"B"}
