"""The dates the product accepts from people and API clients: years 2000 to 2100.

Plain checks, and the form validators built on them (the wizard's schedule, the activity log).

Python's datetime stops at years 1 and 9999, so a moment near either end overflows as soon as
it is moved to another time zone or widened to whole hours or days: a 500, or a stored row that
no page can show any more. No schedule or metrics range needs to go that far. (Tracking keeps
its own rule for client clocks: delivery/tracking/parsing.py.)
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError

FIRST_YEAR = 2000
LAST_YEAR = 2100
RANGE_TEXT = f"between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31"


def is_supported_date(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def is_supported_moment(moment: datetime) -> bool:
    """Whether a moment's year, as written (in its own offset, or the workspace's time zone when
    naive), is a supported one. Moving such a moment to any time zone cannot overflow."""
    return FIRST_YEAR <= moment.year <= LAST_YEAR


def validate_supported_date(value: date | None) -> None:
    """A form field validator (DateField or DateTimeField)."""
    if value is None:
        return
    supported = (
        is_supported_moment(value) if isinstance(value, datetime) else is_supported_date(value)
    )
    if not supported:
        raise ValidationError(f"Pick a date {RANGE_TEXT}.", code="out_of_range")
