"""How an experiment splits a message's eligible visitors, as the dashboard edits and says it.

Pure: plain values in, plain values out. Variant A is the message's own content; B–D are its
`MessageVariant`s; the holdout is a share of eligible visitors shown nothing (DESIGN.md §5).
(`new_experiment_seed` is the one impure helper: a random value.) Variant letters are identities in the metrics, so a variant keeps its letter: only the last
one can be removed, and new ones take the next free letter.
"""

import secrets

from campaigns.validation import MAX_HOLDOUT_PERCENT, MAX_VARIANTS, VARIANT_KEYS

__all__ = [
    "MAX_HOLDOUT_PERCENT",
    "MAX_VARIANTS",
    "VARIANT_KEYS",
    "describe_split",
    "equal_weights",
    "is_experiment",
    "new_experiment_seed",
    "next_key",
    "parse_keys",
]


def equal_weights(count: int) -> list[int]:
    """Whole percentages as equal as they can be, summing to 100: 3 → [34, 33, 33]."""
    if count < 1:
        return []
    share, extra = divmod(100, count)
    return [share + (1 if index < extra else 0) for index in range(count)]


def next_key(keys: list[str]) -> str | None:
    """The letter a new variant gets after `keys` (A first), or None past D."""
    if len(keys) >= MAX_VARIANTS:
        return None
    return VARIANT_KEYS[len(keys)]


def parse_keys(text: str) -> list[str] | None:
    """ "A,B,C" → ["A", "B", "C"]; None unless it is A, then B… in order, at most four."""
    keys = [key.strip().upper() for key in (text or "A").split(",") if key.strip()]
    if not keys or keys != list(VARIANT_KEYS[: len(keys)]):
        return None
    return keys


def is_experiment(*, variant_count: int, holdout_percent: int) -> bool:
    """A message with a variant besides A, or a holdout, is in an experiment."""
    return variant_count > 0 or holdout_percent > 0


def describe_split(weights: list[tuple[str, int]], holdout_percent: int) -> str:
    """ "A 50 %, B 50 %; 10 % of eligible visitors see nothing (holdout)."

    `weights` is [(key, weight)], A first: the shares of the visitors who are not held out."""
    if len(weights) <= 1 and not holdout_percent:
        return "No experiment: every eligible visitor sees this content."
    if len(weights) <= 1:
        text = "Variant A only"
    else:
        text = ", ".join(f"{key} {weight}\u00a0%" for key, weight in weights)
    if holdout_percent:
        text += f"; {holdout_percent}\u00a0% of eligible visitors see nothing (holdout)"
    else:
        text += "; no holdout"
    return text + "."


def new_experiment_seed() -> str:
    """A message's assignment seed, drawn when it first gets a variant or a holdout."""
    return secrets.token_hex(16)
