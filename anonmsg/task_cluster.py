"""django-q2's task cluster, made to fail whole instead of hanging (`manage.py task_cluster`).

django-q2's sentinel process feeds its workers through multiprocessing queues, and every get
or put on such a queue holds a lock (a POSIX semaphore) that a process killed by a signal never
releases. The idle worker waiting in the task queue's get() holds its read lock: after a
`kill -9` of it, or an out-of-memory kill, the other workers and the replacement the sentinel
starts wait on that lock for good, tasks pile up in the broker, and a graceful stop hangs on the
same queue. A process that ends by itself (recycled, timed out, an error) releases its locks.

So this sentinel does not replace a child that died from a signal, nor go on when tasks wait
in the queue while every worker idles (a lock held by a process that is alive but stopped, or
any other wedge): it kills its children, gives the tasks still waiting in its queue back to the
broker (no worker has started them: they run again at once), and exits; bin/worker then starts
a fresh cluster. A task a killed worker had started, one whose result the monitor had not saved
yet, and the one the pusher was handing over run again after the broker's `retry` delay, as
django-q2's at-least-once delivery already allows; every task of anonmsg is idempotent.

The sentinel itself can hang too (its guard loop takes each worker's timer lock, which a worker
killed at the wrong moment keeps): on every turn of the loop it touches the file bin/worker
names in WORKER_HEARTBEAT_FILE, and bin/worker kills a cluster whose heartbeat stops.
"""

import logging
import os
import signal
import time
from multiprocessing.reduction import ForkingPickler

from django.conf import settings
from django.utils import timezone
from django_q import cluster
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

logger = logging.getLogger(__name__)

# The sentinel's exit code when it gave the cluster up (EX_TEMPFAIL: try again).
ABANDONED = 75


class Cluster(cluster.Cluster):
    def start(self) -> int:
        # django-q2 starts the class its module calls Sentinel; this process only runs a cluster.
        cluster.Sentinel = Sentinel
        return super().start()


class Sentinel(cluster.Sentinel):
    def __init__(self, *args, **kwargs):
        # Set before django-q2's __init__, which runs the guard loop until the cluster stops.
        self.stuck_seconds = settings.WORKER_STUCK_SECONDS
        self.stuck_since = None
        self.heartbeat_file = os.environ.get("WORKER_HEARTBEAT_FILE")
        super().__init__(*args, **kwargs)

    def reincarnate(self, process):
        if process.exitcode is not None and process.exitcode < 0:
            self.abandon(
                f"{self.role(process)} {process.name} (pid {process.pid}) was killed by "
                f"{signal.Signals(-process.exitcode).name}: the locks it held are lost"
            )
        super().reincarnate(process)

    def status(self) -> str:
        # Called on every turn of the guard loop (each `guard_cycle`, 0.5 s).
        state = super().status()
        if state in (Conf.IDLE, Conf.WORKING):
            self.check_progress()
            self.beat()
        return state

    def beat(self) -> None:
        if self.heartbeat_file:
            try:
                os.utime(self.heartbeat_file)
            except OSError:
                logger.warning("Cannot touch the heartbeat file %s", self.heartbeat_file)

    def check_progress(self) -> None:
        waiting = not self.task_queue.empty()
        # timer: -1 idle, -2 recycled, otherwise the seconds left of the task in hand.
        busy = any(process.timer.value >= 0 for process in self.pool)
        if not waiting or busy:
            self.stuck_since = None
        elif self.stuck_since is None:
            self.stuck_since = time.monotonic()
        elif time.monotonic() - self.stuck_since > self.stuck_seconds:
            self.abandon(
                f"tasks have waited {self.stuck_seconds}s in the queue while every worker idled"
            )

    def role(self, process) -> str:
        if process is self.monitor:
            return "monitor"
        if process is self.pusher:
            return "pusher"
        return "worker"

    def abandon(self, reason: str):
        logger.critical("Task cluster broken, %s; stopping it for bin/worker to restart", reason)
        for process in [*self.pool, self.monitor, self.pusher]:
            if process is not None and process.is_alive():
                process.kill()
                process.join(timeout=5)
        try:
            released = self.release_waiting_tasks()
        except Exception:
            logger.exception("Could not give the waiting tasks back to the broker")
        else:
            logger.info("Gave %d waiting task(s) back to the broker", released)
        # Not a normal exit: it would wait on the very queues that are stuck.
        os._exit(ABANDONED)

    def release_waiting_tasks(self) -> int:
        """Make the tasks in the task queue, which no worker has started, due at once again."""
        if not isinstance(self.broker, ORM):
            return 0
        # Read the queue's pipe directly: its lock may be held by a dead process. Every reader is
        # dead, so nothing else reads it; non-blocking, so a message a killed worker had half
        # read ends the loop instead of waiting for bytes that never come.
        reader = self.task_queue._reader
        os.set_blocking(reader.fileno(), False)
        ack_ids = []
        try:
            while reader.poll(0):
                task = ForkingPickler.loads(reader.recv_bytes(maxlength=10_000_000))
                if isinstance(task, dict) and "ack_id" in task:
                    ack_ids.append(task["ack_id"])
        except Exception:
            pass  # the rest of the pipe is unreadable: those tasks wait for `retry`
        return OrmQ.objects.filter(pk__in=ack_ids).update(lock=timezone.now())
