"""Real Chromium: a marketer adds variant B on the Content step, edits it, sees its preview,
sets the split and a holdout, and finds them on Review.

Set EXPERIMENT_SCREENSHOTS=/some/dir to keep screenshots at laptop and phone width.
"""

import os
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from campaigns.models import MessageVariant
from tests.campaigns.test_browser_wizard import htmx_idle, log_in
from tests.factories import (
    AnonymousMessageFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.browser
SCREENSHOTS = os.environ.get("EXPERIMENT_SCREENSHOTS")


def screenshot(page, name, *parts):
    """The whole page at laptop and phone width, and `parts` (selectors) on the phone."""
    if SCREENSHOTS:
        for width, height in ((1280, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            htmx_idle(page)
            page.screenshot(path=f"{SCREENSHOTS}/{name}-{width}.png", full_page=True)
        for index, selector in enumerate(parts):
            page.locator(selector).first.scroll_into_view_if_needed()
            page.screenshot(path=f"{SCREENSHOTS}/{name}-390-part{index}.png")
        page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def draft(transactional_db):
    workspace = WorkspaceFactory(name="Acme shop")
    MembershipFactory(user=UserFactory(username="mia@acme.test"), workspace=workspace)
    return AnonymousMessageFactory(
        workspace=workspace,
        name="Pricing offer",
        wizard_step=7,
        content_html="",
        content_builder={"heading": "Get 15% off", "text": "Sign up today.", "buttons": []},
    )


def expect_preview(page, heading):
    """The live preview shows `heading`: first in the page the server sent for the frame, then
    as Chromium draws it in the message's own frame, once the swap has settled."""
    expect(page.locator(".preview-frame")).to_have_attribute(
        "srcdoc", re.compile(re.escape(heading))
    )
    htmx_idle(page)
    message = page.frame_locator(".preview-frame").frame_locator("#m")
    expect(message.get_by_role("heading")).to_have_text(heading, timeout=15_000)


def test_a_marketer_adds_variant_b_previews_it_sets_the_split_and_reviews_it(
    page, live_server, draft
):
    log_in(page, live_server)
    url = reverse("campaigns:wizard-step", args=[draft.workspace_id, draft.pk, "content"])
    page.goto(live_server.url + url)
    # A is edited as typed (not saved yet); "Add variant" copies what A holds now.
    page.get_by_label("Heading", exact=True).fill("Get 20% off")
    htmx_idle(page)
    expect_preview(page, "Get 20% off")

    page.get_by_role("button", name=re.compile(r"^\+ Add variant")).click()
    tabs = page.get_by_role("tablist", name="Variants")
    expect(tabs.get_by_role("tab", name="Variant B")).to_have_attribute("aria-selected", "true")
    panel_b = page.get_by_role("tabpanel", name="Variant B")
    expect(panel_b).to_be_visible()
    expect(page.get_by_role("tabpanel", name="Variant A")).to_be_hidden()
    heading_b = panel_b.get_by_label("Heading", exact=True)
    expect(heading_b).to_have_value("Get 20% off")  # B starts as a copy of A

    # Editing B refreshes the preview with B's content.
    heading_b.fill("Get 30% off")
    htmx_idle(page)
    expect_preview(page, "Get 30% off")
    expect(page.locator(".preview-variant")).to_have_text("Variant B")

    # Back on A's tab the preview shows A again; and B once more.
    tabs.get_by_role("tab", name="Variant A").click()
    expect(page.get_by_role("tabpanel", name="Variant A")).to_be_visible()
    expect(panel_b).to_be_hidden()
    expect_preview(page, "Get 20% off")
    expect(page.locator(".preview-variant")).to_have_text("Variant A")
    tabs.get_by_role("tab", name="Variant B").click()
    expect_preview(page, "Get 30% off")

    # The split: a running total says when the weights do not add up.
    page.get_by_label("Weight of variant A (percent)").fill("70")
    expect(page.locator("[data-split-total]")).to_contain_text("must add up to 100")
    page.get_by_label("Weight of variant B (percent)").fill("30")
    expect(page.locator("[data-split-total]")).to_have_text("Total 100 %")
    page.get_by_label(re.compile("^Holdout")).fill("10")
    screenshot(page, "content-variant-b", ".variant-tabs", ".experiment-fields", ".preview-pane")

    htmx_idle(page)
    page.get_by_role("button", name=re.compile(r"^Next")).click()
    page.get_by_role("heading", name="Schedule", exact=True).wait_for()
    variant = MessageVariant.objects.get(message=draft)
    assert (variant.key, variant.weight) == ("B", 30)
    assert "Get 30% off" in variant.content_html
    draft.refresh_from_db()
    assert (draft.variant_a_weight, draft.holdout_percent) == (70, 10)
    assert "Get 20% off" in draft.content_html

    review = reverse("campaigns:wizard-step", args=[draft.workspace_id, draft.pk, "review"])
    page.goto(live_server.url + review)
    summary = page.locator(".summary")
    expect(summary).to_contain_text(
        "A 70 %, B 30 %; 10 % of eligible visitors see nothing (holdout)."
    )
    expect(summary).to_contain_text("B: “Get 30% off”")
    screenshot(page, "review-experiment", ".summary-row:nth-child(6)")

    # The Experiment row's edit link opens the Content step at the split.
    summary.get_by_role("link", name="Edit experiment").click()
    page.wait_for_url(re.compile(r"/edit/content/#experiment$"))
    expect(page.get_by_label("Weight of variant B (percent)")).to_have_value("30")


def test_a_split_that_does_not_add_up_is_refused_in_the_browser(page, live_server, draft):
    log_in(page, live_server)
    url = reverse("campaigns:wizard-step", args=[draft.workspace_id, draft.pk, "content"])
    page.goto(live_server.url + url)
    page.get_by_role("button", name=re.compile(r"^\+ Add variant")).click()
    page.get_by_role("tabpanel", name="Variant B").wait_for()
    page.get_by_label("Weight of variant B (percent)").fill("40")
    htmx_idle(page)
    page.get_by_role("button", name=re.compile(r"^Next")).click()
    expect(page.locator(".experiment-fields .field-error")).to_contain_text(
        "must add up to 100 (they add up to 90)"
    )
    screenshot(page, "content-split-error", ".experiment-fields")
    assert not MessageVariant.objects.filter(message=draft).exists()


def test_duplicating_a_live_message_offers_a_variant_and_opens_it(page, live_server, draft):
    draft.status, draft.content_html = "launched", "<h1>Get 15% off</h1>"
    draft.save()
    log_in(page, live_server)
    page.goto(live_server.url + draft.get_absolute_url())
    page.get_by_role("link", name="Duplicate…").click()
    expect(page.get_by_role("status")).to_contain_text("The copy would be outranked.")
    screenshot(page, "duplicate-choice")
    page.get_by_role("button", name="Add as a variant instead").click()
    tabs = page.get_by_role("tablist", name="Variants")
    expect(tabs.get_by_role("tab", name="Variant B")).to_have_attribute("aria-selected", "true")
    expect(
        page.get_by_text("Variant B of “Pricing offer” starts as a copy of variant A")
    ).to_be_visible()
    expect_preview(page, "Get 15% off")
    assert MessageVariant.objects.get(message=draft).key == "B"

    page.goto(live_server.url + reverse("campaigns:message-list", args=[draft.workspace_id]))
    expect(page.locator(".experiment-tag")).to_have_text("Experiment")
    screenshot(page, "list-experiment")


def test_a_variant_shown_its_own_way_in_the_browser(page, live_server, draft):
    """B as a bottom banner while A stays a modal: the variant's own display fields appear
    only once ticked, offer only the positions of the type chosen, and the preview follows."""
    log_in(page, live_server)
    url = reverse("campaigns:wizard-step", args=[draft.workspace_id, draft.pk, "content"])
    page.goto(live_server.url + url)
    page.get_by_role("button", name=re.compile(r"^\+ Add variant")).click()
    panel_b = page.get_by_role("tabpanel", name="Variant B")
    own = panel_b.get_by_label("Show this variant its own way")
    display_b = panel_b.get_by_label("Display as")
    expect(display_b).to_be_hidden()
    own.check()
    expect(display_b).to_be_visible()
    display_b.select_option("banner")
    position_b = panel_b.get_by_label("Position")
    expect(position_b).to_have_value("top")  # the banner's first position, picked for it
    expect(position_b.locator("option[value=center]")).to_be_disabled()
    position_b.select_option("bottom")
    htmx_idle(page)
    expect(page.locator(".preview-pane")).to_contain_text("Banner")
    screenshot(page, "content-variant-own-display", ".variant-display", ".preview-pane")

    htmx_idle(page)
    page.get_by_role("button", name=re.compile(r"^Next")).click()
    page.get_by_role("heading", name="Schedule", exact=True).wait_for()
    variant = MessageVariant.objects.get(message=draft)
    assert (variant.display_type, variant.display_position) == ("banner", "bottom")
    draft.refresh_from_db()
    assert draft.display_type == "modal"
