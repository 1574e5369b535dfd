"""Access logs keep query strings out (issue 10, item 6e): SDK requests carry anonymous ids and
full page URLs there, preview links carry preview tokens. And the Procfile binds loopback."""

import http.client
import logging
import shlex
import time

import pytest

from anonmsg.log_filters import StripQueryStrings, request_line_without_query
from tests.procfile_web import procfile_command, procfile_web

SECRET_QUERY = "writeKey=wk_secret&anonymousId=0b9f3f4e-aaaa&url=https%3A%2F%2Fx.test%2Fp%3Fq%3D1"


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
