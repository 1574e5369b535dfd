"""Profile traits: how identify traits merge into a profile's, within caps (pure).

Without a cap, identifies adding new keys grow a profile's traits without end (each call is
only limited to 32 KB), and every trait change is re-read by segments. So:

- one identify's own `traits`: at most `MAX_TRAIT_KEYS` top-level keys and `MAX_TRAITS_BYTES`
  as compact UTF-8 JSON, else the call is refused (`traits_problem`, a client bug);
- the merged result: the same caps. A merge applies the incoming keys in order; a key that
  would pass a cap is dropped and the profile keeps what it had (`merge_traits`). Removals
  always apply, and so make room. The call itself succeeds: the event is stored and the
  visitor merged, which matter more than one more trait.

A profile already over a cap (stored before the caps) never grows, and may shrink.
"""

import json
from dataclasses import dataclass, field

MAX_TRAIT_KEYS = 100
MAX_TRAITS_BYTES = 16 * 1024

_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


@dataclass
class MergedTraits:
    traits: dict
    dropped: list[str] = field(default_factory=list)  # incoming keys that did not fit


def traits_size(traits: dict) -> int:
    """Bytes of `traits` as compact UTF-8 JSON: what MAX_TRAITS_BYTES measures."""
    return len(_COMPACT.encode(traits).encode())


def traits_problem(traits: dict) -> str | None:
    """Why one call's traits cannot be merged into any profile, or None."""
    if len(traits) > MAX_TRAIT_KEYS:
        return f"`traits` has {len(traits)} keys; a profile keeps at most {MAX_TRAIT_KEYS}."
    if traits_size(traits) > MAX_TRAITS_BYTES:
        return f"`traits` is larger than {MAX_TRAITS_BYTES // 1024} KB (as compact JSON)."
    return None


def merge_traits(current: dict, incoming: dict) -> MergedTraits:
    """Shallow merge within the caps: incoming keys replace current ones, a null value removes
    the trait; a key whose new value would pass a cap is dropped (see the module docstring)."""
    result = dict(current)
    # Sizes are updated per key, not re-measured: the whole is encoded once.
    size = traits_size(result)
    dropped = []
    for key, value in incoming.items():
        old_entry = _entry_size(key, result[key]) if key in result else None
        if value is None:
            if old_entry is not None:
                size -= old_entry + (len(result) > 1)  # and its comma
                del result[key]
            continue
        if old_entry is None:
            count, new_size = len(result) + 1, size + _entry_size(key, value) + bool(result)
        else:
            count, new_size = len(result), size - old_entry + _entry_size(key, value)
        within_caps = count <= MAX_TRAIT_KEYS and new_size <= MAX_TRAITS_BYTES
        if within_caps or (count <= len(result) and new_size <= size):  # over-cap: may shrink
            result[key], size = value, new_size
        else:
            dropped.append(key)
    return MergedTraits(result, dropped)


def fill_traits(target: dict, source: dict) -> MergedTraits:
    """`target` with the keys of `source` it lacks, while they fit (an alias folding a person
    into another: the target's own traits win)."""
    gaps = {key: value for key, value in source.items() if key not in target and value is not None}
    return merge_traits(target, gaps)


def _entry_size(key: str, value) -> int:
    """Bytes of `"key":value` in compact UTF-8 JSON."""
    return len(_COMPACT.encode(key).encode()) + 1 + len(_COMPACT.encode(value).encode())
