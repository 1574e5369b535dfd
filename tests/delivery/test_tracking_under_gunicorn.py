"""The tracking API behind gunicorn, as the Procfile serves it: real HTTP framing.

`Transfer-Encoding: chunked` requests carry no Content-Length; gunicorn de-chunks them and
Django alone would read them as empty (issue 10). Sent here with http.client, byte for byte.
gunicorn listens on a free loopback port chosen by the kernel.
"""

import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from delivery.models import Event
from delivery.tracking.parsing import MAX_BATCH_BYTES
from tests.delivery.tracking_helpers import basic_auth
from tests.factories import WorkspaceFactory

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


PORT = _free_port()

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    """DATABASE_URL pointing at the test database that pytest-django created."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit((parts.scheme, parts.netloc, "/" + connection.settings_dict["NAME"], "", ""))


@pytest.fixture
def gunicorn():
    """gunicorn as the Procfile runs it (gthread workers, production settings) on loopback."""
    if connection.vendor != "postgresql":
        pytest.skip("a second process cannot open the in-memory SQLite test database")
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "ANONMSG_PRODUCTION": "1",
        "EMAIL_URL": "dummy://",
        "SECRET_KEY": "test-" + "x" * 60,
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "anonmsg.settings",
    }
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "anonmsg.wsgi", "--bind", f"{HOST}:{PORT}"]
        + ["--workers", "1", "--threads", "2", "--worker-class", "gthread"]
        + ["--log-level", "warning", "--no-control-socket"],
        env=env,
        cwd=ROOT,
    )
    try:
        _wait_until_serving(process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_serving(process) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited; see its output above"
        try:
            connection_ = http.client.HTTPConnection(HOST, PORT, timeout=2)
            connection_.request("GET", "/healthz")
            if connection_.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail("gunicorn did not start")


def post_chunked(path: str, parts: list[bytes], headers: dict) -> tuple[int, dict]:
    """POST `parts` as HTTP/1.1 chunks (no Content-Length); returns (status, JSON answer)."""
    client = http.client.HTTPConnection(HOST, PORT, timeout=30)
    try:
        # An iterable body without Content-Length is sent with Transfer-Encoding: chunked.
        client.request("POST", path, body=iter(parts), headers=headers)
        response = client.getresponse()
        return response.status, json.loads(response.read())
    finally:
        client.close()


def split(body: bytes, size: int) -> list[bytes]:
    return [body[start : start + size] for start in range(0, len(body), size)]


def test_chunked_plain_and_gzip_bodies_are_stored_behind_gunicorn(gunicorn):
    workspace = WorkspaceFactory()
    auth = {"Authorization": basic_auth(workspace.write_key), "Content-Type": "application/json"}
    batch = {
        "batch": [
            {"type": "track", "anonymousId": "a", "event": "E", "messageId": f"plain-{n}"}
            for n in range(20)
        ]
    }
    plain = json.dumps(batch).encode()
    compressed = gzip.compress(
        json.dumps(
            {
                **batch,
                "batch": [
                    {**event, "messageId": event["messageId"].replace("plain", "gzip")}
                    for event in batch["batch"]
                ],
            }
        ).encode()
    )

    assert post_chunked("/v1/batch", split(plain, 100), auth) == (200, {"success": True})
    assert post_chunked("/v1/b", split(compressed, 50), {**auth, "Content-Encoding": "gzip"}) == (
        200,
        {"success": True},
    )

    stored = set(Event.objects.values_list("message_id", flat=True))
    assert stored == {f"plain-{n}" for n in range(20)} | {f"gzip-{n}" for n in range(20)}


def test_a_chunked_body_over_500_kb_is_refused_with_413_behind_gunicorn(gunicorn):
    workspace = WorkspaceFactory()
    body = json.dumps(
        {"anonymousId": "a", "event": "E", "properties": {"blob": "x" * MAX_BATCH_BYTES}}
    ).encode()
    headers = {"Authorization": basic_auth(workspace.write_key), "Connection": "close"}

    status, answer = post_chunked("/v1/track", split(body, 64 * 1024), headers)

    assert (status, answer["error"]) == (413, "batch_too_large")
    assert not Event.objects.exists()
