"""Recompute the hourly metrics rollups of a time range from raw events (idempotent)."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from metrics.ranges import local_midnight
from metrics.rollups import rebuild_rollups, roll_up


def _moment(text: str, *, option: str, end: bool):
    day = parse_date(text)
    if day is not None:
        return local_midnight(
            day + timedelta(days=1) if end else day, timezone.get_default_timezone()
        )
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"{option} {text!r} is not a date (2026-01-31) or ISO date-time.")
    return moment if moment.tzinfo else timezone.make_aware(moment)


class Command(BaseCommand):
    help = (
        "Recompute the hourly metrics rollups of [--from, --to] from raw events (dates are "
        "UTC days, --to included), then catch up the scheduled job. Only buckets whose "
        "counts differ are written. Without --from/--to: the last 2 days."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="first date or date-time (UTC)")
        parser.add_argument("--to", dest="end", help="last date (included) or date-time (UTC)")
        parser.add_argument(
            "--message", type=int, action="append", dest="messages", help="only this message id"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="allow a range older than the retention period (its deleted anonymous "
            "events would no longer be counted)",
        )

    def handle(self, *args, start=None, end=None, messages=None, force=False, **options):
        now = timezone.now()
        end_at = _moment(end, option="--to", end=True) if end else now
        start_at = _moment(start, option="--from", end=False) if start else now - timedelta(days=2)
        if start_at >= end_at:
            raise CommandError("--from must be before --to.")
        horizon = now - timedelta(days=settings.ANONMSG_RETENTION_DAYS)
        if start_at < horizon and not force:
            raise CommandError(
                f"--from is older than the retention period ({settings.ANONMSG_RETENTION_DAYS} "
                "days): never-identified visitors' raw events may be deleted, and rebuilding "
                "would lose their counted views. Use --force to rebuild anyway."
            )
        run = rebuild_rollups(start=start_at, end=end_at, message_ids=messages)
        caught_up = roll_up()
        self.stdout.write(
            f"Rebuilt {start_at:%Y-%m-%d %H:00} – {end_at:%Y-%m-%d %H:00} UTC: "
            f"{run.buckets_written} buckets written, {run.buckets_deleted} deleted. "
            f"Watermark: events from position {caught_up.event_position}, conversions from "
            f"position {caught_up.conversion_position}."
        )
