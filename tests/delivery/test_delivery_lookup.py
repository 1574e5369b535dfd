"""The delivery lookup on PostgreSQL (delivery/sdk_api/visitor_state.py `_query`): no health
check round trip before it, and a connection the database closed is replaced, not a 503."""

import psycopg
import pytest
from django.core.signals import request_started
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper
from django.test import Client

from anonmsg.models import Workspace
from tests.factories import AnonymousMessageFactory, WorkspaceFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the lookup's own path is PostgreSQL's"
)


def ask(workspace, anonymous_id):
    """Delivery for a visitor without the fresh hint: the lookup runs on every such request
    (no shared cache in these tests)."""
    return Client().get(
        "/api/v1/delivery",
        {
            "writeKey": workspace.write_key,
            "anonymousId": anonymous_id,
            "url": "https://shop.example.com/pricing",
        },
    )


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_lookup_skips_the_health_check_query(monkeypatch):
    workspace = WorkspaceFactory()
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    checks = []
    original = DatabaseWrapper.is_usable

    def counted(self):
        checks.append(self.alias)
        return original(self)

    monkeypatch.setattr(DatabaseWrapper, "is_usable", counted)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connection.close()  # reconnects with health checks on
    assert ask(workspace, "visitor-1").status_code == 200  # loads the live messages
    # What a request's start does (the test client leaves it out): its first query is checked.
    request_started.send(sender=None)
    checks.clear()

    response = ask(workspace, "visitor-2")  # the lookup is the request's only query
    assert response.status_code == 200, response.content
    assert [m["id"] for m in response.json()["messages"]] == [message.pk]
    assert checks == []

    # Any other first query of a request is checked: what the lookup saves.
    request_started.send(sender=None)
    assert Workspace.objects.filter(pk=workspace.pk).exists()
    assert checks == ["default"]


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_closed_is_replaced_and_the_visitor_answered(monkeypatch):
    workspace = WorkspaceFactory()
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)  # kept across requests
    connection.close()
    assert ask(workspace, "visitor-1").status_code == 200
    backend = backend_pid()
    # As a database restart does to every kept connection.
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend])

    response = ask(workspace, "visitor-2")  # no health check: the lookup fails, is sent again

    assert response.status_code == 200, response.content
    assert [m["id"] for m in response.json()["messages"]] == [message.pk]
    assert backend_pid() != backend
