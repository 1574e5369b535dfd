"""Troubleshooting panels in real Chromium: the install check turns green when the customer's
site (another origin, carrying the snippet) sends its first event; the visitor debugger
answers in place (htmx) and without JavaScript; both fit a phone's width."""

import pytest
from playwright.sync_api import expect

from anonmsg.snippet import render_snippet
from tests.delivery.test_browser_sdk import HostSite
from tests.factories import (
    PASSWORD,
    AnonymousMessageFactory,
    MembershipFactory,
    PageRuleFactory,
    UserFactory,
    VisitorFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(transactional_db):
    workspace = WorkspaceFactory(name="Acme shop")
    MembershipFactory(user=UserFactory(username="mia@acme.test"), workspace=workspace)
    return workspace


@pytest.fixture
def host_site():
    site = HostSite()
    yield site
    site.stop()


def log_in(page, live_server, path):
    page.goto(live_server.url + path)
    page.get_by_label("E-mail").fill("mia@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{path}")


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_install_check_turns_green_when_the_site_sends_its_first_event(
    page, live_server, shop, host_site
):
    host_site.pages["/shop/home"] = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Shop</title>"
        f"{render_snippet(base_url=live_server.url, write_key=shop.write_key)}"
        "</head><body><h1>Shop</h1></body></html>"
    )
    log_in(page, live_server, f"/w/{shop.pk}/settings/")
    check = page.locator("#install-check")
    expect(check).to_contain_text("No event received yet")
    check.get_by_role("link", name="Test my installation").click()
    expect(check).to_contain_text("Waiting for the first event from your site…")
    assert page.url.endswith(f"/w/{shop.pk}/settings/")  # htmx: the page stays

    site = page.context.new_page()
    site.goto(host_site.url + "/shop/home")

    expect(page.locator("#install-check")).to_contain_text(
        "Your installation works.", timeout=15_000
    )
    expect(page.locator("#install-check")).to_contain_text(f"from {host_site.url}/shop/home")
    expect(page.locator("#install-check.is-ok")).to_be_visible()
    expect(page.locator("#sdk-last-seen")).to_contain_text("SDK last seen: just now")


def test_debug_a_visitor_answers_in_place_and_fits_a_phone(page, live_server, shop):
    first = AnonymousMessageFactory(workspace=shop, name="Pricing offer", launched=True)
    copy = AnonymousMessageFactory(workspace=shop, name="Pricing offer (copy)", launched=True)
    for message in (first, copy):
        PageRuleFactory(message=message, value="/pricing")
    VisitorFactory(workspace=shop, anonymous_id="visitor-42", last_page="/pricing")

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, copy.get_absolute_url())
    expect(page.locator(".state-line")).to_contain_text("Live, but outranked: “Pricing offer”")
    panel = page.locator("#debug-visitor")
    panel.get_by_label("Anonymous ID").fill("visitor-42")
    panel.get_by_label("Page URL or screen").fill("https://shop.example/pricing")
    panel.get_by_role("button", name="Check this visitor").click()
    report = page.locator(".debug-report")
    expect(report).to_contain_text("Slot taken by “Pricing offer”")
    expect(report.locator(".is-focus")).to_contain_text("Pricing offer (copy)")
    assert page.url.endswith(copy.get_absolute_url())  # answered in place
    assert no_sideways_scroll(page)

    page.goto(live_server.url + f"/w/{shop.pk}/settings/")
    assert no_sideways_scroll(page)


def test_debug_a_visitor_works_without_javascript(browser, live_server, shop):
    AnonymousMessageFactory(workspace=shop, name="Offer", launched=True)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, f"/w/{shop.pk}/debug-visitor/")
        page.get_by_label("Anonymous ID").fill("someone")
        page.get_by_label("Page URL or screen").fill("/")
        page.get_by_role("button", name="Check this visitor").click()
        expect(page.locator(".debug-report")).to_contain_text("Delivered here (modal)")
    finally:
        context.close()
