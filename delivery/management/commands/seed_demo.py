from django.conf import settings
from django.core.management.base import BaseCommand

from anonmsg.demo import DEMO_EMAIL, DEMO_PASSWORD
from delivery.demo_workspace import seed_demo


class Command(BaseCommand):
    help = "Create the demo owner and premium demo workspace (development only). Safe to run again."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            # Its password is public, and production mode refuses it at login anyway.
            self.stdout.write(
                self.style.WARNING(
                    "Production mode: no demo workspace created (the demo login is for "
                    "development only: its password is public). Create real workspaces with "
                    "`manage.py create_workspace`."
                )
            )
            return
        workspace = seed_demo()
        self.stdout.write(
            self.style.SUCCESS(f"Demo workspace ready: {workspace.name} (id {workspace.pk})")
        )
        self.stdout.write(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
