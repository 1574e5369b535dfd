import pytest
from django.core.cache import cache

from delivery.sdk_api import live_messages, visitor_state
from delivery.tracking import write_keys


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Every delivery test starts with nothing cached: write keys, throttles, live messages
    and visitors' states are cached under ids and message ids that repeat between tests.

    The process's own copies are forgotten after the test too. The shared cache is emptied
    before each test only: a test may leave it pointing at a Redis that is down on purpose
    (test_delivery_redis.py) until pytest-django's `settings` is restored, after this.
    """
    cache.clear()
    live_messages.clear_local()
    visitor_state.clear_local()
    write_keys.forget_sdk_seen_here()
    yield
    live_messages.clear_local()
    visitor_state.clear_local()
    write_keys.forget_sdk_seen_here()
