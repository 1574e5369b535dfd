from django.core.management.base import BaseCommand

from anonmsg.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create the demo owner and premium demo workspace (idempotent)."

    def handle(self, *args, **options):
        workspace = seed_demo()
        self.stdout.write(
            self.style.SUCCESS(f"Demo workspace ready: {workspace.name} (id {workspace.pk})")
        )
        self.stdout.write(f"Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
