"""Real Chromium: a marketer creates, previews and launches an anonymous message."""

import re

import pytest
from playwright.sync_api import expect

from campaigns.models import AnonymousMessage, Status
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def marketer(transactional_db):
    user = UserFactory(username="mia@acme.test")
    MembershipFactory(user=user, workspace=WorkspaceFactory(name="Acme shop"))
    return user


def log_in(page, live_server):
    page.goto(live_server.url + "/")
    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("E-mail").fill("mia@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/anonymous/")


def htmx_idle(page):
    """No request in flight and no swap settling: the new content's triggers are attached."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def next_step(page, title):
    htmx_idle(page)  # a click during the previous swap could be lost
    page.get_by_role("button", name=re.compile(r"^Next")).click()
    page.get_by_role("heading", name=title, exact=True).wait_for()


def test_a_marketer_creates_and_launches_an_anonymous_message(page, live_server, marketer):
    log_in(page, live_server)
    page.get_by_role("link", name="Create anonymous message").first.click()

    # 1. Name
    page.get_by_role("heading", name="Name", exact=True).wait_for()
    page.evaluate("window.sameDocument = true")  # htmx steps never reload the page
    page.get_by_label("Name", exact=True).fill("Pricing page offer")
    page.get_by_label("Description").fill("Spring campaign")
    next_step(page, "Page rules")
    assert re.search(r"/anonymous/\d+/edit/rules/$", page.url)
    assert page.get_by_text("No page rules: this message shows on every page").is_visible()

    # 2. Page rules: add one inline, then ask the tester about two pages.
    page.get_by_label("Condition").select_option("matches")
    page.get_by_label("Path, URL or screen name").fill("/pricing*")
    page.get_by_role("button", name="Add rule").click()
    page.get_by_text("Show on web pages whose path matches “/pricing*”").wait_for()
    assert page.get_by_text("No page rules").count() == 0
    htmx_idle(page)  # the tester was just swapped in: typing before htmx attaches is lost
    tester = page.get_by_label("URL or screen name", exact=True)
    tester.fill("https://shop.example.com/pricing/?plan=pro")
    page.get_by_text("✓ Shows here.").wait_for()
    tester.fill("/blog")
    page.get_by_text("✗ Does not show here.").wait_for()
    assert "path “/blog” does not match “/pricing*”" in page.locator("#rule-test").inner_text()
    next_step(page, "Frequency")

    # 3. Frequency; Back keeps what was typed.
    page.get_by_text("Up to a number of times").click()
    page.get_by_label("Number of views").fill("3")
    page.get_by_role("button", name="← Back").click()
    page.get_by_role("heading", name="Page rules", exact=True).wait_for()
    page.wait_for_url(re.compile(r"/edit/rules/$"))
    next_step(page, "Frequency")
    assert page.get_by_label("Number of views").input_value() == "3"
    next_step(page, "Goal")

    # 4. Goal: the defaults (a click, within 7 days)
    assert page.get_by_label("Conversion window").input_value() == "7"
    next_step(page, "Content")

    # 5. Content with the builder; the preview follows the typing.
    page.get_by_label("Heading", exact=True).fill("Get 20% off")
    page.get_by_label("Text", exact=True).fill("Create a free account to unlock the offer.")
    page.get_by_label("Button 1 label").fill("Sign up")
    page.get_by_label("Button 1 URL").fill("/signup")
    # Each pause in typing refreshes the preview; wait for the one with everything typed.
    page.get_by_label("Button 1 URL").blur()
    expect(page.locator(".action-list")).to_contain_text("sign-up “Sign up” → /signup")
    page.wait_for_load_state("networkidle")
    preview = page.frame_locator(".preview-frame").frame_locator("#m")
    expect(preview.get_by_role("heading", name="Get 20% off")).to_be_visible()
    expect(preview.get_by_role("button", name="Sign up")).to_be_visible()
    frame = page.locator(".preview-frame")
    assert frame.get_attribute("sandbox") == "allow-scripts"

    # Liquid is refused, live, with the reason; the builder is taken back.
    page.get_by_role("radio", name=re.compile("^HTML")).check()
    page.get_by_label("HTML", exact=True).fill("<p>Hi {{ first_name }}</p>")
    expect(page.locator(".preview-errors")).to_contain_text("Liquid is not supported")
    page.get_by_role("radio", name=re.compile("^Simple builder")).check()
    page.get_by_label("Display as").select_option("overlay")
    assert page.get_by_label("Position").input_value() == "bottom-right"
    next_step(page, "Schedule")

    # 6. Schedule: start at launch, never end (the defaults)
    assert page.get_by_text("Times are in the workspace's time zone").is_visible()
    next_step(page, "Review")

    # 7. Review, then launch.
    summary = page.locator(".summary").inner_text()
    assert "Show on web pages whose path matches “/pricing*”" in summary
    assert "Up to 3 times per visitor" in summary
    assert "Corner overlay, bottom right" in summary
    assert page.evaluate("window.sameDocument") is True
    page.get_by_role("button", name="Launch anonymous message").click()

    # Launch lands on the message page, with the next steps.
    message = AnonymousMessage.objects.get()
    page.wait_for_url(f"**/anonymous/{message.pk}/?launched=1")
    message.refresh_from_db()
    assert page.get_by_text("“Pricing page offer” is live").is_visible()
    assert page.locator("h1 .badge").inner_text() == "Active"
    next_steps = page.get_by_role("region", name="Launched. Next steps")
    expect(next_steps.get_by_role("link", name="Preview it on your site")).to_be_visible()
    expect(next_steps.get_by_role("link", name="Debug a visitor")).to_be_visible()
    expect(next_steps.get_by_role("link", name="Watch its metrics")).to_be_visible()
    assert (message.status, message.frequency_times, message.display_type) == (
        Status.LAUNCHED,
        3,
        "overlay",
    )
    assert message.rules.get().value == "/pricing*"


def test_the_wizard_works_without_javascript(browser, live_server, marketer):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, live_server)
        page.get_by_role("link", name="Create anonymous message").first.click()
        page.get_by_label("Name", exact=True).fill("No-JS offer")
        next_step(page, "Page rules")
        page.get_by_label("Path, URL or screen name").fill("/pricing")
        page.get_by_role("button", name="Add rule").click()
        page.get_by_text("Show on web pages whose path is “/pricing”", exact=True).wait_for()
        page.get_by_label("URL or screen name", exact=True).fill("/pricing?x=1")
        page.get_by_role("button", name="Test", exact=True).click()
        page.get_by_text("✓ Shows here.").wait_for()
        next_step(page, "Frequency")
        next_step(page, "Goal")
        next_step(page, "Content")
        page.get_by_label("Heading", exact=True).fill("Welcome")
        page.get_by_role("button", name="Update preview").click()
        # Waited for from the page: htmx replaces the frame (a wait inside it could see it go).
        expect(page.locator(".preview-frame")).to_have_attribute(
            "srcdoc", re.compile("Welcome"), timeout=20_000
        )
        next_step(page, "Schedule")
        next_step(page, "Review")
        page.get_by_role("button", name="Launch anonymous message").click()
        page.wait_for_url("**/anonymous/*/?launched=1")
        assert page.locator("h1").inner_text().startswith("No-JS offer")
        assert page.locator("h1 .badge").inner_text() == "Active"
        expect(page.get_by_role("region", name="Launched. Next steps")).to_be_visible()
    finally:
        context.close()
