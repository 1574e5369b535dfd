"""Helpers shared by the tracking API tests: send a call, check a refusal, make the database
really fail."""

import base64
import json
from contextlib import contextmanager

from django.db import connection

from delivery.models import Event, Profile, Visitor


def basic_auth(write_key: str) -> str:
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


def send(client, route: str, body, *, write_key: str | None = None, **extra):
    """POST a tracking call. With `write_key`, authenticate by HTTP Basic (else put it in body).

    `content_type` defaults to application/json; other keyword arguments are WSGI headers.
    """
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    if write_key is not None:
        extra["HTTP_AUTHORIZATION"] = basic_auth(write_key)
    extra.setdefault("content_type", "application/json")
    return client.post(f"/v1/{route}", data, **extra)


def track(**fields) -> dict:
    """A track call's body."""
    return {"anonymousId": "anon-1", "event": "Signed Up", **fields}


def assert_refused(response, status, *, error, field):
    """Refused with `status`, the `error` code and exactly `field` (None: no field), with the
    CORS header browsers need to read it, and nothing stored."""
    assert response.status_code == status, response.content
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert (body["error"], body.get("field")) == (error, field)
    assert Event.objects.count() == Visitor.objects.count() == Profile.objects.count() == 0


@contextmanager
def database_down():
    """Make the default database fail for real while inside the block.

    PostgreSQL: the connection is closed and pointed at a port nothing listens on, so the next
    query fails to connect. SQLite (an in-memory test database cannot be reopened): the
    connection is switched to read-only, so every write fails in the engine.
    Needs a transactional test (`django_db(transaction=True)`).
    """
    if connection.vendor == "postgresql":
        original_port = connection.settings_dict["PORT"]
        connection.close()
        connection.settings_dict["PORT"] = 1
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict["PORT"] = original_port
    else:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = ON")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA query_only = OFF")
