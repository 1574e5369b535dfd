"""How up to date the numbers on a metrics page are. Pure: the last rollup run in, words out.

The rollup job (metrics/schedules.py) counts new events into the hourly rollups that pages
read, so a page is as fresh as that job's last run: it says when that was, and warns when the
job has stopped running (typically: no task worker).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

# Several missed runs of a job scheduled every minute mean it is not running.
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Freshness:
    counted_at: datetime | None  # the last rollup run; None: it never ran
    every: str  # how often the job runs: "minute", "5 minutes"
    lag: str  # how old the numbers can be when the job runs on time
    stale: bool  # the job has not run for a while (or ever)

    @property
    def token(self) -> str:
        """Changes with each run, for the htmx poll (minute precision, like the stamp)."""
        return self.counted_at.strftime("%Y%m%d%H%M") if self.counted_at else "never"


def lag_text(every_minutes: int) -> str:
    return "a minute" if every_minutes == 1 else f"{every_minutes} minutes"


def freshness(*, ran_at: datetime | None, now: datetime, every_minutes: int) -> Freshness:
    return Freshness(
        counted_at=ran_at,
        every="minute" if every_minutes == 1 else f"{every_minutes} minutes",
        lag=lag_text(every_minutes),
        stale=ran_at is None
        or now - ran_at > max(STALE_AFTER, timedelta(minutes=3 * every_minutes)),
    )
