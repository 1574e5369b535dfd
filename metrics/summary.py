"""Read metrics from the rollups (never from raw events): totals, series, headline numbers."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, Sum

from metrics import viewer_sets
from metrics.guidance import rate
from metrics.models import MessageHourlyStats, MessageViewerDay
from metrics.ranges import HOUR, DateRange, local_midnight

UNIQUE_CACHE_SECONDS = 24 * 3600
REPORT_CACHE_SECONDS = 24 * 3600


def headline_numbers(*, workspace, message_ids) -> dict[int, dict]:
    """All-time views, clicks and conversions per message (one query), for lists."""
    ids = list(message_ids)
    numbers = {message_id: {"views": 0, "clicks": 0, "conversions": 0} for message_id in ids}
    if not ids:
        return numbers
    rows = (
        MessageHourlyStats.objects.filter(workspace=workspace, message_id__in=ids)
        .values("message_id")
        .annotate(views=Sum("views"), clicks=Sum("clicks"), conversions=Sum("conversions"))
        .order_by()
    )
    for row in rows:
        numbers[row["message_id"]] = {
            "views": row["views"],
            "clicks": row["clicks"],
            "conversions": row["conversions"],
        }
    return numbers


@dataclass
class Bucket:
    start: datetime
    label: str
    views: int = 0
    clicks: int = 0
    dismissals: int = 0
    conversions: int = 0
    clicks_by_action: dict = field(default_factory=dict)
    day: date | None = None  # the local day of a daily bucket


@dataclass
class Report:
    date_range: DateRange
    views: int
    unique_viewers: int
    clicks: int
    clicks_by_action: dict[str, int]
    dismissals: int
    conversions: int
    buckets: list[Bucket]
    rows: list[tuple] = field(repr=False, default_factory=list)
    # The message's MessageStatsVersion token when the report was computed, and the zone of
    # its local days: with a version, the fingerprint needs no rows.
    version: str | None = None
    zone: str = ""

    @cached_property
    def fingerprint(self) -> str:
        """Changes whenever anything shown for this range does (the htmx poll's 204 test)."""
        if self.version:
            return _digest([*_range_key(self.date_range), self.zone, self.version])
        return _digest(
            [
                self.date_range.start.isoformat(),
                self.date_range.end.isoformat(),
                self.date_range.bucket,
                self.unique_viewers,
                [(h.isoformat(), v, c, a, d, k) for h, v, c, a, d, k in self.rows],
            ]
        )

    @property
    def click_through_rate(self) -> float:
        return rate(self.clicks, self.views)

    @property
    def conversion_rate(self) -> float:
        return rate(self.conversions, self.unique_viewers)

    @property
    def actions(self) -> list[tuple[str, int, float, float]]:
        """(action name, clicks, share of all clicks, clicks per view), most clicked first."""
        return [
            (name, count, rate(count, self.clicks), rate(count, self.views))
            for name, count in sorted(self.clicks_by_action.items(), key=lambda kv: (-kv[1], kv[0]))
        ]

    def as_api(self) -> dict:
        return {
            "views": self.views,
            "uniqueViewers": self.unique_viewers,
            "clicks": {
                "total": self.clicks,
                "byAction": dict(sorted(self.clicks_by_action.items())),
            },
            "dismissals": self.dismissals,
            "conversions": self.conversions,
            "conversionRate": round(self.conversion_rate, 4),
        }


def stats_version(message) -> str | None:
    """The token of a message loaded with select_related("stats_version"); None before its
    first rollup."""
    try:
        return message.stats_version.token
    except ObjectDoesNotExist:
        return None


def message_report(
    *, message_id: int, date_range: DateRange, tz: ZoneInfo, version: str | None = None
) -> Report:
    """Totals and a bucketed series for one message over a range.

    With the message's stats `version` (stats_version()), the report comes from the cache
    when it was computed before: the version changes whenever the message's rollup rows do,
    so a cached report is never stale and needs no invalidation. Otherwise one query on the
    hourly rollups, plus one on the viewer sets when unique viewers are not cached.
    """
    key = None
    if version:
        key = ":".join(
            ["metrics:report", str(message_id), version, tz.key, *_range_key(date_range)]
        )
        cached = cache.get(key)
        if cached is not None:
            return cached
    report = _compute_report(message_id=message_id, date_range=date_range, tz=tz, version=version)
    if key is not None:
        report.rows = []  # only the fingerprint without a version reads them
        cache.set(key, report, REPORT_CACHE_SECONDS)
    return report


def _range_key(date_range: DateRange) -> list[str]:
    return [
        str(int(date_range.start.timestamp())),
        str(int(date_range.end.timestamp())),
        date_range.bucket,
    ]


def _compute_report(
    *, message_id: int, date_range: DateRange, tz: ZoneInfo, version: str | None
) -> Report:
    rows = list(
        MessageHourlyStats.objects.filter(
            message_id=message_id, hour__gte=date_range.start, hour__lt=date_range.end
        )
        .order_by("hour")
        .values_list("hour", "views", "clicks", "clicks_by_action", "dismissals", "conversions")
    )
    buckets = _empty_buckets(date_range, tz)
    if date_range.bucket == "hour":
        index = {bucket.start: bucket for bucket in buckets}
    else:
        index = {bucket.day: bucket for bucket in buckets}
    hourly = date_range.bucket == "hour"
    # An hour whose local day were no bucket of the range would count in the totals only; with
    # day boundaries rounded up (ranges.local_midnight) none is, but totals never drop an hour.
    outside = Bucket(start=date_range.start, label="outside")
    for hour, views, clicks, by_action, dismissals, conversions in rows:
        bucket = index.get(hour if hourly else hour.astimezone(tz).date(), outside)
        bucket.views += views
        bucket.clicks += clicks
        bucket.dismissals += dismissals
        bucket.conversions += conversions
        if by_action:
            counts = bucket.clicks_by_action
            for name, count in by_action.items():
                counts[name] = counts.get(name, 0) + count
    totals = Bucket(start=date_range.start, label="total")
    for bucket in (*buckets, outside):
        totals.views += bucket.views
        totals.clicks += bucket.clicks
        totals.dismissals += bucket.dismissals
        totals.conversions += bucket.conversions
        for name, count in bucket.clicks_by_action.items():
            totals.clicks_by_action[name] = totals.clicks_by_action.get(name, 0) + count
    # Without a stats version: any new view changes some hour's view count, so the views per
    # hour identify the viewer data, a cache key that needs no extra query.
    viewers_version = version or "views-" + _digest(
        [(int(hour.timestamp()), views) for hour, views, *_ in rows]
    )
    unique = count_unique_viewers(
        message_id=message_id, start=date_range.start, end=date_range.end, version=viewers_version
    )
    return Report(
        date_range=date_range,
        views=totals.views,
        unique_viewers=unique,
        clicks=totals.clicks,
        clicks_by_action=totals.clicks_by_action,
        dismissals=totals.dismissals,
        conversions=totals.conversions,
        buckets=buckets,
        rows=rows,
        version=version,
        zone=tz.key if version else "",
    )


def count_unique_viewers(
    *, message_id: int, start: datetime, end: datetime, version: str | None = None
) -> int:
    """Distinct viewers of a message during [start, end) (whole UTC hours).

    The size of the union of the viewer sets (roaring bitmaps of visitor ids) of the whole
    UTC days inside the range and of its remaining hours (at most 46 hour sets).
    Cached under `version` (something that changes whenever the viewer data does).
    """
    key = None
    if version is not None:
        key = f"metrics:unique:{message_id}:{start.timestamp():.0f}:{end.timestamp():.0f}:{version}"
        cached = cache.get(key)
        if cached is not None:
            return cached
    # Whole UTC days inside the range come from the day sets, the rest from the hour sets.
    first_full = start.date() if start.hour == 0 else start.date() + timedelta(days=1)
    end_full = end.date()  # excluded
    blobs = []
    if first_full < end_full:
        blobs += MessageViewerDay.objects.filter(
            message_id=message_id, day__gte=first_full, day__lt=end_full
        ).values_list("viewer_set", flat=True)
        partial = Q(hour__gte=start, hour__lt=_midnight(first_full)) | Q(
            hour__gte=_midnight(end_full), hour__lt=end
        )
    else:
        partial = Q(hour__gte=start, hour__lt=end)
    blobs += (
        MessageHourlyStats.objects.filter(partial, message_id=message_id)
        .exclude(viewer_set=b"")
        .values_list("viewer_set", flat=True)
    )
    count = len(viewer_sets.union(blobs))
    if key is not None:
        cache.set(key, count, UNIQUE_CACHE_SECONDS)
    return count


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _empty_buckets(date_range: DateRange, tz: ZoneInfo) -> list[Bucket]:
    buckets = []
    if date_range.bucket == "hour":
        moment = date_range.start
        while moment < date_range.end:
            local = moment.astimezone(tz)
            buckets.append(Bucket(start=moment, label=local.strftime("%b %d %H:00")))
            moment += HOUR
        return buckets
    day = date_range.start.astimezone(tz).date()
    while (start := local_midnight(day, tz)) < date_range.end:
        buckets.append(Bucket(start=start, label=day.strftime("%b %d"), day=day))
        day += timedelta(days=1)
    return buckets


def _digest(value) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
