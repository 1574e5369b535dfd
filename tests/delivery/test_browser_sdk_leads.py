"""Builder buttons and lead capture in real Chromium: what each kind of button reports, and a
lead form that identifies the visitor from inside the sandboxed frame (without
allow-same-origin), counts the click and converts, while a message's own scripts cannot
identify anyone without the visitor."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from playwright.sync_api import expect

from campaigns.content import build_html
from delivery.demo_workspace import seed_demo
from delivery.models import Event, Profile, Visitor
from metrics.models import Conversion
from metrics.rollups import roll_up
from tests.delivery import test_browser_sdk as sdk_tests
from tests.delivery.test_browser_sdk import (
    anonymous_id,
    db,
    deliveries,
    launched,
    message_events,
    shown,
    wait_for,
)

host_site = sdk_tests.host_site
site = sdk_tests.site
browser_page = sdk_tests.browser_page
redis_as_in_production = sdk_tests.redis_as_in_production

pytestmark = pytest.mark.browser

FRAME = "[data-anonmsg-message] iframe"


@pytest.fixture
def tasks_run_at_once(monkeypatch):
    """django-q2 runs enqueued tasks (conversion attribution) at once, in the live server's
    request thread, instead of waiting for a worker process."""
    monkeypatch.setattr(Conf, "SYNC", True)


def lead_html(**lead):
    return build_html(
        {
            "heading": "Get the newsletter",
            "text": "One e-mail a week.",
            "lead": {"action": "subscribe", "button": "Subscribe", **lead},
            "buttons": [{"kind": "close", "label": "No thanks"}],
        },
        display_type="overlay",
    )


def identify_events(workspace):
    return Event.objects.filter(workspace=workspace, type="identify")


# --- Lead capture ---------------------------------------------------------------------------


def test_a_bad_email_is_caught_in_the_frame_and_nothing_is_sent(browser_page, site, workspace):
    page = browser_page
    message = launched(workspace, content_html=lead_html(), display_type="overlay")
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [message.pk]
    frame = page.frame_locator(FRAME)
    email = frame.get_by_role("textbox", name="Your e-mail address")
    error = frame.get_by_role("alert")
    expect(error).to_be_hidden()
    for typed in ("ada", "ada@example", "ada @example.com", "<ada>@example.com"):
        email.fill(typed)
        frame.get_by_role("button", name="Subscribe").click()
        expect(error).to_have_text("Enter a valid e-mail address, e.g. name@example.com.")
        expect(email).to_have_attribute("aria-invalid", "true")
        expect(email).to_be_focused()
    email.press("Enter")  # Enter checks it too
    expect(error).to_be_visible()

    wait_for(lambda: message_events(workspace, "viewed_content", message).exists(), what="view")
    page.evaluate("cioanalytics.flush()")
    page.wait_for_timeout(300)
    assert not db(identify_events(workspace).exists)
    assert not db(message_events(workspace, "clicked_content", message).exists)
    assert page.evaluate("cioanalytics.user().id()") is None
    assert shown(page).count() == 1


def test_the_demo_newsletter_lead_identifies_the_visitor_counts_the_click_and_converts(
    browser_page, live_server, tasks_run_at_once, client
):
    """The seeded blog message, on the demo site: its goal is the default one (identified
    within 7 days of a click), which the lead form meets by itself."""
    page = browser_page
    demo = seed_demo()
    message = demo.messages.get(name="Blog: weekly newsletter")
    assert (message.goal_trigger, message.goal_window_hours, message.goal_condition) == (
        "click",
        168,
        "none",
    )
    page.goto(f"{live_server.url}/demo/blog/launch-week/")
    assert deliveries(page, 1) == [message.pk]
    visitor = anonymous_id(page)
    frame = page.frame_locator(FRAME)
    frame.get_by_role("textbox", name="Your e-mail address").fill("  Ada@Example.COM ")
    frame.get_by_role("button", name="Subscribe").click()

    # The thank-you replaces the form, inside the message, which stays on screen.
    expect(frame.get_by_role("status")).to_have_text(
        "Thanks! The next issue is on its way to your inbox."
    )
    expect(frame.get_by_role("button", name="Subscribe")).to_be_hidden()
    assert shown(page).count() == 1
    assert page.evaluate("cioanalytics.user().id()") == "ada@example.com"
    expect(page.locator("#demo-identity")).to_have_text("identified as ada@example.com")

    wait_for(lambda: identify_events(demo).exists(), what="the identify call")
    profile = db(lambda: Profile.objects.get(workspace=demo, user_id="ada@example.com"))
    assert (profile.email, profile.traits) == ("ada@example.com", {"email": "ada@example.com"})
    assert db(lambda: Visitor.objects.get(workspace=demo, anonymous_id=visitor).profile_id) == (
        profile.pk
    )
    click = db(message_events(demo, "clicked_content", message).get)
    assert (click.action_name, click.anonymous_id) == ("subscribe", visitor)
    assert db(identify_events(demo).get).payload["traits"] == {"email": "ada@example.com"}

    wait_for(lambda: Conversion.objects.filter(message=message).exists(), what="the conversion")
    conversion = db(lambda: Conversion.objects.get(message=message))
    assert (conversion.profile_id, conversion.anonymous_id) == (profile.pk, visitor)

    # Closing the thank-you is not a dismissal: the visitor answered the message.
    frame.get_by_role("button", name="Close").click()
    expect(shown(page)).to_have_count(0)
    page.evaluate("cioanalytics.flush()")
    page.wait_for_timeout(300)
    assert not db(message_events(demo, "dismissed_content", message).exists)

    roll_up(now=timezone.now() + timedelta(minutes=1))
    api_key = demo.rotate_api_key()
    metrics = client.get(
        reverse("metrics-api", args=[message.pk]), HTTP_AUTHORIZATION=f"Bearer {api_key}"
    ).json()
    assert metrics["clicks"] == {"total": 1, "byAction": {"subscribe": 1}}
    assert (metrics["conversions"], metrics["dismissals"]) == (1, 0)


def test_a_lead_with_a_name_sends_both_traits(browser_page, site, workspace):
    page = browser_page
    message = launched(workspace, content_html=lead_html(ask_name=True), display_type="overlay")
    page.goto(f"{site.url}/shop/pricing")
    deliveries(page, 1)
    frame = page.frame_locator(FRAME)
    frame.get_by_role("textbox", name="Your name").fill("  Ada   Lovelace ")
    frame.get_by_role("textbox", name="Your e-mail address").fill("ada@example.com")
    frame.get_by_role("textbox", name="Your e-mail address").press("Enter")
    expect(frame.get_by_role("status")).to_be_visible()
    wait_for(lambda: Profile.objects.filter(user_id="ada@example.com").exists(), what="identify")
    profile = db(lambda: Profile.objects.get(workspace=workspace, user_id="ada@example.com"))
    assert profile.traits == {"email": "ada@example.com", "name": "Ada Lovelace"}
    wait_for(lambda: message_events(workspace, "clicked_content", message).exists())


# Runs in the message frame: a lead posted by script, without the visitor pressing anything.
# It logs the SDK's answer: the test waits for that log line instead of evaluating script in
# the page, because Playwright's evaluate() counts as a user gesture.
FORGED_LEAD = """
<h1>Hello</h1>
<div data-lead><input type="email" name="email"><button data-action="join">Join</button></div>
<script>
  addEventListener("message", function (event) {
    if (event.data && event.data.anonmsg) console.log("sdk answered: " + event.data.anonmsg);
  });
  parent.postMessage({anonmsg: "lead", email: "victim@example.com", action: "join"}, "*");
