"""The dates the product accepts from people and API clients: years 2000 to 2100. Pure.

Python's datetime stops at years 1 and 9999, so a moment near either end overflows as soon as
it is moved to another time zone or widened to whole hours or days: a 500, or a stored row that
no page can show any more. No schedule or metrics range needs to go that far. (Tracking keeps
its own rule for client clocks: delivery/ingest.py.)
"""

from datetime import UTC, date, datetime, tzinfo

FIRST_YEAR = 2000
LAST_YEAR = 2100
EARLIEST = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
LATEST = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)  # excluded
RANGE_TEXT = f"between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31"


def is_supported_date(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def is_supported_moment(moment: datetime, *, tz: tzinfo = UTC) -> bool:
    """Whether an aware moment (or a naive one read in `tz`) lies in the supported years."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return EARLIEST <= moment.astimezone(UTC) < LATEST
    except OverflowError:  # year 1 or 9999 pushed past the end by its offset
        return False
