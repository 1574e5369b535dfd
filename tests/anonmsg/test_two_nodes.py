"""Two nodes sharing one PostgreSQL and one Redis (issue 11, item 5; docs/operations.md,
"Scaling out"): two gunicorn web processes and two task clusters (bin/worker), each on its own
port or process, the way two machines behind a load balancer run anonmsg; once straight to
PostgreSQL, once through PgBouncer in transaction pooling mode.

What one node does, the other sees on its next request: a message paused or resumed, a
dismissal, a dashboard login. An event tracked on one node shows in the metrics read from the
other once a cluster has rolled it up. And each schedule runs once although both clusters look
for due schedules: django-q2's scheduler claims them with `SELECT … FOR UPDATE` in the
transaction that enqueues their task and moves `next_run`, so the cluster that waited on the
lock finds nothing due any more. The test makes both clusters contend (it holds the rows'
locks until both schedulers wait on them) instead of hoping that they meet.
"""

import contextlib
import importlib
import io
import json
import re
import secrets
import time
import uuid
from datetime import timedelta

import psycopg
import pytest
import requests
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_q.models import OrmQ, Schedule, Task

from metrics.schedules import ensure_schedules
from tests.anonmsg.test_worker import Worker
from tests.conftest import REDIS_TEST_URL
from tests.gunicorn_server import running_gunicorn, test_database_url
from tests.pgbouncer_server import running_pgbouncer

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "two-nodes-password-8c1f"
# django-q2 calls its scheduler about every 30 s of a cluster's life, the first time 30 s after
# the cluster starts; starting the clusters takes a few seconds more on a busy machine.
SCHEDULER_DEADLINE = 75
DEADLINE = 30


@pytest.mark.parametrize("through", ["postgresql", "pgbouncer"])
def test_two_web_nodes_and_two_clusters_share_one_database_and_one_redis(redis_cache, through):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the nodes run in other processes")
    # Every node of a site has the same SECRET_KEY (docs/configuration.md) and the same Redis.
    shared = {"SECRET_KEY": secrets.token_urlsafe(50), "REDIS_URL": REDIS_TEST_URL}
    workspace = create_workspace()
    due = make_every_schedule_due()

    with contextlib.ExitStack() as stack:
        if through == "pgbouncer":
            # Every node through PgBouncer in transaction pooling mode, set up as
            # docs/operations.md says.
            shared["DATABASE_URL"] = stack.enter_context(running_pgbouncer())
            shared["DB_DISABLE_SERVER_SIDE_CURSORS"] = "1"
        schedule_locks = stack.enter_context(psycopg.connect(test_database_url()))
        schedule_locks.execute("SELECT id FROM django_q_schedule FOR UPDATE").fetchall()
        clusters = [Worker(Q_WORKERS="1", **shared) for _ in range(2)]
        stack.callback(stop_all, clusters)
        args = ("--workers", "1", "--threads", "2", "--log-level", "warning")
        node_a = Node(stack.enter_context(running_gunicorn(env=shared, args=args)), workspace)
        node_b = Node(stack.enter_context(running_gunicorn(env=shared, args=args)), workspace)
        assert node_a.url != node_b.url

        # --- A message paused on one node is gone from the other's next answer ---------------
        message_id = node_a.create_and_launch_message()
        visitor = str(uuid.uuid4())
        for _ in range(2):  # the second answer comes from node B's warm cache
            assert node_b.delivered(visitor) == [message_id]
        node_a.app_api("POST", f"/api/v1/anonymous-messages/{message_id}/pause")
        assert node_b.delivered(visitor) == []
        node_b.app_api("POST", f"/api/v1/anonymous-messages/{message_id}/resume")
        assert node_a.delivered(visitor) == [message_id]

        # --- A dismissal tracked on A counts on B's next answer (the visitor's state) ----------
        dismissing = str(uuid.uuid4())
        assert node_b.delivered(dismissing) == [message_id]
        node_a.track_message_event(dismissing, message_id, "dismissed_content")
        assert node_b.delivered(dismissing) == []
        assert node_b.delivered(visitor) == [message_id]

        # --- A dashboard login on A is a login on B (one SECRET_KEY, sessions in the database)
        browser = requests.Session()
        node_a.log_in(browser)
        page = browser.get(f"{node_b.url}/", timeout=10)
        assert page.status_code == 200
        assert "/accounts/login/" not in page.url, "node B does not know node A's session"
        assert f"/w/{workspace['id']}/" in page.url

        # --- An event tracked on A shows in the metrics read from B ---------------------------
        node_a.track_message_event(visitor, message_id, "viewed_content")
        assert node_b.metrics(message_id)["views"] == 0  # not rolled up yet

        # --- Each schedule runs once: both clusters' schedulers meet on the rows' locks --------
        waiting = wait_for_schedulers_waiting_on_the_lock(count=2, clusters=clusters)
        schedule_locks.rollback()
        wait_until_idle(waiting)
        created = scheduler_log_lines(clusters)
        print("\n".join(created))
        for name in due:
            assert len([line for line in created if f"[{name}]" in line]) == 1, created
        wait_until(lambda: not OrmQ.objects.exists(), "the scheduled tasks to run", clusters)
        for name in due:
            assert Task.objects.filter(group=name).count() == 1, name
            assert Schedule.objects.get(name=name).next_run > timezone.now()

        wait_until(
            lambda: node_b.metrics(message_id)["views"] == 1,
            "the view tracked on A in the metrics read from B",
            clusters,
        )
        assert node_a.metrics(message_id)["dismissals"] == 1

    for cluster in clusters:
        assert cluster.process.returncode == 0, cluster.log


