"""The experiment section of the metrics page in real Chromium, on a laptop and a phone."""

import os
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import PASSWORD, AnonymousMessageFactory, MembershipFactory, UserFactory
from tests.metrics.experiment_helpers import arm_event, bulk_arm, count_events, make_experiment

pytestmark = pytest.mark.browser
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_the_experiment_reads_well_on_a_laptop_and_a_phone(
    live_server, page, transactional_db, width, height
):
    membership = MembershipFactory(user=UserFactory(username="exp@acme.test"))
    message = AnonymousMessageFactory(
        workspace=membership.workspace, launched=True, name="Spring sale: annual plans"
    )
    make_experiment(message, variants=("B", "C"), holdout_percent=10)
    when = timezone.now() - timedelta(days=2)
    bulk_arm(message, "A", exposed=2400, converted=130, at=when)
    bulk_arm(message, "B", exposed=2400, converted=200, at=when)
    bulk_arm(message, "C", exposed=2400, converted=118, at=when)
    bulk_arm(message, "holdout", exposed=800, converted=30, at=when)
    for n in range(5):
        arm_event(message, f"B-{n}", arm="B", at=when, action="clicked_content",
                  action_name="claim-discount")  # fmt: skip

    count_events()
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", "exp@acme.test")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/w/**")
    page.goto(
        live_server.url
        + reverse("metrics:message-metrics", args=[message.workspace_id, message.pk])
    )

    section = page.locator("[data-experiment]")
    expect(section).to_be_visible()
    expect(section.locator("[data-guidance]", has_text="B beats the holdout")).to_be_visible()
    expect(section.locator('tr[data-arm="B"] [data-cell="exposed"]')).to_have_text("2400")
    bars = section.locator("svg.lift-svg .lift-row")
    expect(bars).to_have_count(3)
    # The intervals are drawn inside the plot, and the page never scrolls sideways.
    plot = section.locator("svg.lift-svg").bounding_box()
    assert plot["width"] > 200
    for bar in section.locator(".lift-interval").all():
        box = bar.bounding_box()  # Chromium's box of a stroked line adds the stroke's width
        assert (
            plot["x"] - 5 <= box["x"] and box["x"] + box["width"] <= plot["x"] + plot["width"] + 5
        )
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if SCREENSHOTS:
        section.screenshot(path=f"{SCREENSHOTS}/experiment-{width}.png")
        page.screenshot(path=f"{SCREENSHOTS}/metrics-page-{width}.png", full_page=True)