</script>
"""

# A visitor sends the form; the message's script then tries to swap the identity.
SECOND_LEAD = """
<h1>Hello</h1>
<div data-lead><input type="email" name="email"><button data-action="join">Join</button></div>
<p data-lead-thanks hidden>Thanks</p>
<script>
  addEventListener("message", function (event) {
    if (event.data && event.data.anonmsg === "lead-accepted") {
      parent.postMessage({anonmsg: "lead", email: "victim@example.com", action: "join"}, "*");
      setTimeout(function () { parent.postMessage({probe: "sent again"}, "*"); }, 100);
    }
  });
</script>
"""


def test_a_message_script_cannot_identify_the_visitor_without_the_visitor(
    browser_page, site, workspace
):
    page = browser_page
    message = launched(workspace, content_html=FORGED_LEAD, display_type="overlay")
    with page.expect_console_message(lambda m: m.text.startswith("sdk answered")) as answer:
        page.goto(f"{site.url}/shop/pricing")
    assert answer.value.text == "sdk answered: lead-refused"
    wait_for(lambda: message_events(workspace, "viewed_content", message).exists(), what="view")
    page.evaluate("cioanalytics.flush()")
    page.wait_for_timeout(300)
    assert page.evaluate("cioanalytics.user().id()") is None
    assert not db(identify_events(workspace).exists)
    assert not db(message_events(workspace, "clicked_content", message).exists)


def test_a_message_script_cannot_identify_the_visitor_again_after_a_lead(
    browser_page, site, workspace
):
    page = browser_page
    launched(workspace, content_html=SECOND_LEAD, display_type="overlay")
    page.goto(f"{site.url}/shop/pricing")
    deliveries(page, 1)
    frame = page.frame_locator(FRAME)
    frame.locator("input[name=email]").fill("ada@example.com")
    frame.get_by_role("button", name="Join").click()
    page.wait_for_function("() => window.__probe === 'sent again'")
    page.wait_for_timeout(200)
    assert page.evaluate("cioanalytics.user().id()") == "ada@example.com"
    wait_for(lambda: identify_events(workspace).exists(), what="the identify call")
    page.evaluate("cioanalytics.flush()")
    page.wait_for_timeout(300)
    assert db(lambda: list(identify_events(workspace).values_list("user_id", flat=True))) == [
        "ada@example.com"
    ]
    assert not db(Profile.objects.filter(user_id="victim@example.com").exists)


# --- Button kinds ---------------------------------------------------------------------------


def test_the_demo_not_now_button_is_a_dismissal_not_a_click(browser_page, live_server):
    page = browser_page
    demo = seed_demo()
    message = demo.messages.get(name="Pricing: 20% off the first year")
    page.goto(f"{live_server.url}/demo/pricing/")
    assert deliveries(page, 1) == [message.pk]
    page.frame_locator(FRAME).get_by_role("button", name="Not now").click()
    expect(shown(page)).to_have_count(0)
    wait_for(lambda: message_events(demo, "dismissed_content", message).exists(), what="dismissal")
    assert not db(message_events(demo, "clicked_content", message).exists)
    page.reload()
    assert deliveries(page, 1) == []  # until dismissed


def test_a_link_button_takes_the_visitor_there_and_counts_nothing(browser_page, site, workspace):
    page = browser_page
    html = build_html(
        {
            "heading": "New pricing",
            "buttons": [
                {"kind": "action", "label": "Start trial", "action": "trial"},
                {"kind": "link", "label": "Read the terms", "url": "/shop/signup"},
            ],
        }
    )
    message = launched(workspace, content_html=html, display_type="modal")
    page.goto(f"{site.url}/shop/pricing")
    deliveries(page, 1)
    wait_for(lambda: message_events(workspace, "viewed_content", message).exists(), what="view")
    page.frame_locator(FRAME).get_by_role("link", name="Read the terms").click()
    page.wait_for_url(f"{site.url}/shop/signup")  # the page itself, not a new tab
    assert len(page.context.pages) == 1
    page.wait_for_timeout(300)
    assert db(
        lambda: list(
            Event.objects.filter(content_id=message.pk).values_list("action_type", flat=True)
        )
    ) == ["viewed_content"]
