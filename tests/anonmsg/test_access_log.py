"""Access logs keep query strings out (issue 10, item 6e): SDK requests carry anonymous ids and
full page URLs there, preview links carry preview tokens. And the Procfile binds loopback."""

import http.client
import logging
import os
import shlex
import signal
import socket
import subprocess
import time
from contextlib import contextmanager

import pytest

from anonmsg.log_filters import StripQueryStrings, request_line_without_query
from tests.anonmsg.test_env import REPO

SECRET_QUERY = "writeKey=wk_secret&anonymousId=0b9f3f4e-aaaa&url=https%3A%2F%2Fx.test%2Fp%3Fq%3D1"


def procfile_command(name: str) -> str:
    for line in (REPO / "Procfile").read_text().splitlines():
        process, _, command = line.partition(":")
        if process.strip() == name:
            return command.strip()
    raise AssertionError(f"no {name} process in the Procfile")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def procfile_web(tmp_path, **variables):
    """The Procfile's web process as honcho runs it (through sh), on a free loopback port,
    with these environment variables; yields (port, its output's path)."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "2",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
        "PYTHONWARNINGS": "ignore",
    }
    for name in ("HOST", "DEBUG", "ANONMSG_PRODUCTION", "SECRET_KEY", "ALLOWED_HOSTS"):
        env.pop(name, None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.pop("WEB_ACCESS_LOG", None)
    env.update(variables)
    log = tmp_path / "web.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["sh", "-c", procfile_command("web")],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start:\n" + log.read_text())
                time.sleep(0.2)
        yield port, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def get_not_found(port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", f"/api/v1/no-such-endpoint?{SECRET_QUERY}")
    assert connection.getresponse().status == 404
    connection.close()


def test_the_procfile_access_log_has_the_path_without_the_query_string(tmp_path):
    with procfile_web(tmp_path, WEB_ACCESS_LOG="1") as (port, log):
        get_not_found(port)
        deadline = time.monotonic() + 10
        while '" 404 ' not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        text = log.read_text()
    assert '"GET /api/v1/no-such-endpoint HTTP/1.1" 404' in text
    assert "wk_secret" not in text
    assert "0b9f3f4e" not in text
    assert "x.test" not in text


def test_the_procfile_writes_no_access_log_unless_asked(tmp_path):
    """Off by default: writing it cost the no-op view a third of its CPU (docs/operations.md,
    "Production settings"); nginx logs requests instead (deploy/nginx/anonmsg.conf)."""
    (tmp_path / "logged").mkdir()
    with procfile_web(tmp_path) as (port, log):
        get_health(port)
        with procfile_web(tmp_path / "logged", WEB_ACCESS_LOG="1") as (logged_port, logged):
            get_health(logged_port)
            deadline = time.monotonic() + 10
            while '"GET /healthz HTTP/1.1" 200' not in logged.read_text():
                assert time.monotonic() < deadline, logged.read_text()
                time.sleep(0.1)
        text = log.read_text()
    assert "/healthz" not in text


def get_health(port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/healthz")
    assert connection.getresponse().status == 200
    connection.close()


def test_the_procfile_binds_loopback_unless_host_is_set():
    command = procfile_command("web")
    bind = shlex.split(command)[shlex.split(command).index("--bind") + 1]
    assert bind == "${HOST:-127.0.0.1}:${PORT:-8000}"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "GET /api/v1/delivery?writeKey=wk_1&anonymousId=a HTTP/1.1",
            "GET /api/v1/delivery HTTP/1.1",
        ),
        ("GET /demo/pricing/?anonmsg_preview=tok HTTP/1.1", "GET /demo/pricing/ HTTP/1.1"),
        ("POST /v1/batch HTTP/1.1", "POST /v1/batch HTTP/1.1"),
        ("GET /?a=1", "GET /"),
        ("garbage", "garbage"),
    ],
)
def test_request_lines_lose_their_query_string(line, expected):
    assert request_line_without_query(line) == expected


def test_the_development_server_log_goes_through_the_filter(caplog):
    # Django's runserver logs '"%s" %s %s' % (request line, status, size).
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        (f"GET /api/v1/delivery?{SECRET_QUERY} HTTP/1.1", "200", "31"),
        None,
    )
    assert StripQueryStrings().filter(record)
    assert record.getMessage() == '"GET /api/v1/delivery HTTP/1.1" 200 31'
    server_logger = logging.getLogger("django.server")
    assert any(isinstance(f, StripQueryStrings) for h in server_logger.handlers for f in h.filters)
