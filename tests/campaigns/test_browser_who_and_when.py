"""Real Chromium: the wizard's Who (audience) and When (trigger), with and without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from campaigns.models import AnonymousMessage
from tests.campaigns.test_browser_wizard import htmx_idle, log_in, next_step
from tests.factories import (
    AnonymousMessageFactory,
    MembershipFactory,
    PageRuleFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def draft(transactional_db):
    """A draft with a page rule whose every step may be opened, and its marketer."""
    user = UserFactory(username="mia@acme.test")
    workspace = WorkspaceFactory(name="Acme shop")
    MembershipFactory(user=user, workspace=workspace)
    message = AnonymousMessageFactory(workspace=workspace, name="Phone offer", wizard_step=7)
    PageRuleFactory(message=message, operator="starts_with", value="/pricing")
    return message


def rules_url(live_server, message):
    return f"{live_server.url}/w/{message.workspace_id}/anonymous/{message.pk}/edit/rules/"


def test_a_marketer_sets_an_audience_and_a_delay_and_sees_them_on_review(page, live_server, draft):
    log_in(page, live_server)
    page.goto(rules_url(live_server, draft))
    who = page.locator("#who")
    expect(who.get_by_text("Everyone who visits a matching page.")).to_be_visible()

    # Who: one condition, device is a phone. The operator list fits the attribute.
    who.get_by_role("button", name="+ Add condition").click()
    attribute = page.get_by_label("Attribute of condition 1")
    attribute.wait_for()
    htmx_idle(page)
    attribute.select_option("device")
    operator = page.get_by_label("Condition of condition 1")
    offered = operator.evaluate(
        "s => Array.from(s.options).filter(o => !o.disabled).map(o => o.value)"
    )
    assert offered == ["is", "is_not"]
    expect(page.get_by_label("Value of condition 1")).to_be_hidden()
    page.get_by_label("Device of condition 1").select_option("phone")

    # The tester uses the row on the screen (not saved yet): a desktop visit is refused.
    tester = page.locator("#rule-tester")
    tester.get_by_label("URL or screen name", exact=True).fill("https://shop.test/pricing/pro")
    expect(page.locator("#rule-test")).to_contain_text("✗ Does not show here.")
    expect(page.locator("#rule-test")).to_contain_text(
        "“On a phone” does not hold (this visit is on a desktop)"
    )
    tester.get_by_label("On", exact=True).select_option("phone")
    expect(page.locator("#rule-test")).to_contain_text("✓ Shows here.")
    expect(page.locator("#rule-test")).to_contain_text(
        "Audience: On a phone — this visit is on a phone"
    )

    # Enter in the tester's box tests; it does not leave the step.
    tester.get_by_label("URL or screen name", exact=True).press("Enter")
    htmx_idle(page)
    page.get_by_role("heading", name="Page rules", exact=True).wait_for()

    next_step(page, "Frequency")
    draft.refresh_from_db()
    assert draft.audience == [{"attribute": "device", "operator": "is", "value": "phone"}]

    # When: after a delay; its seconds box appears only for the types that need it.
    seconds = page.get_by_label("Seconds on the page")
    expect(seconds).to_be_hidden()
    page.get_by_text("After a delay", exact=True).click()
    expect(seconds).to_be_visible()
    expect(page.get_by_label("CSS selector of the element")).to_be_hidden()
    seconds.fill("0")
    page.get_by_role("button", name=re.compile(r"^Next")).click()
    expect(page.locator(".trigger-seconds .field-error")).to_have_text(
        "Enter seconds from 1 to 600."
    )
    page.get_by_label("Seconds on the page").fill("5")
    next_step(page, "Goal")
    next_step(page, "Content")
    next_step(page, "Schedule")
    next_step(page, "Review")

    summary = page.locator(".summary")
    expect(summary).to_contain_text("On a phone")
    expect(summary).to_contain_text("After 5 seconds on the page.")
    audience_row = summary.locator(".summary-row", has_text="Audience")
    assert (
        audience_row.get_by_role("link", name="Edit audience")
        .get_attribute("href")
        .endswith("/edit/rules/#who")
    )
    trigger_row = summary.locator(".summary-row", has_text="Trigger")
    assert (
        trigger_row.get_by_role("link", name="Edit trigger")
        .get_attribute("href")
        .endswith("/edit/frequency/")
    )
    draft.refresh_from_db()
    assert draft.trigger == {"type": "delay", "seconds": 5}


def test_audience_and_trigger_work_without_javascript(browser, live_server, draft):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, live_server)
        page.goto(rules_url(live_server, draft))
        page.get_by_role("button", name="+ Add condition").click()
        page.get_by_label("Attribute of condition 1").select_option("utm_source")
        page.get_by_label("Condition of condition 1").select_option("contains")
        page.get_by_label("Value of condition 1").fill("news")
        page.get_by_role("button", name="+ Add condition").click()
        page.get_by_label("Attribute of condition 2").select_option("sessions")
        page.get_by_label("At least of condition 2").fill("2")

        # The tester reads the saved audience without JavaScript: save first.
        page.get_by_role("button", name=re.compile(r"^Next")).click()
        page.get_by_role("heading", name="Frequency", exact=True).wait_for()
        page.get_by_label("On click").check()
        page.get_by_label("CSS selector of the element").fill("#buy[")
        page.get_by_role("button", name=re.compile(r"^Next")).click()
        expect(page.locator(".trigger-selector .field-error")).to_contain_text(
            "is not a CSS selector"
        )
        page.get_by_label("CSS selector of the element").fill("#buy")
        next_step(page, "Goal")

        message = AnonymousMessage.objects.get()
        assert message.audience == [
            {"attribute": "utm_source", "operator": "contains", "value": "news"},
            {"attribute": "sessions", "operator": "gte", "value": 2},
        ]
        assert message.trigger == {"type": "click", "selector": "#buy"}

        page.goto(rules_url(live_server, message))
        tester = page.locator("#rule-tester")
        tester.get_by_label("URL or screen name", exact=True).fill("/pricing?utm_source=newsletter")
        tester.get_by_label("Session number").fill("3")
        tester.get_by_role("button", name="Test", exact=True).click()
        expect(page.locator("#rule-test")).to_contain_text("✓ Shows here.")
        tester = page.locator("#rule-tester")
        tester.get_by_label("Session number").fill("1")
        tester.get_by_role("button", name="Test", exact=True).click()
        expect(page.locator("#rule-test")).to_contain_text(
            "“Number of sessions is at least 2” does not hold (session 1 of this visitor)"
        )
    finally:
        context.close()
