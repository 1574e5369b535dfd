from django.core.management.base import BaseCommand

from anonmsg.shared_secret_key import adopt_shared_secret_key


class Command(BaseCommand):
    help = (
        "Make this process's SECRET_KEY the one every web and worker process of this database "
        "must use, after changing it on purpose (nodes with another key then refuse to start)."
    )

    def handle(self, *args, **options):
        adopt_shared_secret_key()
        self.stdout.write(
            "This SECRET_KEY is now the site's key: restart every node with it (those with "
            "another key refuse to start)."
        )
