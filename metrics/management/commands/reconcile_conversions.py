"""Record conversions that were missed (what the hourly schedule also does). Idempotent."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from metrics.conversions import RECONCILE_LOOKBACK, reconcile_conversions


class Command(BaseCommand):
    help = (
        "Attribute conversions for every profile with an anonymous id identified in the last "
        f"--days days (default {RECONCILE_LOOKBACK.days}: the longest goal window). "
        "Running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=RECONCILE_LOOKBACK.days)

    def handle(self, *args, days, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        created = reconcile_conversions(since=timezone.now() - timedelta(days=days))
        self.stdout.write(f"{created} missing conversion(s) recorded.")
