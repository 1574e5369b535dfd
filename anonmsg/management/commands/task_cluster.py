import contextlib
import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand

from anonmsg.shared_secret_key import MISCONFIGURED, verify_shared_secret_key
from anonmsg.task_cluster import Cluster


class Command(BaseCommand):
    help = (
        "Run the django-q2 task cluster (like qcluster) until it is stopped, or until it breaks "
        "(a child process killed by a signal, a stuck queue): it then exits with code 75 for "
        "bin/worker to start a new one."
    )

    def handle(self, *args, **options):
        # Loaded (Django's setup alone takes seconds on a busy machine): bin/worker's heartbeat
        # window for the checks and the cluster's start begins now.
        if heartbeat_file := os.environ.get("WORKER_HEARTBEAT_FILE"):
            with contextlib.suppress(OSError):
                os.utime(heartbeat_file)
        try:
            verify_shared_secret_key()
        except ImproperlyConfigured as exc:
            self.stderr.write(f"task_cluster: {exc}")
            sys.exit(MISCONFIGURED)
        cluster = Cluster()
        cluster.start()
        # Stop signals are handled by django-q2 (a graceful stop); this only waits for the end.
        cluster.sentinel.join()
        if cluster.sentinel.exitcode:
            sys.exit(cluster.sentinel.exitcode)
