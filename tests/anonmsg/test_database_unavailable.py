"""Database down → 503 with Retry-After on every API (JSON) and the dashboard, never a 500
(issue 10, finding 9). The database really is unreachable: the connection is pointed at a local
port that refuses connections, so psycopg fails to connect as it would in an outage."""

import json
import socket
from contextlib import contextmanager

import pytest
from django.db import connection

from anonmsg.unavailable import RETRY_AFTER_SECONDS
from tests.delivery.tracking_helpers import send
from tests.factories import AnonymousMessageFactory

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def database_down():
    """Point the default connection at a port where nothing listens (bound, never listening,
    so the kernel refuses at once), for the requests made inside the block."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: an in-memory SQLite database cannot be taken away")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=closed.getsockname()[1])
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
        closed.close()


@pytest.fixture
def api_headers(workspace):
    return {"Authorization": f"Bearer {workspace.rotate_api_key()}"}


def assert_unavailable_json(response):
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json()["error"] == "unavailable"
    assert "retry" in response.json()["message"]


def test_delivery_without_a_cache_entry_answers_503_json_for_browsers(client):
    with database_down():
        response = client.get(
            "/api/v1/delivery", {"writeKey": "wk_not_cached", "anonymousId": "a1", "url": "/"}
        )

    assert_unavailable_json(response)
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/v1/anonymous-messages", None),
        ("post", "/api/v1/anonymous-messages", {"name": "Down"}),
        ("get", "/api/v1/anonymous-messages/{id}", None),
        ("patch", "/api/v1/anonymous-messages/{id}", {"name": "Down"}),
        ("post", "/api/v1/anonymous-messages/{id}/launch", None),
        ("get", "/api/v1/anonymous-messages/{id}/metrics", None),
    ],
)
def test_app_api_and_metrics_api_answer_503_json(
    client, workspace, api_headers, method, path, body
):
    message = AnonymousMessageFactory(workspace=workspace)
    with database_down():
        response = getattr(client, method)(
            path.format(id=message.pk),
            json.dumps(body) if body else "",
            content_type="application/json",
            headers=api_headers,
        )

    assert_unavailable_json(response)
    assert "Access-Control-Allow-Origin" not in response  # server-side API: no CORS


def test_tracking_keeps_answering_503_json(client, workspace):
    call = {"type": "track", "event": "Signed Up", "anonymousId": "a1"}
    with database_down():
        response = send(client, "track", call, write_key=workspace.write_key)

    assert_unavailable_json(response)


def test_a_dashboard_page_answers_a_503_page(owner_client, workspace):
    with database_down():
        response = owner_client.get(f"/w/{workspace.pk}/anonymous/")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "briefly unavailable" in response.content.decode()


def test_requests_are_served_again_once_the_database_is_back(client, workspace, api_headers):
    with database_down():
        assert client.get("/api/v1/anonymous-messages", headers=api_headers).status_code == 503

    assert client.get("/api/v1/anonymous-messages", headers=api_headers).status_code == 200
