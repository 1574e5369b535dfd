from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from redis import RedisError

from anonmsg.models import Workspace
from delivery.sdk_api import known_visitors


class Command(BaseCommand):
    help = (
        "Build each workspace's filter of visitors with state in Redis now (delivery answers "
        "new visitors without a query once it exists). Also runs hourly as a django-q2 "
        "schedule, which builds missing filters and rebuilds day-old ones."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", type=int, help="Only this workspace (its id).")

    def handle(self, *args, workspace=None, **options):
        if not known_visitors.supported(known_visitors.shared_cache()):
            self.stdout.write("No filter to build: the cache is not Redis (set REDIS_URL).")
            return
        now = timezone.now()
        if workspace is None:
            built = known_visitors.maintain(now=now, older_than_seconds=0)
        elif not Workspace.objects.filter(pk=workspace).exists():
            raise CommandError(f"No workspace has the id {workspace}.")
        else:
            try:
                built = {workspace: known_visitors.rebuild(workspace, now=now)}
            except RedisError as error:
                raise CommandError(f"Redis failed: {error}") from error
        for pk, visitors in sorted(built.items()):
            if visitors is None:
                self.stdout.write(
                    f"Workspace {pk}: not built (another build or a drop came in between)."
                )
            else:
                self.stdout.write(f"Workspace {pk}: {visitors} visitor(s) with state.")
