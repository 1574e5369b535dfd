from django.conf import settings
from django.core.management.base import BaseCommand

from delivery.retention import purge_anonymous_data


class Command(BaseCommand):
    help = (
        "Delete anonymous visitors never identified, and their events, once their retention "
        "period is over (ANONMSG_RETENTION_DAYS, or a live message's longer goal window). "
        "Idempotent; also runs daily as a django-q2 schedule."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be deleted."
        )

    def handle(self, *args, dry_run=False, **options):
        purged = purge_anonymous_data(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {purged.visitors} anonymous visitor(s) and {purged.events} event(s) "
            f"not seen for {settings.ANONMSG_RETENTION_DAYS} days or more."
        )
        if purged.partitions:
            self.stdout.write(
                f"{purged.events_in_partitions} of those event(s) went with "
                f"{purged.partitions} compacted day partition(s)."
            )
