"""Segment conditions: validation and the stored shape. Pure: plain values in and out.

A segment (campaigns.models.Segment) is `match` ("all" | "any") over conditions stored as
`{"trait": "plan", "operator": "equals", "value": "pro"}`:

- `trait`: the trait's key as sent with identify (a dotted path reaches nested traits,
  `company.size`); trimmed, 1-200 characters.
- `operator`: equals, not_equals, contains, exists, greater_than, less_than.
- `value`: the text typed by the marketer, trimmed (at most 500 characters); `None` for
  `exists`. For greater_than / less_than it must read as a number (`100`, `4.5`, `-3`) or an
  ISO-8601 date or date-time (`2025-01-31`), which is what campaigns/segment_matching.py compares.

Membership is evaluated in campaigns/segment_matching.py (for every profile by
metrics/memberships.py); the dashboard form, the admin and anything
else that writes conditions validate them here first.
"""

import math
from datetime import UTC, date, datetime

OPERATORS = ("equals", "not_equals", "contains", "exists", "greater_than", "less_than")
ORDERED_OPERATORS = ("greater_than", "less_than")
MATCHES = ("all", "any")
MAX_TRAIT_LENGTH = 200
MAX_VALUE_LENGTH = 500
MAX_CONDITIONS = 50


class ConditionError(ValueError):
    """A condition that cannot be saved; `field` is trait, operator or value (or conditions)."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.message = message
        self.field = field


def is_number(text: str) -> bool:
    try:
        number = float(text)
    except ValueError:
        return False
    return math.isfinite(number)


def parse_moment(text: str) -> datetime | None:
    """An ISO-8601 date (midnight) or date-time, in UTC when it names no offset; else None.

    The one grammar for dates in segment conditions: validation here, comparison in
    campaigns/segment_matching.py.
    """
    text = text.strip()
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def is_date(text: str) -> bool:
    return parse_moment(text) is not None


def _storable(text: str, field: str) -> str:
    # PostgreSQL's jsonb cannot hold NUL, and no database can hold a lone surrogate.
    if "\x00" in text:
        raise ConditionError("Remove the NUL character (\\u0000).", field=field)
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ConditionError("This is not valid Unicode text.", field=field) from None
    return text


def clean_condition(*, trait, operator, value) -> dict:
    """The condition as stored, or ConditionError naming the field to fix."""
    if not isinstance(trait, str) or not trait.strip():
        raise ConditionError(
            "Enter the trait name, as sent with identify (e.g. plan or company.size).",
            field="trait",
        )
    trait = _storable(trait.strip(), "trait")
    if len(trait) > MAX_TRAIT_LENGTH:
        raise ConditionError(
            f"Trait names are at most {MAX_TRAIT_LENGTH} characters.", field="trait"
        )
    if operator not in OPERATORS:
        raise ConditionError(
            f"Unknown operator “{operator}”: use one of {', '.join(OPERATORS)}.", field="operator"
        )
    if operator == "exists":
        return {"trait": trait, "operator": operator, "value": None}
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        value = ""
    text = _storable(str(value).strip(), "value")
    if not text:
        raise ConditionError(
            "Enter the value to compare with (only “exists” needs none).", field="value"
        )
    if len(text) > MAX_VALUE_LENGTH:
        raise ConditionError(f"Values are at most {MAX_VALUE_LENGTH} characters.", field="value")
    if operator in ORDERED_OPERATORS and not (is_number(text) or is_date(text)):
        raise ConditionError(
            "“Greater than” and “less than” compare numbers or dates: enter a number "
            "(100, 4.5) or a date (2025-01-31).",
            field="value",
        )
    return {"trait": trait, "operator": operator, "value": text}


def clean_conditions(*, match, conditions) -> list[dict]:
    """A whole segment's conditions, cleaned; ConditionError's field is `match`,
    `conditions` or `conditions[i].<field>`."""
    if match not in MATCHES:
        raise ConditionError("Match must be “all” or “any”.", field="match")
    if not isinstance(conditions, list) or not conditions:
        raise ConditionError("Add at least one condition.", field="conditions")
    if len(conditions) > MAX_CONDITIONS:
        raise ConditionError(
            f"A segment has at most {MAX_CONDITIONS} conditions.", field="conditions"
        )
    cleaned = []
    for index, condition in enumerate(conditions):
        if not isinstance(condition, dict):
            raise ConditionError(
                "Each condition is an object with trait, operator and value.",
                field=f"conditions[{index}]",
            )
        try:
            cleaned.append(
                clean_condition(
                    trait=condition.get("trait"),
                    operator=condition.get("operator"),
                    value=condition.get("value"),
                )
            )
        except ConditionError as exc:
            raise ConditionError(exc.message, field=f"conditions[{index}].{exc.field}") from None
    return cleaned


OPERATOR_LABELS = {
    "equals": "equals",
    "not_equals": "does not equal",
    "contains": "contains",
    "exists": "exists",
    "greater_than": "is greater than",
    "less_than": "is less than",
}


def describe_condition(condition: dict) -> str:
    """`plan equals “pro”`, for lists and confirmations."""
    label = OPERATOR_LABELS.get(condition.get("operator"), condition.get("operator"))
    if condition.get("operator") == "exists":
        return f"{condition.get('trait')} {label}"
    return f"{condition.get('trait')} {label} “{condition.get('value')}”"
