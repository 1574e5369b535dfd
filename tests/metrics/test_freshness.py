from datetime import UTC, datetime, timedelta

import pytest

from metrics.freshness import freshness

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ran_minutes_ago", "every_minutes", "stale", "lag"),
    [
        (None, 1, True, "a minute"),
        (0, 1, False, "a minute"),
        (4, 1, False, "a minute"),
        (6, 1, True, "a minute"),
        (10, 5, False, "5 minutes"),
        (16, 5, True, "5 minutes"),
    ],
)
def test_numbers_are_stale_when_the_job_missed_several_runs(
    ran_minutes_ago, every_minutes, stale, lag
):
    ran_at = None if ran_minutes_ago is None else NOW - timedelta(minutes=ran_minutes_ago)
    result = freshness(ran_at=ran_at, now=NOW, every_minutes=every_minutes)
    assert result.stale is stale
    assert result.lag == lag
    assert result.counted_at == ran_at


def test_the_poll_token_changes_with_each_minute_of_runs():
    first = freshness(ran_at=NOW, now=NOW, every_minutes=1)
    same_minute = freshness(ran_at=NOW + timedelta(seconds=30), now=NOW, every_minutes=1)
    later = freshness(ran_at=NOW + timedelta(minutes=1), now=NOW, every_minutes=1)
    assert first.token == same_minute.token != later.token
    assert freshness(ran_at=None, now=NOW, every_minutes=1).token == "never"
