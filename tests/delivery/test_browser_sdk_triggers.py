"""Display triggers in real Chromium (docs/sdk.md, Triggers): the server has chosen the message,
the SDK waits for its moment, and a view counts only when the message is really displayed.

Same host site (another origin), live server and Redis as test_browser_sdk.py, whose fixtures
these are. Time-based triggers run on Playwright's clock, so nothing waits for real seconds.
"""

import pytest
from playwright.sync_api import expect

from campaigns.lifecycle import pause_message
from delivery.models import Event
from delivery.preview.tokens import make_preview_token
from tests.delivery import test_browser_sdk as browser_sdk
from tests.delivery.test_browser_sdk import (
    db,
    deliveries,
    focus_in_modal,
    launched,
    message_events,
    shown,
    wait_for,
)
from tests.factories import AnonymousMessageFactory

host_site = browser_sdk.host_site
site = browser_sdk.site
browser_page = browser_sdk.browser_page
redis_as_in_production = browser_sdk.redis_as_in_production

pytestmark = pytest.mark.browser


def no_view_reported(page, workspace, message):
    """Nothing was reported for the message, though the SDK did send what it had queued (a
    track call made after the delivery answer is stored, so a view queued before it would be)."""
    page.evaluate("cioanalytics.track('Probe')")
    wait_for(
        lambda: Event.objects.filter(workspace=workspace, name="Probe").exists(),
        what="the probe event",
    )
    return not db(message_events(workspace, "viewed_content", message).exists)


def views(workspace, message) -> int:
    return db(message_events(workspace, "viewed_content", message).count)


def wait_for_one_view(workspace, message):
    wait_for(lambda: views(workspace, message) == 1, what="the view")


def test_a_delay_trigger_shows_the_message_after_n_seconds_and_only_then_counts_a_view(
    browser_page, site, workspace
):
    page = browser_page
    message = launched(workspace, display_type="overlay", trigger={"type": "delay", "seconds": 5})
    page.clock.install()
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [message.pk]
    page.clock.run_for(4_000)
    expect(shown(page)).to_have_count(0)
    assert no_view_reported(page, workspace, message)
    page.clock.run_for(1_500)
    expect(shown(page)).to_have_count(1)
    wait_for_one_view(workspace, message)


def test_a_delay_trigger_is_cancelled_when_the_visitor_identifies(browser_page, site, workspace):
    page = browser_page
    message = launched(workspace, display_type="overlay", trigger={"type": "delay", "seconds": 3})
    page.clock.install()
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [message.pk]
    page.evaluate("cioanalytics.identify('user-1')")
    page.clock.run_for(5_000)
    expect(shown(page)).to_have_count(0)
    assert no_view_reported(page, workspace, message)


LONG_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Long</title>{snippet}</head>"
    "<body style='margin:0'><h1>A long article</h1><div style='height:4000px'></div>"
    "<p>The end</p></body></html>"
)


def open_with_a_scroll_message(page, site, live_server, workspace, path: str, html: str):
    """`html` (with the snippet) served at `path`, a message shown at 50 % scrolled there,
    opened in a 1000 × 800 window; returns the message, once delivered."""
    page.set_viewport_size({"width": 1000, "height": 800})
    snippet = browser_sdk.render_snippet(base_url=live_server.url, write_key=workspace.write_key)
    site.pages[path] = html.format(snippet=snippet)
    message = launched(
        workspace,
        rule=path,
        display_type="banner",
        display_position="bottom",
        trigger={"type": "scroll", "percent": 50},
    )
    page.goto(f"{site.url}{path}")
    assert deliveries(page, 1) == [message.pk]
    return message


def test_a_scroll_trigger_shows_the_message_after_n_percent_of_the_page(
    browser_page, site, live_server, workspace
):
    page = browser_page
    message = open_with_a_scroll_message(
        page, site, live_server, workspace, "/shop/article", LONG_PAGE
    )
    room = page.evaluate("document.documentElement.scrollHeight - innerHeight")
    page.mouse.move(500, 400)
    page.mouse.wheel(0, room * 0.4)
    page.wait_for_function("y => scrollY >= y", arg=room * 0.4 - 2)
    page.wait_for_timeout(200)
    expect(shown(page)).to_have_count(0)
    assert no_view_reported(page, workspace, message)
    page.mouse.wheel(0, room * 0.15)
    expect(shown(page)).to_have_count(1)
    wait_for_one_view(workspace, message)


# An app shell: the page itself does not scroll, its main container does; a small scroller
# (a chat widget) beside it.
APP_SHELL = (
    "<!doctype html><html style='height:100%;overflow:hidden'><head><meta charset='utf-8'>"
    "<title>App</title>{snippet}</head><body style='margin:0;height:100%;overflow:hidden'>"
    "<main id='feed' style='height:100vh;overflow-y:auto'><h1>Feed</h1>"
    "<div style='height:4000px'></div></main>"
    "<div id='widget' style='position:fixed;left:0;bottom:0;width:200px;height:100px;"
    "overflow-y:auto'><div style='height:1000px'>Chat</div></div></body></html>"
)


