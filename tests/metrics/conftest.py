from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django_q.conf import Conf

from tests.factories import AnonymousMessageFactory


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sync_tasks(monkeypatch):
    """django-q2 runs enqueued tasks at once, in the test's thread (its own `sync` mode)."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def message(workspace):
    return AnonymousMessageFactory(workspace=workspace, launched=True)


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A fixed moment in March 2026 (UTC), for readable tables."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)
