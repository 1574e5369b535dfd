"""Which arm of a message's experiment a visitor is in: sticky, and stored nowhere.

Pure: plain values in, plain values out. The arm is a function of (message id, experiment
seed, anonymous id) and the split, so every process, every request and every release gives
the same answer, and nothing is written when a visitor is assigned (docs/campaigns.md,
"Experiments").

One SHA-256 of `"<message id>:<seed>:<anonymous id>"` gives two independent numbers in
0–9,999 (`BUCKETS`), its first and its second 8 bytes:

- the *holdout bucket*: the visitor is held out when it is below `holdout_percent` × 100;
- the *variant bucket*: the variants own consecutive ranges of it, in key order (A, B, C,
  D), each as wide as its weight × 100.

Two numbers rather than one, so that changing the holdout moves only the visitors between the
old and the new holdout line (the variants' ranges do not shrink or stretch with it), and
changing the weights moves only the visitors whose variant bucket lies between an old and a
new boundary of the ranges: at most the sum, over the boundaries, of how far each moved
(`moved_share` computes it). Moving weight from one variant to its neighbour moves exactly
that weight's share. Editing a variant's content moves nobody; a new seed (a new experiment)
reshuffles everyone.
"""

import hashlib
from collections.abc import Sequence

BUCKETS = 10_000
HOLDOUT = "holdout"


def buckets(*, message_id: int, seed: str, anonymous_id: str) -> tuple[int, int]:
    """(holdout bucket, variant bucket), each in 0 … BUCKETS - 1."""
    digest = hashlib.sha256(f"{message_id}:{seed}:{anonymous_id}".encode()).digest()
    return (
        int.from_bytes(digest[:8], "big") % BUCKETS,
        int.from_bytes(digest[8:16], "big") % BUCKETS,
    )


def arm_of_buckets(
    holdout_bucket: int,
    variant_bucket: int,
    *,
    holdout_percent: int,
    weights: Sequence[tuple[str, int]],
) -> str:
    """The arm for these buckets: HOLDOUT, or a variant key. `weights` is [(key, weight)] in
    key order, summing to 100 (campaigns.validation.check_experiment)."""
    if holdout_bucket < holdout_percent * BUCKETS // 100:
        return HOLDOUT
    upper = 0
    for key, weight in weights:
        upper += weight * BUCKETS // 100
        if variant_bucket < upper:
            return key
    # Weights that do not reach 100 (never saved so): the last variant with a weight takes
    # the rest rather than the visitor getting nothing.
    return next((key for key, weight in reversed(weights) if weight), weights[0][0])


def assign(
    *,
    message_id: int,
    seed: str,
    anonymous_id: str,
    holdout_percent: int,
    weights: Sequence[tuple[str, int]],
) -> str:
    """The visitor's arm: HOLDOUT or a variant key (A–D)."""
    holdout_bucket, variant_bucket = buckets(
        message_id=message_id, seed=seed, anonymous_id=anonymous_id
    )
    return arm_of_buckets(
        holdout_bucket, variant_bucket, holdout_percent=holdout_percent, weights=weights
    )


def moved_share(
    before: Sequence[tuple[str, int]],
    after: Sequence[tuple[str, int]],
    *,
    holdout_before: int = 0,
    holdout_after: int = 0,
) -> float:
    """The largest share of visitors (0–1) that a change of split can move to another arm:
    the holdout line's move, plus, among the rest, the moves of the variants' boundaries."""
    keys = sorted({key for key, _ in before} | {key for key, _ in after})
    old, new = dict(before), dict(after)
    boundary_moves = 0
    old_upper = new_upper = 0
    for key in keys:
        old_upper += old.get(key, 0)
        new_upper += new.get(key, 0)
        boundary_moves += abs(old_upper - new_upper)
    kept = (100 - max(holdout_before, holdout_after)) / 100
    return abs(holdout_after - holdout_before) / 100 + kept * boundary_moves / 100
