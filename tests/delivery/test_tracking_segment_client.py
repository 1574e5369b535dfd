"""The tracking API spoken to by a client nobody here wrote: Segment's analytics-python."""

import logging

import pytest
from django.test import RequestFactory
from segment.analytics import Client
from segment.analytics.request import APIError, post

from anonmsg import rate_limits
from delivery.models import Event, Profile, Visitor
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def workspace(db):
    return WorkspaceFactory()


def test_identify_track_page_and_screen_from_analytics_python_are_stored(live_server, workspace):
    client = Client(write_key=workspace.write_key, host=live_server.url, sync_mode=True)

    client.page(anonymous_id="anon-1", name="Pricing", properties={"path": "/pricing"})
    client.screen(anonymous_id="anon-1", name="Home")
    client.track(anonymous_id="anon-1", event="Started Trial", properties={"plan": "pro"})
    client.identify("user-1", {"email": "ann@example.com"}, anonymous_id="anon-1")
    client.track("user-1", "Paid", {"amount": 49})
    client.group("user-1", "acme", {"name": "Acme"})
    client.alias("anon-2", "user-1")

    stored = list(
        Event.objects.filter(workspace=workspace)
        .order_by("id")
        .values_list("type", "name", "anonymous_id", "user_id")
    )
    assert stored == [
        ("page", "Pricing", "anon-1", ""),
        ("screen", "Home", "anon-1", ""),
        ("track", "Started Trial", "anon-1", ""),
        ("identify", "", "anon-1", "user-1"),
        ("track", "Paid", "", "user-1"),
        ("group", "acme", "", "user-1"),
        ("alias", "", "", "user-1"),
    ]
    event = Event.objects.get(name="Started Trial")
    assert event.payload["context"]["library"]["name"] == "analytics-python"
    assert event.payload["properties"] == {"plan": "pro"}
    profile = Profile.objects.get(workspace=workspace)
    assert (profile.user_id, profile.email) == ("user-1", "ann@example.com")
    assert set(profile.visitors.values_list("anonymous_id", flat=True)) == {"anon-1", "anon-2"}


def test_the_batching_client_with_gzip_delivers_everything(live_server, workspace):
    errors = []
    client = Client(
        write_key=workspace.write_key,
        host=live_server.url,
        gzip=True,
        upload_size=25,
        on_error=lambda error, batch: errors.append(error),
    )
    try:
        for n in range(60):
            client.track(anonymous_id=f"anon-{n % 4}", event="Viewed Item", properties={"n": n})
        client.flush()
    finally:
        client.shutdown()

    assert errors == []
    assert Event.objects.filter(workspace=workspace).count() == 60
    assert Visitor.objects.filter(workspace=workspace).count() == 4


def test_the_same_batch_sent_twice_by_the_client_is_stored_once(live_server, workspace):
    # Build the messages exactly as the client would, then upload them with its own transport.
    builder = Client(write_key=workspace.write_key, send=False)
    batch = [
        builder.track(anonymous_id="anon-1", event=f"Event {n}", properties={"n": n})[1]
        for n in range(10)
    ]

    for _ in range(2):
        response = post(workspace.write_key, host=live_server.url, batch=batch)
        assert response.status_code == 200
        assert response.json() == {"success": True}

    assert Event.objects.filter(workspace=workspace).count() == 10


def test_the_client_sees_a_clear_error_for_an_unknown_write_key(live_server, workspace):
    client = Client(write_key="wk_not-a-real-key", host=live_server.url, sync_mode=True)

    with pytest.raises(APIError) as raised:
        client.track(anonymous_id="anon-1", event="Signed Up")

    assert raised.value.status == 401
    assert not Event.objects.exists()


def test_a_throttled_batch_is_retried_after_retry_after_and_stored_once(
    live_server, workspace, settings, caplog
):
    # 20 a minute: once the write key's bucket is empty, the next token comes within 3 s.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "tracking_per_key": 20}
    other_visitors = RequestFactory().post("/v1/batch", REMOTE_ADDR="192.0.2.200")
    while rate_limits.check(other_visitors, "tracking", key=workspace.write_key) is None:
        pass
    caplog.set_level(logging.DEBUG, logger="segment")
    errors = []
    client = Client(
        write_key=workspace.write_key,
        host=live_server.url,
        on_error=lambda error, batch: errors.append(error),
    )
    try:
        for n in range(10):
            client.track(anonymous_id="anon-1", event="Viewed Item", properties={"n": n})
        client.flush()
    finally:
        client.shutdown()

    assert errors == []
    assert any("Rate-limited (status 429)" in r.getMessage() for r in caplog.records)
    stored = Event.objects.filter(workspace=workspace)
    assert sorted(event.payload["properties"]["n"] for event in stored) == list(range(10))
