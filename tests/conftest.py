import os
import shutil
import threading
import time

# Playwright's sync API runs an event loop in the test thread; Django would then refuse ORM
# calls from tests that also drive a browser.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from django.conf import settings

from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

# live_server threads serve browsers' keep-alive connections; with persistent database
# connections an idle thread would keep the PostgreSQL test database open, and dropping it at
# the end of the run would fail ("database is being accessed by other users").
settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(name="Acme")


@pytest.fixture
def owner(workspace):
    return MembershipFactory(workspace=workspace, user=UserFactory(username="owner@acme.test")).user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def outsider_client(client, db):
    """Logged in as someone who belongs to another workspace only."""
    other = MembershipFactory(user=UserFactory(username="outsider@other.test")).user
    client.force_login(other)
    return client


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 is slow on purpose (about a second per user on a busy CI machine); tests need
    # working passwords, not strong ones.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _full_rate_limit_buckets():
    # Each test starts with full buckets: the per-process ones would otherwise carry what earlier
    # tests of the run spent from 127.0.0.1 (Redis's are emptied by `redis_cache`).
    from anonmsg import rate_limits

    rate_limits.reset_local()


@pytest.fixture(autouse=True)
def _no_remembered_message_ids():
    # The tracking API remembers which ids are a workspace's messages, and which workspace a
    # write key names, per process; ids repeat between tests (SQLite reuses them after a
    # rollback).
    from delivery.tracking import recording, write_keys

    recording.forget_known_messages()
    write_keys.forget_write_keys_here()


# --- Redis ---------------------------------------------------------------------------------

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def redis_cache_settings(url: str) -> dict:
    """CACHES as anonmsg/settings.py builds them from REDIS_URL."""
    return {
        "default": {
            "BACKEND": "anonmsg.redis_cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def redis_cache(settings):
    """The default cache on a real Redis (its database emptied), as in production with
    REDIS_URL, and delivery's state cache on. Never skips: CI starts Redis (.ci/run)."""
    import redis

    server = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        server.flushdb()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is not reachable at {REDIS_TEST_URL} ({exc}): start redis-server, or set "
            "REDIS_TEST_URL to a Redis database these tests may empty."
        )
    settings.CACHES = redis_cache_settings(REDIS_TEST_URL)
    settings.DELIVERY_STATE_CACHE = True
    yield server
    server.flushdb()
    server.close()


@pytest.fixture
def redis_round_trips(monkeypatch):
    """Counts what is sent to Redis, one entry per round trip (a pipeline sends once)."""
    from redis.connection import Connection

    sent = []
    send = Connection.send_packed_command

    def counting_send(self, command, *args, **kwargs):
        sent.append(command)
        return send(self, command, *args, **kwargs)

    monkeypatch.setattr(Connection, "send_packed_command", counting_send)
    return sent


# --- Browser tests -------------------------------------------------------------------------


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "Chromium is not installed: apt-get install chromium (browser tests never skip)."
        )
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    # Stop the page before the test database is flushed: an SDK still sending events (e.g. a
    # keepalive flush on unload) would hold row locks in a live-server thread, and PostgreSQL
    # would then break the flush's TRUNCATE as a deadlock.
    context.route("**/*", lambda route: route.abort())
    context.close()
    _wait_for_live_server_threads()


def _wait_for_live_server_threads(timeout: float = 5.0) -> None:
    """Wait until the live server has finished the requests the closed browser left in flight."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [
            t for t in threading.enumerate() if "process_request_thread" in t.name and t.is_alive()
        ]
        if not busy:
            return
        time.sleep(0.05)
