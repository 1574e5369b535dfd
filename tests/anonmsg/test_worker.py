"""bin/worker, the real task cluster, against the test database (issue 10, finding 7).

django-q2's processes share multiprocessing queues whose locks a process killed by a signal
never releases: `kill -9` of an idle worker used to leave the cluster hung for good.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django_q.models import OrmQ, Success
from django_q.tasks import async_task

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parent.parent.parent
WORKERS = 2


class Worker:
    """bin/worker in a subprocess; its log lines are collected as they come."""

    def __init__(self, **env: str):
        database_url = urlsplit(settings.DATABASE_URL)._replace(
            path="/" + connection.settings_dict["NAME"]
        )
        full_env = {
            **os.environ,
            "DATABASE_URL": database_url.geturl(),
            "Q_WORKERS": str(WORKERS),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        # Set by tests/conftest.py for Playwright; not part of the environment under test.
        full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.process = subprocess.Popen(
            [sys.executable, "bin/worker"],
            cwd=REPO,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for_log(self, pattern: str, *, count: int = 1, timeout: float = 60) -> list[str]:
        """The first groups of the first `count` matches of `pattern`, waiting for them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m.group(1) for m in map(re.compile(pattern).search, list(self.lines)) if m]
            if len(found) >= count:
                return found
            assert self.process.poll() is None, f"bin/worker exited:\n{self.log}"
            time.sleep(0.1)
        raise AssertionError(f"no {count}× {pattern!r} within {timeout}s:\n{self.log}")

    def tree(self) -> set[int]:
        """The pids of bin/worker and every process below it."""
        return {self.process.pid} | descendants(self.process.pid)

    def stop(self, timeout: float, stop_signal: int = signal.SIGTERM) -> float:
        """SIGTERM as a process manager sends it (SIGINT: Ctrl-C); how long bin/worker took to
        exit."""
        started = time.monotonic()
        self.process.send_signal(stop_signal)
        self.process.wait(timeout=timeout)
        return time.monotonic() - started

    def kill(self):
        for pid in self.tree():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def descendants(pid: int) -> set[int]:
    children = children_by_parent()
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def assert_gone(pids: set[int], timeout: float = 5) -> None:
    """Every process of `pids` has ended (a SIGKILL takes a moment to land)."""
    deadline = time.monotonic() + timeout
    while [pid for pid in pids if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if alive(pid)]


@pytest.fixture
def worker():
    if connection.vendor != "postgresql":
        pytest.skip("bin/worker runs in another process: it needs the PostgreSQL test database")
    started = []

    def start(**env):
        started.append(Worker(**env))
        return started[-1]

    yield start
    for each in started:
        if each.process.poll() is None:
            each.kill()


def enqueue(n: int) -> None:
    for i in range(n):
        async_task("math.floor", i + 0.5, task_name=f"floor-{i}")


def wait_until_done(n: int, timeout: float, worker: Worker) -> float:
    """Wait until the `n` tasks of `enqueue` have run (once each); how long that took."""
    ours = Success.objects.filter(func="math.floor")
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if ours.count() == n:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(
        f"{ours.count()} of {n} tasks done after {timeout}s "
        f"({OrmQ.objects.count()} queued):\n{worker.log}"
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_runs_tasks_and_stops_at_once_on_a_stop_signal(worker, stop_signal):
    running = worker()
    running.wait_for_log(r"ready for work at (\d+)", count=WORKERS)
    enqueue(5)
    wait_until_done(5, 30, running)
    tree = running.tree()
    assert running.stop(timeout=15, stop_signal=stop_signal) < 10
    assert running.process.returncode == 0
    assert_gone(tree)


def test_killing_the_idle_workers_restarts_the_cluster_and_queued_tasks_run(worker):
    running = worker()
    pids = running.wait_for_log(r"ready for work at (\d+)", count=WORKERS)
    # Idle workers wait in the task queue's get(); one of them holds its read lock.
    for pid in pids:
        os.kill(int(pid), signal.SIGKILL)
    enqueue(20)
    took = wait_until_done(20, 60, running)
    assert "was killed by SIGKILL" in running.log
    assert "worker: the task cluster exited" in running.log
    print(f"20 tasks done {took:.1f}s after the workers were killed")

    tree = running.tree()
    assert running.stop(timeout=15) < 10
    assert_gone(tree)


def test_a_stuck_queue_restarts_the_cluster_and_gives_its_waiting_tasks_back(worker):
    """Workers that stay idle while tasks wait (here: stopped with SIGSTOP, so they hold their
    locks and are not dead) are a stuck cluster too."""
    running = worker(WORKER_STUCK_SECONDS="3")
    pids = running.wait_for_log(r"ready for work at (\d+)", count=WORKERS)
    for pid in pids:
        os.kill(int(pid), signal.SIGSTOP)
    enqueue(8)
    # The pusher fills the queue (queue_limit = workers² = 4) and blocks handing over a fifth
    # task, which it has claimed: that one runs again after the broker's retry delay (360 s).
    # The 4 in the queue are given back and the 3 left in the broker were never taken.
    took = wait_until_done(7, 60, running)
    assert "tasks have waited 3s in the queue while every worker idled" in running.log
    assert "Gave 4 waiting task(s) back to the broker" in running.log
    print(f"7 of 8 tasks done {took:.1f}s after the workers were stopped")
    tree = running.tree()
    assert running.stop(timeout=15) < 10
    assert_gone(tree)


def test_a_cluster_whose_sentinel_hangs_is_killed_and_replaced(worker):
    running = worker(WORKER_HEARTBEAT_SECONDS="3")
    running.wait_for_log(r"ready for work at (\d+)", count=WORKERS)
    [cluster] = children_by_parent()[running.process.pid]
    [sentinel] = children_by_parent()[cluster]
    os.kill(sentinel, signal.SIGSTOP)  # its guard loop stops turning
    running.wait_for_log(r"(has not reported for 3s, killing it)")
    running.wait_for_log(r"ready for work at (\d+)", count=2 * WORKERS)
    enqueue(5)
    wait_until_done(5, 60, running)
    tree = running.tree()
    assert running.stop(timeout=15) < 10
    assert_gone(tree)


def test_a_cluster_that_cannot_stop_is_killed_after_the_grace_period(worker):
    running = worker(WORKER_STOP_SECONDS="2")
    pids = running.wait_for_log(r"ready for work at (\d+)", count=WORKERS)
    for pid in pids:  # workers that never take their STOP pill
        os.kill(int(pid), signal.SIGSTOP)
    tree = running.tree()
    assert running.stop(timeout=15) < 6
    assert_gone(tree)
