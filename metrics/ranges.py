"""Date ranges for metrics: presets, custom dates and the App API's from/to. Pure.

Ranges are [start, end) in UTC, aligned to whole hours (the rollup granularity); days are the
workspace's local days. Decisions (docs/metrics.md):
- `24h` is the last 24 hours up to the end of the current hour, in hourly buckets.
- `7d`, `30d`, `90d` are the last N local days including today, in daily buckets.
- A custom range is two local dates, both included; hourly buckets up to 2 days, else daily.
- The API's `from`/`to` accept a date (local; `to` is then included) or an ISO-8601 date-time
  (naive means local); they are widened to whole hours. Default: the last 30 days.
- A range is at most 366 days long, within the years 2000 to 2100 (anonmsg/dates.py).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_date, parse_datetime

from anonmsg.dates import RANGE_TEXT, is_supported_date, is_supported_moment

HOUR = timedelta(hours=1)
MAX_DAYS = 366
PRESETS = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
}
DEFAULT_PRESET = "7d"


class RangeError(ValueError):
    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class DateRange:
    start: datetime  # UTC, on the hour
    end: datetime  # UTC, on the hour, excluded
    bucket: str  # "hour" | "day"
    key: str  # a preset key or "custom"
    first_day: date  # local dates shown in the picker
    last_day: date

    @property
    def label(self) -> str:
        if self.key in PRESETS:
            return PRESETS[self.key]
        if self.first_day == self.last_day:
            return f"{self.first_day:%b %d, %Y}"
        return f"{self.first_day:%b %d, %Y} – {self.last_day:%b %d, %Y}"


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + HOUR


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first whole UTC hour that starts on `day` locally.

    Rounded up, not down: a daily bucket holds the hours that start on its local day, so in a
    half-hour zone the hour that straddles midnight belongs to the day it starts in (Kolkata's
    18:00 UTC hour is 23:30 local, "today"), and a range of days holds exactly its buckets' hours.
    """
    return ceil_hour(datetime.combine(day, time.min, tzinfo=tz))


def preset_range(key: str, *, now: datetime, tz: ZoneInfo) -> DateRange:
    if key not in PRESETS:
        raise RangeError(
            f"Unknown range {key!r}: choose one of {', '.join(PRESETS)}.", field="range"
        )
    today = now.astimezone(tz).date()
    if key == "24h":
        end = floor_hour(now) + HOUR
        start = end - timedelta(hours=24)
        return DateRange(start, end, "hour", key, start.astimezone(tz).date(), today)
    days = int(key.removesuffix("d"))
    first = today - timedelta(days=days - 1)
    return DateRange(
        local_midnight(first, tz), local_midnight(today + timedelta(days=1), tz), "day", key,
        first, today,
    )  # fmt: skip


def custom_range(first_day: date, last_day: date, *, tz: ZoneInfo) -> DateRange:
    for field, day in (("from", first_day), ("to", last_day)):
        if not is_supported_date(day):
            raise RangeError(f"Choose dates {RANGE_TEXT}.", field=field)
    if last_day < first_day:
        raise RangeError("The end date is before the start date.", field="to")
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise RangeError(f"Choose at most {MAX_DAYS} days.", field="from")
    bucket = "hour" if (last_day - first_day).days < 2 else "day"
    return DateRange(
        local_midnight(first_day, tz), local_midnight(last_day + timedelta(days=1), tz), bucket,
        "custom", first_day, last_day,
    )  # fmt: skip


def api_range(from_text: str | None, to_text: str | None, *, now: datetime, tz: ZoneInfo):
    """The App API's ?from=&to= as a DateRange; RangeError names the bad parameter."""
    start = _parse_bound(from_text, field="from", tz=tz, is_end=False) if from_text else None
    end = _parse_bound(to_text, field="to", tz=tz, is_end=True) if to_text else ceil_hour(now)
    if start is None:
        start = end - timedelta(days=30)
    if start >= end:
        raise RangeError("`from` must be before `to`.", field="from")
    if end - start > timedelta(days=MAX_DAYS):
        raise RangeError(f"The range may be at most {MAX_DAYS} days long.", field="from")
    bucket = "hour" if end - start <= timedelta(days=2) else "day"
    return DateRange(
        start, end, bucket, "custom", start.astimezone(tz).date(),
        (end - HOUR).astimezone(tz).date(),
    )  # fmt: skip


def _parse_bound(text: str, *, field: str, tz: ZoneInfo, is_end: bool) -> datetime:
    text = text.strip()
    try:
        day = parse_date(text)
        moment = None if day else parse_datetime(text.replace(" ", "+", 1) if "T" in text else text)
    except ValueError:
        day = moment = None
    if day is None and moment is None:
        raise RangeError(
            f"`{field}` is not a date (2026-01-31) or an ISO-8601 date-time "
            "(2026-01-31T09:00:00+01:00).",
            field=field,
        )
    # Checked before any arithmetic: near year 1 or 9999 it would overflow.
    if not (is_supported_date(day) if day else is_supported_moment(moment)):
        raise RangeError(f"`{field}` must be {RANGE_TEXT}.", field=field)
    if day is not None:
        return local_midnight(day + timedelta(days=1) if is_end else day, tz)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return ceil_hour(moment) if is_end else floor_hour(moment)
