"""The tracking API behind gunicorn, as the Procfile serves it: real HTTP framing.

`Transfer-Encoding: chunked` requests carry no Content-Length; gunicorn de-chunks them and
Django alone would read them as empty (issue 10). Sent here with http.client, byte for byte.
gunicorn comes from tests/gunicorn_server.py, on a free loopback port.
"""

import gzip
import http.client
import json
from urllib.parse import urlsplit

import pytest

from delivery.models import Event
from delivery.tracking.parsing import MAX_BATCH_BYTES
from tests.delivery.tracking_helpers import basic_auth
from tests.factories import WorkspaceFactory
from tests.gunicorn_server import running_gunicorn

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gunicorn():
    """gunicorn as the Procfile runs it, in production mode; yields (host, port)."""
    production = {
        "ANONMSG_PRODUCTION": "1",
        "EMAIL_URL": "dummy://",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }
    args = ("--workers", "1", "--threads", "2", "--log-level", "warning")
    with running_gunicorn(env=production, args=args) as base_url:
        parts = urlsplit(base_url)
        yield parts.hostname, parts.port


def post_chunked(server, path: str, parts: list[bytes], headers: dict) -> tuple[int, dict]:
    """POST `parts` as HTTP/1.1 chunks (no Content-Length); returns (status, JSON answer)."""
    client = http.client.HTTPConnection(*server, timeout=30)
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

    assert post_chunked(gunicorn, "/v1/batch", split(plain, 100), auth) == (200, {"success": True})
    assert post_chunked(
        gunicorn, "/v1/b", split(compressed, 50), {**auth, "Content-Encoding": "gzip"}
    ) == (
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

    status, answer = post_chunked(gunicorn, "/v1/track", split(body, 64 * 1024), headers)

    assert (status, answer["error"]) == (413, "batch_too_large")
    assert not Event.objects.exists()


def test_sdk_answers_are_framed_by_their_length_not_in_chunks(gunicorn):
    """The SDK's short path (delivery/fast_lane.py) sets Content-Length as CommonMiddleware
    would: gunicorn sends a response without one in chunks."""
    workspace = WorkspaceFactory()
    client = http.client.HTTPConnection(*gunicorn, timeout=30)
    try:
        client.request(
            "POST",
            "/v1/track",
            body=json.dumps({"anonymousId": "a", "event": "E"}),
            headers={"Authorization": basic_auth(workspace.write_key)},
        )
        tracked = client.getresponse()
        assert (tracked.status, tracked.read()) == (200, b'{"success": true}')
        client.request(
            "GET", f"/api/v1/delivery?writeKey={workspace.write_key}&anonymousId=a&url=/"
        )
        delivered = client.getresponse()
        body = delivered.read()
        assert delivered.status == 200
    finally:
        client.close()

    for response, length in ((tracked, 17), (delivered, len(body))):
        assert response.getheader("Transfer-Encoding") is None
        assert response.getheader("Content-Length") == str(length)
        assert response.getheader("Content-Security-Policy") == (
            "default-src 'none'; frame-ancestors 'none'"
        )
    assert Event.objects.count() == 1
