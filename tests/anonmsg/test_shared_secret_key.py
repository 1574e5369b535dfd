"""Every node of a site signs with one SECRET_KEY, or refuses to start
(anonmsg/shared_secret_key.py; docs/configuration.md, "Several nodes").

The web process is started the way gunicorn loads it (importing anonmsg.wsgi) and the worker as
bin/worker runs it, against the test database, each with the key under test.
"""

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from anonmsg.models import SecretKeyFingerprint
from anonmsg.shared_secret_key import Verdict, compare, fingerprint
from tests.gunicorn_server import test_database_url

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parent.parent.parent
FIRST, SECOND, THIRD = (secrets.token_urlsafe(50) for _ in range(3))


@pytest.mark.parametrize(
    ("recorded", "fallbacks", "verdict"),
    [
        (None, [], Verdict.FIRST),
        ("a", [], Verdict.SAME),
        ("b", [], Verdict.DIFFERENT),
        ("b", ["c"], Verdict.DIFFERENT),
        ("b", ["c", "b"], Verdict.ROTATED),
    ],
)
def test_a_key_is_compared_with_the_recorded_one_and_the_fallbacks(recorded, fallbacks, verdict):
    assert compare(recorded=recorded, current="a", fallbacks=fallbacks) is verdict


def test_the_fingerprint_is_stable_and_reveals_nothing_of_the_key():
    assert fingerprint(FIRST) == fingerprint(FIRST) != fingerprint(SECOND)
    assert FIRST not in fingerprint(FIRST) and len(fingerprint(FIRST)) == 64


def run(code: list[str], **env: str | None) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DJANGO_SETTINGS_MODULE": "anonmsg.settings",
        "PYTHONUNBUFFERED": "1",
    }
    environment.pop("REDIS_URL", None)
    for name, value in env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(
        [sys.executable, *code],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def start_web(**env) -> subprocess.CompletedProcess:
    """What a gunicorn worker does when it boots: import the WSGI application."""
    return run(["-c", "import anonmsg.wsgi"], **env)


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite is one machine's database: there is no other node to agree with")


def recorded() -> str:
    return SecretKeyFingerprint.objects.get().fingerprint


def test_the_first_node_records_its_key_and_nodes_with_the_same_key_start(postgresql):
    assert start_web(SECRET_KEY=FIRST).returncode == 0
    assert recorded() == fingerprint(FIRST)
    assert start_web(SECRET_KEY=FIRST).returncode == 0
    assert SecretKeyFingerprint.objects.count() == 1


def test_a_web_node_with_another_key_refuses_to_start_and_says_what_to_do(postgresql):
    assert start_web(SECRET_KEY=FIRST).returncode == 0
    other = start_web(SECRET_KEY=SECOND)
    assert other.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY differs from the key the other" in other.stderr
    assert "Set this node's SECRET_KEY to the other nodes' value." in other.stderr
    assert "SECRET_KEY_FALLBACKS" in other.stderr and "adopt_secret_key" in other.stderr
    assert recorded() == fingerprint(FIRST)


def test_a_key_generated_on_another_machine_is_named_as_the_cause(postgresql, tmp_path):
    assert start_web(SECRET_KEY=FIRST).returncode == 0
    second_machine = start_web(SECRET_KEY=None, SECRET_KEY_FILE=str(tmp_path / "secret_key"))
    assert second_machine.returncode != 0
    assert (
        f"This process generated its own key into {tmp_path / 'secret_key'} because SECRET_KEY "
        "is not set: set SECRET_KEY instead, to the same value on every node."
    ) in second_machine.stderr


def test_a_worker_with_another_key_exits_without_restarting(postgresql):
    assert start_web(SECRET_KEY=FIRST).returncode == 0
    started = time.monotonic()
    worker = run(["bin/worker"], SECRET_KEY=SECOND, Q_WORKERS="1")
    assert worker.returncode == 78, worker.stderr
    assert time.monotonic() - started < 30
    assert "task_cluster: SECRET_KEY differs from the key the other" in worker.stderr
    assert "not restarting it" in worker.stderr
    assert "starting a new one" not in worker.stderr


def test_a_rotation_with_the_old_key_as_fallback_moves_every_node_to_the_new_key(postgresql):
    assert start_web(SECRET_KEY=FIRST).returncode == 0
    assert start_web(SECRET_KEY=SECOND, SECRET_KEY_FALLBACKS=FIRST).returncode == 0
    assert recorded() == fingerprint(SECOND)
    assert start_web(SECRET_KEY=SECOND).returncode == 0
    # A node forgotten with the old key is caught at its next start.
    assert "SECRET_KEY differs" in start_web(SECRET_KEY=FIRST).stderr


def test_adopt_secret_key_makes_a_new_key_the_sites_key(postgresql):
    assert start_web(SECRET_KEY=FIRST).returncode == 0
    adopted = run(["manage.py", "adopt_secret_key"], SECRET_KEY=THIRD)
    assert adopted.returncode == 0, adopted.stderr
    assert "now the site's key" in adopted.stdout
    assert start_web(SECRET_KEY=THIRD).returncode == 0
    assert "SECRET_KEY differs" in start_web(SECRET_KEY=FIRST).stderr


def test_an_unreachable_database_does_not_stop_a_node_from_starting(postgresql):
    down = start_web(SECRET_KEY=FIRST, DATABASE_URL="postgres://postgres@127.0.0.1:1/anonmsg")
    assert down.returncode == 0, down.stderr
    assert "Could not compare SECRET_KEY with the other nodes' (OperationalError" in down.stderr


def test_a_publicly_known_fallback_key_is_refused(postgresql):
    known = "django-insecure-" + "x" * 50
    refused = start_web(SECRET_KEY=FIRST, SECRET_KEY_FALLBACKS=f"{SECOND},{known}")
    assert refused.returncode != 0
    assert "SECRET_KEY_FALLBACKS holds a publicly known key" in refused.stderr
