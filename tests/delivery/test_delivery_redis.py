"""Delivery and tracking with REDIS_URL's cache: a real Redis, up and then down."""

import pytest
from django.utils import timezone

from delivery.models import Event
from tests.conftest import redis_cache_settings
from tests.delivery.test_delivery_cache import ANON, ask, ids, launched, report, warm
from tests.factories import VisitorFactory, VisitorMessageStateFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_warm_request_reads_redis_only_and_tracking_invalidates_it(
    client, workspace, redis_cache, django_assert_num_queries
):
    message = launched(workspace, frequency_mode="until_dismissed")
    assert ids(warm(client, workspace)) == [message.pk]
    assert any(key.startswith(b":1:anonmsg:delivery:") for key in redis_cache.scan_iter())
    with django_assert_num_queries(0):
        assert ids(ask(client, workspace)) == [message.pk]
    report(client, workspace, "dismissed_content", message)
    assert ids(ask(client, workspace)) == []


def test_with_redis_down_delivery_and_tracking_use_the_database(client, workspace, settings):
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/0")  # nothing listens there
    settings.DELIVERY_STATE_CACHE = True
    message = launched(workspace, frequency_mode="until_dismissed")
    other = launched(workspace, frequency_mode="until_dismissed", display_type="banner")
    VisitorMessageStateFactory(
        visitor=VisitorFactory(workspace=workspace, anonymous_id=ANON),
        message=other,
        dismissed_at=timezone.now(),
    )
    assert ids(warm(client, workspace)) == [message.pk]
    report(client, workspace, "dismissed_content", message)
    assert Event.objects.filter(content_id=message.pk).count() == 1
    assert ids(ask(client, workspace)) == []


def test_a_new_visitor_reads_redis_only_and_a_dismissal_ends_the_fresh_claim(
    client, workspace, redis_cache, django_assert_num_queries
):
    message = launched(workspace, frequency_mode="until_dismissed")
    warm(client, workspace, "someone-else")
    fresh = {"writeKey": workspace.write_key, "url": "https://shop.example.com/pricing"}
    with django_assert_num_queries(0):
        for number in range(3):
            response = client.get(
                "/api/v1/delivery", {**fresh, "anonymousId": f"new-{number}", "fresh": "1"}
            )
            assert ids(response.json()) == [message.pk]
    with django_assert_num_queries(0):
        response = client.get("/api/v1/delivery", {**fresh, "anonymousId": ANON, "fresh": "1"})
        assert ids(response.json()) == [message.pk]
    report(client, workspace, "dismissed_content", message)
    response = client.get("/api/v1/delivery", {**fresh, "anonymousId": ANON, "fresh": "1"})
    assert ids(response.json()) == []


def test_with_redis_down_a_fresh_claim_is_checked_in_the_database(client, workspace, settings):
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/0")  # nothing listens there
    settings.DELIVERY_STATE_CACHE = True
    message = launched(workspace, frequency_mode="until_dismissed")
    VisitorMessageStateFactory(
        visitor=VisitorFactory(workspace=workspace, anonymous_id=ANON),
        message=message,
        dismissed_at=timezone.now(),
    )
    query = {"writeKey": workspace.write_key, "url": "https://shop.example.com/pricing"}
    for _ in range(2):
        response = client.get("/api/v1/delivery", {**query, "anonymousId": ANON, "fresh": "1"})
        assert ids(response.json()) == []
    response = client.get("/api/v1/delivery", {**query, "anonymousId": "new", "fresh": "1"})
    assert ids(response.json()) == [message.pk]
