"""gunicorn as the Procfile runs it (its worker class), on a free loopback port, serving the test
database: for tests of what only a real HTTP server shows (chunked bodies, the served OpenAPI
document under a fuzzer). PostgreSQL only: another process cannot open SQLite's in-memory test
database."""

import contextlib
import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.procfile_web import procfile_worker_class

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
SERVER_SECRET_KEY = secrets.token_urlsafe(50)


def test_database_url() -> str:
    """A DATABASE_URL naming the test database that pytest-django created."""
    db = connection.settings_dict
    user, password = quote(db["USER"] or "", safe=""), quote(db["PASSWORD"] or "", safe="")
    return (
        f"postgres://{user}:{password}@{db['HOST'] or HOST}:{db['PORT'] or 5432}"
        f"/{quote(db['NAME'], safe='')}"
    )


test_database_url.__test__ = False  # a helper, not a test


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_gunicorn(*, env: dict, args: tuple = (), output=None):
    """Start gunicorn with these environment overrides and extra arguments; yield its base URL
    once /healthz answers, and stop it afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the server runs in another process")
    port = free_port()
    inherited = dict(os.environ)
    # Only a test that asks for Redis gets it (in `env`): the test's own process may use one.
    inherited.pop("REDIS_URL", None)
    environment = {
        **inherited,
        "DATABASE_URL": test_database_url(),
        # Stated rather than left to the defaults: whatever they become, this server must
        # accept its own address and start without a key file. One key for every server of
        # the run: a node whose key differs from the test database's refuses to start
        # (anonmsg/shared_secret_key.py).
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "SECRET_KEY": SERVER_SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "anonmsg.settings",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "anonmsg.wsgi", "--bind", f"{HOST}:{port}"]
        + ["--worker-class", procfile_worker_class(), "--no-control-socket", *args],
        env=environment,
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
    )
    try:
        _wait_until_serving(process, port)
        yield f"http://{HOST}:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_serving(process, port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited; see its output"
        try:
            probe = http.client.HTTPConnection(HOST, port, timeout=2)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail("gunicorn did not start")
