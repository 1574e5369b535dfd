from django.conf import settings
from django.core.management.base import BaseCommand

from anonmsg.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create the demo owner and premium demo workspace. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Create the demo login even in production mode (its password is public).",
        )

    def handle(self, *args, force: bool, **options):
        if settings.PRODUCTION and not force:
            self.stdout.write(
                self.style.WARNING(
                    "Production mode: no demo workspace created (its password is public). "
                    "Create real workspaces with `manage.py create_workspace`, "
                    "or pass --force to seed the demo anyway."
                )
            )
            return
        workspace = seed_demo()
        self.stdout.write(
            self.style.SUCCESS(f"Demo workspace ready: {workspace.name} (id {workspace.pk})")
        )
        self.stdout.write(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