def test_in_an_app_shell_the_scroll_trigger_follows_the_main_container_not_small_scrollers(
    browser_page, site, live_server, workspace
):
    page = browser_page
    message = open_with_a_scroll_message(page, site, live_server, workspace, "/shop/app", APP_SHELL)
    # The page cannot scroll, yet it is not "too short to scroll": nothing shows at once.
    assert page.evaluate("document.documentElement.scrollHeight - innerHeight") <= 1
    room = page.evaluate("(() => { const m = document.getElementById('feed'); "
                         "return m.scrollHeight - m.clientHeight; })()")  # fmt: skip
    # The chat widget scrolled to its end is not the page being read.
    page.evaluate("document.getElementById('widget').scrollTop = 10000")
    page.wait_for_function("document.getElementById('widget').scrollTop > 800")
    page.evaluate("y => { document.getElementById('feed').scrollTop = y; }", room * 0.4)
    page.wait_for_timeout(300)
    expect(shown(page)).to_have_count(0)
    assert no_view_reported(page, workspace, message)
    page.evaluate("y => { document.getElementById('feed').scrollTop = y; }", room * 0.55)
    expect(shown(page)).to_have_count(1)
    wait_for_one_view(workspace, message)


def test_exit_intent_needs_two_seconds_on_the_page_then_the_pointer_leaving_through_the_top(
    browser_page, site, workspace
):
    page = browser_page
    message = launched(workspace, display_type="modal", trigger={"type": "exit_intent"})
    page.clock.install()
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [message.pk]
    page.mouse.move(300, 300)
    page.mouse.move(300, -10)  # too early: under 2 s on the page
    expect(shown(page)).to_have_count(0)
    page.clock.run_for(2_500)
    page.mouse.move(300, 300)
    page.mouse.move(0, 300)
    page.mouse.move(-10, 300)  # out through the left edge: not an exit
    page.mouse.move(300, 300)
    expect(shown(page)).to_have_count(0)
    assert no_view_reported(page, workspace, message)
    page.mouse.move(300, 5)
    page.mouse.move(300, -10)
    expect(shown(page)).to_have_count(1)
    wait_for_one_view(workspace, message)


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(
        has_touch=True, is_mobile=True, viewport={"width": 390, "height": 800}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.add_init_script(browser_sdk.INIT_SCRIPT)
    yield page
    context.route("**/*", lambda route: route.abort())
    context.close()


@pytest.mark.parametrize("fallback", [None, 8])
def test_exit_intent_on_a_touch_screen_waits_only_for_its_fallback(
    phone_page, site, workspace, fallback
):
    page = phone_page
    message = launched(
        workspace,
        display_type="overlay",
        trigger={"type": "exit_intent", "fallbackSeconds": fallback},
    )
    page.clock.install()
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [message.pk]
    page.clock.run_for(7_000)
    expect(shown(page)).to_have_count(0)
    page.clock.run_for(2_000)
    expect(shown(page)).to_have_count(1 if fallback else 0)
    if fallback:
        wait_for_one_view(workspace, message)
    else:
        assert no_view_reported(page, workspace, message)


def test_an_inactivity_trigger_waits_for_n_seconds_without_pointer_key_or_scroll(
    browser_page, site, workspace
):
    page = browser_page
    message = launched(
        workspace, display_type="overlay", trigger={"type": "inactivity", "seconds": 10}
    )
    page.clock.install()
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [message.pk]
    page.clock.run_for(6_000)
    page.mouse.move(200, 200)  # activity: the 10 s start again
    page.clock.run_for(6_000)
    page.keyboard.press("Tab")
    page.clock.run_for(6_000)
    expect(shown(page)).to_have_count(0)
    assert no_view_reported(page, workspace, message)
    page.clock.run_for(4_500)
    expect(shown(page)).to_have_count(1)
    wait_for_one_view(workspace, message)


def test_a_click_trigger_follows_the_selector_even_on_elements_added_later(
    browser_page, site, workspace
):
    page = browser_page
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    message = launched(
        workspace,
        display_type="overlay",
        display_position="bottom-right",
        trigger={"type": "click", "selector": ".buy, #host-button"},
    )
    # Accepted by the server's CSS parser (cssselect), refused by browsers: skips only itself.
    refused = launched(
        workspace,
        display_type="overlay",
        display_position="top-left",
        trigger={"type": "click", "selector": "button:contains('Host')"},
    )
    page.goto(f"{site.url}/shop/pricing")
    assert sorted(deliveries(page, 1)) == sorted([message.pk, refused.pk])
    page.click("#title")
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', '<p><span class=buy><b>Buy</b></span></p>')"
    )
    expect(shown(page)).to_have_count(0)
    page.click(".buy b")  # a child of a matching element
    expect(shown(page)).to_have_count(1)
    assert shown(page).get_attribute("data-anonmsg-message") == str(message.pk)
    page.click("#host-button")
    expect(shown(page)).to_have_count(1)
    wait_for_one_view(workspace, message)
    assert not db(message_events(workspace, "viewed_content", refused).exists)
    assert errors == []


