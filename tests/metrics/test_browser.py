from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from metrics.rollups import roll_up
from tests.factories import (
    PASSWORD,
    AnonymousMessageFactory,
    MembershipFactory,
    MessageEventFactory,
    UserFactory,
)


def add_views(message, count):
    when = timezone.now() - timedelta(minutes=1)
    for n in range(count):
        MessageEventFactory(message=message, anonymous_id=f"visitor-{n}", timestamp=when)
    roll_up(now=timezone.now() + timedelta(minutes=1))


@pytest.mark.browser
def test_the_chart_renders_and_updates_when_new_events_are_rolled_up(
    live_server, page, settings, transactional_db
):
    settings.METRICS_POLL_SECONDS = 1
    membership = MembershipFactory(user=UserFactory(username="chart@acme.test"))
    message = AnonymousMessageFactory(
        workspace=membership.workspace, launched=True, name="Spring sale"
    )
    add_views(message, 2)

    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", "chart@acme.test")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/w/**")

    polls = []
    page.on("response", lambda r: polls.append(r.status) if "fingerprint=" in r.url else None)
    metrics_url = reverse("metrics:message-metrics", args=[message.workspace_id, message.pk])
    page.goto(f"{live_server.url}{metrics_url}?range=24h")

    views = page.locator('[data-metric="views"]')
    expect(views).to_have_text("2")
    chart = page.locator('[data-chart="views"] svg.metrics-bars')
    expect(chart).to_be_visible()
    expect(chart.locator("rect")).to_have_count(1)
    expect(chart.locator("rect title")).to_contain_text(": 2")
    page.wait_for_timeout(2500)
    assert 204 in polls  # nothing changed: the panel was left alone

    add_views(message, 3)
    expect(views).to_have_text("5", timeout=10_000)
    expect(chart.locator("rect title")).to_contain_text(": 5")
    assert 200 in polls
    page.screenshot(path="/tmp/metrics-browser.png", full_page=True)
