from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from metrics.ranges import RangeError, api_range, custom_range, preset_range

NOW = datetime(2026, 3, 29, 14, 25, tzinfo=UTC)  # the day Europe/Paris switches to summer time
PARIS = ZoneInfo("Europe/Paris")


def test_last_24_hours_end_with_the_current_hour():
    r = preset_range("24h", now=NOW, tz=UTC)
    assert (r.start, r.end, r.bucket) == (
        datetime(2026, 3, 28, 15, tzinfo=UTC), datetime(2026, 3, 29, 15, tzinfo=UTC), "hour"
    )  # fmt: skip


@pytest.mark.parametrize("key", ["7d", "30d", "90d"])
def test_day_presets_are_whole_local_days_including_today(key):
    r = preset_range(key, now=NOW, tz=PARIS)
    days = int(key[:-1])
    assert r.bucket == "day"
    assert r.last_day == date(2026, 3, 29)
    assert r.first_day == date(2026, 3, 29) - timedelta(days=days - 1)
    assert r.start.astimezone(PARIS).hour == 0 and r.end.astimezone(PARIS).hour == 0
    assert r.end.astimezone(PARIS).date() == date(2026, 3, 30)


def test_a_custom_range_includes_both_days_and_uses_hours_up_to_two_days():
    assert custom_range(date(2026, 3, 1), date(2026, 3, 2), tz=UTC).bucket == "hour"
    r = custom_range(date(2026, 3, 1), date(2026, 3, 3), tz=UTC)
    assert (r.start, r.end, r.bucket) == (
        datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC), "day"
    )  # fmt: skip
    assert r.label == "Mar 01, 2026 – Mar 03, 2026"


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [(date(2026, 3, 5), date(2026, 3, 1), "to"), (date(2024, 1, 1), date(2026, 1, 1), "from")],
)
def test_bad_custom_ranges_name_the_field(first, last, field):
    with pytest.raises(RangeError) as error:
        custom_range(first, last, tz=UTC)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("from_text", "to_text", "start", "end"),
    [
        (None, None, datetime(2026, 2, 27, 15, tzinfo=UTC), datetime(2026, 3, 29, 15, tzinfo=UTC)),
        ("2026-03-01", "2026-03-01", datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 1, 23, tzinfo=UTC)),
        ("2026-03-01T10:30:00+00:00", "2026-03-01T12:10:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC), datetime(2026, 3, 1, 13, tzinfo=UTC)),
        ("2026-03-01T10:30:00 01:00", None, datetime(2026, 3, 1, 9, tzinfo=UTC), datetime(2026, 3, 29, 15, tzinfo=UTC)),
        ("2026-03-01T10:00", None, datetime(2026, 3, 1, 9, tzinfo=UTC), datetime(2026, 3, 29, 15, tzinfo=UTC)),
    ],
    ids=["default-30-days", "one-local-day", "date-times-widened", "unencoded-plus", "naive-is-local"],
)  # fmt: skip
def test_api_from_and_to(from_text, to_text, start, end):
    r = api_range(from_text, to_text, now=NOW, tz=PARIS)
    assert (r.start, r.end) == (start, end)


@pytest.mark.parametrize(
    ("from_text", "to_text", "field"),
    [
        ("soon", None, "from"),
        (None, "2026-02-30", "to"),
        ("2026-03-02", "2026-03-01", "from"),
        ("2025-01-01", "2026-03-01", "from"),
    ],
)
def test_api_errors_name_the_parameter(from_text, to_text, field):
    with pytest.raises(RangeError) as error:
        api_range(from_text, to_text, now=NOW, tz=PARIS)
    assert error.value.field == field


def test_an_unknown_preset_is_an_error():
    with pytest.raises(RangeError):
        preset_range("1y", now=NOW, tz=UTC)


@pytest.mark.parametrize(
    ("from_text", "to_text", "field"),
    [
        ("0001-01-01", "0001-01-05", "from"),
        (None, "0001-01-01", "to"),
        ("9999-12-30", "9999-12-31", "from"),
        (None, "9999-12-31", "to"),
        ("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z", "from"),
        ("9999-12-31T22:30:00", None, "from"),
        ("2026-01-01", "9999-12-31T23:30:00+05:00", "to"),
        ("1999-12-31", "2000-01-02", "from"),
        ("2100-12-30", "2101-01-01", "to"),
    ],
)
def test_api_dates_outside_the_supported_years_name_the_parameter(from_text, to_text, field):
    with pytest.raises(RangeError) as raised:
        api_range(from_text, to_text, now=NOW, tz=PARIS)
    assert raised.value.field == field
    assert "between 2000-01-01 and 2100-12-31" in raised.value.message


def test_api_dates_at_the_edges_of_the_supported_years_are_accepted():
    assert api_range("2000-01-01", "2000-01-02", now=NOW, tz=UTC).start == datetime(
        2000, 1, 1, tzinfo=UTC
    )
    assert api_range("2100-12-30", "2100-12-31", now=NOW, tz=UTC).end == datetime(
        2101, 1, 1, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [(date(1, 1, 1), date(1, 1, 2), "from"), (date(2026, 1, 1), date(9999, 12, 31), "to")],
)
def test_custom_dates_outside_the_supported_years_name_the_field(first, last, field):
    with pytest.raises(RangeError) as raised:
        custom_range(first, last, tz=PARIS)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("zone", "now"),
    [
        # 23:39 in Kolkata (+05:30): the UTC hour that holds local midnight has begun.
        ("Asia/Kolkata", datetime(2026, 12, 5, 18, 9, tzinfo=UTC)),
        ("Asia/Kolkata", datetime(2026, 12, 5, 18, 45, tzinfo=UTC)),  # 00:15, the next day
        ("America/St_Johns", datetime(2026, 12, 6, 3, 10, tzinfo=UTC)),  # 23:40 at -03:30
    ],
)
def test_in_a_half_hour_zone_every_hour_of_a_day_range_falls_in_one_of_its_days(zone, now):
    tz = ZoneInfo(zone)
    r = preset_range("7d", now=now, tz=tz)
    assert r.start <= now < r.end  # nothing recorded just now falls off the end
    hour, days = r.start, set()
    while hour < r.end:
        days.add(hour.astimezone(tz).date())
        hour += timedelta(hours=1)
    assert sorted(days) == [r.first_day + timedelta(days=n) for n in range(7)]
    assert r.last_day == now.astimezone(tz).date()
