"""Real Chromium: the simple builder's button kinds and lead block, and their live preview."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.campaigns.test_browser_wizard import htmx_idle, log_in
from tests.factories import (
    AnonymousMessageFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def draft(transactional_db):
    workspace = WorkspaceFactory(name="Acme shop")
    MembershipFactory(user=UserFactory(username="mia@acme.test"), workspace=workspace)
    return AnonymousMessageFactory(workspace=workspace, name="Newsletter", wizard_step=7)


def test_the_builder_previews_a_lead_form_and_button_kinds_then_saves_them(
    page, live_server, draft
):
    log_in(page, live_server)
    url = reverse("campaigns:wizard-step", args=[draft.workspace_id, draft.pk, "content"])
    page.goto(live_server.url + url)
    page.get_by_role("radio", name=re.compile("^Simple builder")).check()
    page.get_by_label("Heading", exact=True).fill("Enjoying the blog?")

    # The lead fields appear once lead capture is ticked.
    expect(page.get_by_label("Submit button label")).to_be_hidden()
    page.get_by_label("Ask for an e-mail address (lead capture)").check()
    page.get_by_label("Submit button label").fill("Subscribe")

    # A close button needs only a label: its action name and URL fields go away.
    page.get_by_label("Button 1 kind").select_option("close")
    expect(page.get_by_label("Button 1 action name")).to_be_hidden()
    expect(page.get_by_label("Button 1 URL")).to_be_hidden()
    page.get_by_label("Button 1 label").fill("Not now")
    page.get_by_label("Button 2 kind").select_option("link")
    expect(page.get_by_label("Button 2 action name")).to_be_hidden()
    page.get_by_label("Button 2 label").fill("Read the terms")
    page.get_by_label("Button 2 URL").fill("/terms")
    page.get_by_label("Button 2 URL").blur()

    # Only the lead's submit is a tracked action.
    expect(page.locator(".action-list")).to_have_text("subscribe “Subscribe”")
    page.wait_for_load_state("networkidle")
    htmx_idle(page)
    preview = page.frame_locator(".preview-frame").frame_locator("#m")
    email = preview.get_by_role("textbox", name="Your e-mail address")
    email.fill("not an address")
    preview.get_by_role("button", name="Subscribe").click()
    expect(preview.get_by_role("alert")).to_have_text(
        "Enter a valid e-mail address, e.g. name@example.com."
    )
    email.fill("ada@example.com")
    email.press("Enter")
    expect(preview.get_by_role("status")).to_have_text("Thanks! You're on the list.")
    toast = page.frame_locator(".preview-frame").locator("#toast")
    expect(toast).to_have_text("Lead: identifies ada@example.com, reports “subscribe”")
    preview.get_by_role("link", name="Read the terms").click()
    expect(toast).to_have_text("Link: the visitor goes to /terms (nothing is counted)")
    preview.get_by_role("button", name="Not now").click()
    expect(toast).to_have_text("Dismissed: the visitor closed the message")

    page.get_by_role("button", name=re.compile("^Next")).click()
    page.get_by_role("heading", name="Schedule", exact=True).wait_for()
    draft.refresh_from_db()
    assert draft.content_builder["buttons"] == [
        {"kind": "close", "label": "Not now"},
        {"kind": "link", "label": "Read the terms", "url": "/terms"},
    ]
    assert draft.content_builder["lead"]["action"] == "subscribe"
