"""Does a profile's traits put it in a segment? Pure: plain values in, a boolean out.

A segment is `match` ("all" | "any") over conditions `{"trait", "operator", "value"}`.
Decisions (docs/metrics.md):
- `trait` may be a dotted path into nested traits (`address.city`).
- Strings compare case-insensitively; a value that reads as a number compares as a number
  (`"42"` equals `42`), `true`/`false` compare with booleans.
- A trait that is missing (or null) matches only `not_equals`; `exists` means present and not
  null or empty.
- A list trait equals / contains a value when one of its items equals it.
- `greater_than` / `less_than` compare numbers, or ISO-8601 dates and date-times; anything else
  does not match.
- A segment without conditions matches nobody.
"""

from datetime import datetime

from campaigns.segment_conditions import parse_moment

_MISSING = object()


def segment_matches(*, match: str, conditions: list[dict], traits: dict) -> bool:
    if not conditions:
        return False
    results = (condition_matches(condition, traits) for condition in conditions)
    return any(results) if match == "any" else all(results)


def condition_matches(condition: dict, traits: dict) -> bool:
    operator = condition.get("operator")
    actual = _lookup(traits, str(condition.get("trait") or ""))
    expected = condition.get("value")
    if actual is _MISSING or actual is None:
        return operator == "not_equals"
    if operator == "exists":
        return actual not in ("", [], {})
    if operator == "equals":
        return _equals(actual, expected)
    if operator == "not_equals":
        return not _equals(actual, expected)
    if operator == "contains":
        if isinstance(actual, list):
            return any(_equals(item, expected) for item in actual)
        return _text(expected) in _text(actual)
    if operator in ("greater_than", "less_than"):
        pair = _comparable(actual, expected)
        if pair is None:
            return False
        left, right = pair
        return left > right if operator == "greater_than" else left < right
    return False


def _lookup(traits: dict, path: str):
    value = traits
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).casefold()


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _equals(actual, expected) -> bool:
    if isinstance(actual, list):
        return any(_equals(item, expected) for item in actual)
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return left == right
    return _text(actual).strip() == _text(expected).strip()


def _moment(value) -> datetime | None:
    return parse_moment(value) if isinstance(value, str) else None


def _comparable(actual, expected):
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return left, right
    left, right = _moment(actual), _moment(expected)
    if left is not None and right is not None:
        return left, right
    return None