# --- The nodes -------------------------------------------------------------------------------


class Node:
    """One web node, as SDKs, scripts and browsers reach it."""

    def __init__(self, url: str, workspace: dict):
        self.url = url
        self.workspace = workspace
        self.http = requests.Session()

    def app_api(self, method: str, path: str, body: dict | None = None) -> dict:
        response = self.http.request(
            method,
            self.url + path,
            json=body,
            headers={"Authorization": f"Bearer {self.workspace['apiKey']}"},
            timeout=10,
        )
        assert response.status_code in (200, 201), (path, response.status_code, response.text)
        return response.json()

    def create_and_launch_message(self) -> int:
        message = self.app_api(
            "POST",
            "/api/v1/anonymous-messages",
            {"name": "Two nodes", "content": {"html": "<h2>Hello from one of two nodes</h2>"}},
        )
        launched = self.app_api("POST", f"/api/v1/anonymous-messages/{message['id']}/launch")
        assert launched["state"] == "active"
        return message["id"]

    def delivered(self, visitor: str) -> list[int]:
        response = self.http.get(
            f"{self.url}/api/v1/delivery",
            params={"writeKey": self.workspace["writeKey"], "anonymousId": visitor, "url": "/"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return [message["id"] for message in response.json()["messages"]]

    def track_message_event(self, visitor: str, message_id: int, action: str) -> None:
        response = self.http.post(
            f"{self.url}/v1/track",
            auth=(self.workspace["writeKey"], ""),
            json={
                "anonymousId": visitor,
                "event": "Report Content Event",
                "messageId": str(uuid.uuid4()),
                "properties": {
                    "actionType": action,
                    "contentId": message_id,
                    "contentType": "in_app_content",
                },
            },
            timeout=10,
        )
        assert response.status_code == 200, response.text

    def metrics(self, message_id: int) -> dict:
        return self.app_api("GET", f"/api/v1/anonymous-messages/{message_id}/metrics")

    def log_in(self, browser: requests.Session) -> None:
        page = browser.get(f"{self.url}/accounts/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = browser.post(
            f"{self.url}/accounts/login/",
            data={
                "csrfmiddlewaretoken": token,
                "username": self.workspace["owner"],
                "password": PASSWORD,
            },
            timeout=10,
        )
        assert "/accounts/login/" not in answer.url, "the login on node A failed"


def create_workspace() -> dict:
    out = io.StringIO()
    call_command(
        "create_workspace",
        "Two nodes",
        "--plan=premium",
        "--owner=ops@two-nodes.test",
        "--json",
        stdout=out,
    )
    created = json.loads(out.getvalue())
    # The nodes hash passwords as production does; this test process uses a fast test hasher.
    get_user_model().objects.filter(username=created["owner"]).update(
        password=PBKDF2PasswordHasher().encode(PASSWORD, get_random_string(16))
    )
    return created


# --- Schedules and clusters ------------------------------------------------------------------


def make_every_schedule_due() -> list[str]:
    """Every schedule anonmsg creates, due a minute ago; their names. A transactional test's
    flush removed the ones data migrations create: they are made again here (a schedule added
    by a new data migration belongs here too); `post_migrate` makes the others after a flush."""
    for migration in (
        "delivery.migrations.0003_purge_anonymous_data_schedule",
        "delivery.migrations.0006_maintain_event_partitions_schedule",
    ):
        importlib.import_module(migration).create_schedule(apps, None)
    ensure_schedules()
    schedules = Schedule.objects.exclude(repeats=0)
    schedules.update(next_run=timezone.now() - timedelta(minutes=1))
    names = sorted(schedules.values_list("name", flat=True))
    assert len(names) >= 4, names
    return names


def wait_for_schedulers_waiting_on_the_lock(*, count: int, clusters: list[Worker]) -> list[int]:
    """The backend pids of `count` schedulers blocked on the schedule rows' locks."""
    deadline = time.monotonic() + SCHEDULER_DEADLINE
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE '%%django_q_schedule%%FOR UPDATE%%'"
            )
            pids = [pid for (pid,) in cursor.fetchall()]
        if len(pids) >= count:
            return pids
        for cluster in clusters:
            assert cluster.process.poll() is None, cluster.log
        time.sleep(0.2)
    raise AssertionError(f"{count} schedulers never waited on the lock:\n{logs(clusters)}")


def wait_until_idle(pids: list[int]) -> None:
    """Until these backends have finished their transactions (committed or found nothing)."""

    def idle() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s) AND state <> 'idle'",
                [pids],
            )
            return cursor.fetchone()[0] == 0

    wait_until(idle, "the schedulers to finish", [])


def scheduler_log_lines(clusters: list[Worker]) -> list[str]:
    return [line for c in clusters for line in c.lines if "from schedule [" in line]


def wait_until(condition, what: str, clusters: list[Worker]) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {DEADLINE}s for {what}:\n{logs(clusters)}")


def logs(clusters: list[Worker]) -> str:
    return "\n\n".join(f"cluster {n}:\n{c.log}" for n, c in enumerate(clusters, 1))


def stop_all(clusters: list[Worker]) -> None:
    for cluster in clusters:
        if cluster.process.poll() is None:
            cluster.process.terminate()
    for cluster in clusters:
        try:
            cluster.process.wait(timeout=15)
        except Exception:
            cluster.kill()
            raise
