"""Delivery and tracking with REDIS_URL's cache: a real Redis, up and then down."""

import pytest
from django.utils import timezone

from delivery.models import Event
from delivery.sdk_api import live_messages, visitor_state
from tests.conftest import redis_cache_settings
from tests.delivery.test_delivery_cache import ANON, ask, ids, launched, report, warm
from tests.factories import VisitorFactory, VisitorMessageStateFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_process():
    live_messages.clear_local()
    visitor_state.clear_local()
    yield
    live_messages.clear_local()
    visitor_state.clear_local()


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
