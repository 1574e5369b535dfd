"""The browser SDK under rate limits, in real Chromium on another origin than the API: a 429
is retried after its Retry-After, for event batches and for delivery polls, and nothing is lost
or stored twice."""

import time

import pytest
from django.test import RequestFactory
from playwright.sync_api import expect

from anonmsg import rate_limits
from delivery.models import Event
from tests.delivery import test_browser_sdk as sdk_tests
from tests.delivery.test_browser_sdk import db, launched, message_events, shown, wait_for

# The browser SDK tests' fixtures: the customer's site on another origin, Redis as in production.
host_site = sdk_tests.host_site
site = sdk_tests.site
browser_page = sdk_tests.browser_page
redis_as_in_production = sdk_tests.redis_as_in_production

pytestmark = pytest.mark.browser


def drain(family: str, write_key: str) -> None:
    """Spend every token of this write key's bucket, as other visitors of the site would."""
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.200")
    while rate_limits.check(request, family, key=write_key) is None:
        pass


def record_responses(page, path: str) -> list[tuple[float, int, str | None]]:
    """(when the browser sent it, in s; status; Retry-After) of each response from the API
    whose URL contains `path`. The browser's own clock: Playwright reports events late."""
    seen = []

    def record(response):
        if path in response.url:
            sent = response.request.timing["startTime"] / 1000
            seen.append((sent, response.status, response.headers.get("retry-after")))

    page.on("response", record)
    return seen


def test_a_throttled_batch_is_sent_again_after_retry_after_and_stored_once(
    browser_page, site, workspace, settings
):
    page = browser_page
    # 20 a minute: once the bucket is empty, the next token comes after 3 s.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "tracking_per_key": 20}
    drain("tracking", workspace.write_key)
    batches = record_responses(page, "/v1/batch")

    page.goto(f"{site.url}/shop/home")

    wait_for(lambda: Event.objects.filter(workspace=workspace, type="page").exists(), what="page")
    page.wait_for_function("() => localStorage.getItem('anonmsg_queue') === null")
    statuses = [status for _, status, _ in batches]
    assert statuses == [429, 200], statuses
    (refused_at, _, retry_after), (sent_at, _, _) = batches
    assert 1 <= int(retry_after) <= 3  # the time the next token takes to come
    assert sent_at - refused_at >= int(retry_after) - 0.1  # the SDK waited as it was asked
    assert db(Event.objects.filter(workspace=workspace, type="page").count) == 1


def test_a_throttled_delivery_poll_is_asked_again_after_retry_after(
    browser_page, site, workspace, settings
):
    page = browser_page
    message = launched(workspace, rule="/shop/pricing")
    # 30 a minute: once the bucket is empty, the next token comes after 2 s.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "delivery_per_key": 30}
    drain("delivery", workspace.write_key)
    answers = record_responses(page, "/api/v1/delivery")

    page.goto(f"{site.url}/shop/pricing")

    expect(shown(page)).to_have_attribute("data-anonmsg-message", str(message.pk))
    assert [status for _, status, _ in answers] == [429, 200]
    (refused_at, _, retry_after), (answered_at, _, _) = answers
    assert 1 <= int(retry_after) <= 2
    assert answered_at - refused_at >= int(retry_after) - 0.1
    wait_for(lambda: message_events(workspace, "viewed_content", message).exists(), what="view")
    time.sleep(0.5)
    assert db(message_events(workspace, "viewed_content", message).count) == 1