def test_a_triggered_modal_waits_while_another_modal_is_open(browser_page, site, workspace):
    page = browser_page
    reading = launched(workspace, rule="/shop/pricing", display_type="modal")
    waiting = launched(
        workspace,
        rule="/shop/home",
        display_type="modal",
        trigger={"type": "delay", "seconds": 2},
    )
    page.clock.install()
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [reading.pk]
    expect(shown(page)).to_have_count(1)
    # An SPA route change: the open modal no longer matches but stays (it is being read).
    page.evaluate("history.pushState({}, '', '/shop/home')")
    assert deliveries(page, 2) == [waiting.pk]
    page.clock.run_for(3_000)
    expect(shown(page)).to_have_count(1)
    assert shown(page).get_attribute("data-anonmsg-message") == str(reading.pk)
    assert no_view_reported(page, workspace, waiting)
    focus_in_modal(page)
    page.keyboard.press("Escape")
    expect(page.locator(f'[data-anonmsg-message="{waiting.pk}"]')).to_have_count(1)
    expect(shown(page)).to_have_count(1)
    wait_for_one_view(workspace, waiting)


def test_a_preview_shows_a_triggered_message_at_once_with_a_notice(browser_page, site, workspace):
    page = browser_page
    draft = AnonymousMessageFactory(
        workspace=workspace,
        content_html=browser_sdk.ACTION_HTML,
        display_type="modal",
        trigger={"type": "scroll", "percent": 80},
    )
    token = make_preview_token(workspace_id=workspace.pk, message_id=draft.pk)
    page.goto(f"{site.url}/shop/home?anonmsg_preview={token}")
    assert deliveries(page, 1) == [draft.pk]
    expect(shown(page)).to_have_count(1)  # no scrolling needed
    notice = shown(page).locator("p").first
    expect(notice).to_have_text(
        "Preview, shown at once. Visitors see it after the visitor scrolls 80 % of the page."
    )
    page.frame_locator("[data-anonmsg-message] iframe").get_by_role(
        "button", name="Later"
    ).wait_for()
    page.screenshot(path="/tmp/sdk-preview-notice.png")


def test_a_poll_keeps_a_pending_trigger_running_and_cancels_a_paused_message(
    browser_page, site, workspace
):
    page = browser_page
    kept = launched(workspace, display_type="overlay", trigger={"type": "delay", "seconds": 50})
    paused = launched(workspace, display_type="banner", trigger={"type": "delay", "seconds": 50})
    page.clock.install()
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [kept.pk, paused.pk]
    pause_message(message=paused)
    page.clock.run_for(31_000)  # the poll (pollInterval 30 s): same page, `paused` gone
    assert deliveries(page, 2) == [kept.pk]
    page.clock.run_for(15_000)
    expect(shown(page)).to_have_count(0)
    page.clock.run_for(5_000)  # 50 s after the first answer, not after the poll
    expect(shown(page)).to_have_count(1)
    assert shown(page).get_attribute("data-anonmsg-message") == str(kept.pk)
    wait_for_one_view(workspace, kept)
    assert views(workspace, paused) == 0


def test_an_exit_intent_modal_first_in_priority_shows_after_the_page_load_modal_is_dismissed(
    browser_page, site, workspace
):
    """The server no longer lets a modal waiting for exit intent keep a page-load modal out
    (docs/delivery-api.md, Display slots): both arrive, the page-load one shows, and the exit
    intent's shows once it is dismissed and the pointer leaves through the top."""
    page = browser_page
    leaving = launched(workspace, display_type="modal", priority=1, trigger={"type": "exit_intent"})
    on_load = launched(workspace, display_type="modal", priority=2)
    page.clock.install()
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [leaving.pk, on_load.pk]
    expect(shown(page)).to_have_count(1)
    assert shown(page).get_attribute("data-anonmsg-message") == str(on_load.pk)
    wait_for_one_view(workspace, on_load)
    focus_in_modal(page)
    page.keyboard.press("Escape")
    expect(shown(page)).to_have_count(0)
    wait_for(
        lambda: message_events(workspace, "dismissed_content", on_load).exists(),
        what="the dismissal",
    )
    page.clock.run_for(2_500)
    page.mouse.move(300, 300)
    expect(shown(page)).to_have_count(0)
    assert no_view_reported(page, workspace, leaving)
    page.mouse.move(300, 5)
    page.mouse.move(300, -10)
    expect(shown(page)).to_have_count(1)
    assert shown(page).get_attribute("data-anonmsg-message") == str(leaving.pk)
    wait_for_one_view(workspace, leaving)
