"""The browser SDK in real Chromium, on a page served from another origin than the API.

The API (delivery, tracking, the SDK script) is pytest-django's live server on
http://localhost:<port>; the customer's page is served by a tiny `http.server` on
http://127.0.0.1:<other port> and carries the snippet exactly as Settings → In-app renders it.
"""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from django.db import OperationalError
from django.utils import timezone
from playwright.sync_api import expect

from anonmsg.snippet import render_snippet
from delivery.models import Event, Visitor, VisitorMessageState
from delivery.preview.tokens import make_preview_token
from tests.factories import AnonymousMessageFactory, PageRuleFactory

pytestmark = pytest.mark.browser

ACTION_HTML = """
<div style="padding:20px;font-family:sans-serif">
  <h1>Spring sale</h1>
  <button data-action="claim" data-url="/shop/signup">Claim 20% off</button>
  <button data-action="later">Later</button>
  <button data-dismiss aria-label="Close">×</button>
</div>
"""

# Runs in the host page before the snippet: records what the SDK delivered (through its
# `on()` API, queued like any call made before the SDK loads) and what a message posted.
INIT_SCRIPT = """
window.__deliveries = [];
window.__probe = null;
window.addEventListener("message", (event) => {
  if (event.data && event.data.probe) window.__probe = event.data.probe;
});
window.cioanalytics = [["on", "in-app:delivered", (messages) => {
  window.__deliveries.push(messages.map((m) => m.id));
}]];
"""


class HostSite:
    """The customer's website: static HTML pages on another origin than the API."""

    def __init__(self):
        self.pages: dict[str, str] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = site.pages.get(urlsplit(self.path).path)
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def host_site():
    site = HostSite()
    yield site
    site.stop()


@pytest.fixture(autouse=True)
def redis_as_in_production(redis_cache):
    # As in production with REDIS_URL: the cache is Redis and delivery reads visitors' states
    # from it, so every frequency check below also checks the cache's invalidation.
    return redis_cache


@pytest.fixture
def site(host_site, live_server, workspace):
    """Serve the host pages with this workspace's snippet pointing at the live server."""
    snippet = render_snippet(base_url=live_server.url, write_key=workspace.write_key)
    host_site.pages.clear()
    for path in ("/shop/pricing", "/shop/signup", "/shop/blog", "/shop/home"):
        host_site.pages[path] = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Shop</title>"
            f"{snippet}</head><body><h1 id='title'>Shop page {path}</h1>"
            "<button id='host-button'>Host button</button><div id='slot'></div>"
            "<script>document.cookie = 'host_secret=keep; path=/';"
            "localStorage.setItem('host_secret', 'keep');</script></body></html>"
        )
    assert urlsplit(live_server.url).netloc != urlsplit(host_site.url).netloc
    return host_site


@pytest.fixture
def browser_page(page):
    page.add_init_script(INIT_SCRIPT)
    return page


def launched(workspace, *, rule="/shop/pricing", **fields):
    fields.setdefault("content_html", ACTION_HTML)
    message = AnonymousMessageFactory(workspace=workspace, launched=True, **fields)
    if rule:
        PageRuleFactory(message=message, operator="is", value=rule)
    return message


def wait_for(condition, *, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db(condition):
            return
        time.sleep(0.1)
    raise AssertionError(f"Timed out waiting for {what}")


def db(read):
    """Run a read, retrying while the live server holds a lock (in-memory SQLite shares one
    connection between the test and the server threads; PostgreSQL never needs the retry)."""
    for _ in range(50):
        try:
            return read()
        except OperationalError:
            time.sleep(0.05)
    return read()


def deliveries(page, count):
    """Wait for the SDK's `count`-th delivery answer on this page; return the ids delivered."""
    page.wait_for_function("n => window.__deliveries.length >= n", arg=count)
    return page.evaluate("window.__deliveries")[count - 1]


def shown(page):
    return page.locator("[data-anonmsg-message]")


def focus_in_modal(page):
    """Wait until the shown modal's frame has loaded and taken the focus (a key pressed before
    would race the focus moving into it)."""
    page.frame_locator("[data-anonmsg-message] iframe").locator("body").wait_for()
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.tagName === 'IFRAME'"
        " && document.activeElement.closest('[data-anonmsg-message]')"
    )


def message_events(workspace, action_type, message):
    return Event.objects.filter(workspace=workspace, action_type=action_type, content_id=message.pk)


def anonymous_id(page) -> str:
    return page.evaluate("cioanalytics.user().anonymousId()")


# --- Showing a message, clicking it ------------------------------------------------------------


def test_a_message_appears_at_its_position_and_a_click_is_recorded_then_followed(
    browser_page, site, workspace
):
    page = browser_page
    requests = []
    page.on("request", lambda request: requests.append(request))
    message = launched(
        workspace,
        display_type="overlay",
        display_position="top-left",
        name="Team only: Q2 discount push",
    )
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [message.pk]

    root = shown(page)
    assert root.get_attribute("data-anonmsg-message") == str(message.pk)
    assert root.get_attribute("data-anonmsg-display") == "overlay"
    assert root.get_attribute("data-anonmsg-position") == "top-left"
    frame_element = root.locator("iframe")
    assert frame_element.get_attribute("sandbox") == "allow-scripts allow-popups"
    # Visitors hear the content's heading; the internal name never reaches the page.
    assert frame_element.get_attribute("title") == "Spring sale"
    assert page.locator('[role="dialog"]').get_attribute("aria-label") == "Spring sale"
    assert "Team only" not in page.content()
    frame = page.frame_locator("[data-anonmsg-message] iframe")
    button = frame.get_by_role("button", name="Claim 20% off")
    button.wait_for()
    box = root.bounding_box()
    viewport = page.viewport_size
    assert box["x"] < 40 and box["y"] < 40
    assert box["x"] + box["width"] < viewport["width"] / 2 + 200

    wait_for(lambda: message_events(workspace, "viewed_content", message).exists(), what="view")
    button.click()
    page.wait_for_url(f"{site.url}/shop/signup")
    wait_for(lambda: message_events(workspace, "clicked_content", message).exists(), what="click")
    click = db(message_events(workspace, "clicked_content", message).get)
    assert click.action_name == "claim"
    properties = click.payload["properties"]
    assert properties == {
        "actionType": "clicked_content",
        "contentId": message.pk,
        "contentType": "in_app_content",
        "actionName": "claim",
        "actionValue": f"{site.url}/shop/signup",
    }
    assert click.anonymous_id
    # Events go out as text/plain to the API's /v1/batch: a simple request, no preflight.
    batches = [r for r in requests if r.url.endswith("/v1/batch")]
    assert batches and all(r.method == "POST" for r in batches)
    assert batches[0].headers["content-type"].startswith("text/plain")
    assert not [r for r in requests if r.method == "OPTIONS"]


def test_events_carry_the_anonymous_id_kept_in_storage_and_cookie(browser_page, site, workspace):
    page = browser_page
    page.goto(f"{site.url}/shop/home")
    deliveries(page, 1)
    anon = anonymous_id(page)
    assert len(anon) == 36 and anon[14] == "4"  # a UUID v4
    assert page.evaluate("JSON.parse(localStorage.getItem('ajs_anonymous_id'))") == anon
    cookies = {c["name"]: c["value"] for c in page.context.cookies(site.url)}
    assert cookies["ajs_anonymous_id"] == anon
    wait_for(lambda: Event.objects.filter(workspace=workspace, type="page").exists(), what="page")
    event = Event.objects.get(workspace=workspace, type="page")
    assert event.anonymous_id == anon
    payload = event.payload
    assert payload["messageId"] and payload["sentAt"]
    assert payload["context"]["library"] == {"name": "anonmsg.js", "version": "1.0.0"}
    assert payload["context"]["page"]["path"] == "/shop/home"
    assert payload["context"]["userAgent"]
    page.reload()
    deliveries(page, 1)
    assert anonymous_id(page) == anon  # kept across visits


def test_unsent_events_survive_a_reload_and_are_sent_later(browser_page, site, workspace):
    page = browser_page
    page.route("**/v1/batch", lambda route: route.abort())
    page.goto(f"{site.url}/shop/home")
    deliveries(page, 1)
    page.evaluate("cioanalytics.track('Pricing Viewed', {plan: 'team'})")
    page.wait_for_function(
        "() => (JSON.parse(localStorage.getItem('anonmsg_queue')) || []).length >= 2"
    )
    assert not db(Event.objects.filter(workspace=workspace).exists)
    page.unroute("**/v1/batch")
    page.reload()
    wait_for(
        lambda: Event.objects.filter(workspace=workspace, name="Pricing Viewed").exists(),
        what="the queued track",
    )
    wait_for(
        lambda: Event.objects.filter(workspace=workspace, type="page").count() == 2,
        what="both page events",
    )
    page.wait_for_function("() => localStorage.getItem('anonmsg_queue') === null")


# --- Frequency -----------------------------------------------------------------------------------


def test_a_reload_respects_the_frequency(browser_page, site, workspace):
    page = browser_page
    message = launched(workspace, frequency_mode="times", frequency_times=2)
    for view in (1, 2):
        if view == 1:
            page.goto(f"{site.url}/shop/pricing")
        else:
            page.reload()
        assert deliveries(page, 1) == [message.pk]
        wait_for(
            lambda n=view: message_events(workspace, "viewed_content", message).count() == n,
            what=f"view {view}",
        )
    page.reload()
    assert deliveries(page, 1) == []
    expect(shown(page)).to_have_count(0)
    state = db(lambda: VisitorMessageState.objects.get(message=message))
    assert state.views == 2


def test_a_dismissal_stops_the_message(browser_page, site, workspace):
    page = browser_page
    message = launched(workspace, display_type="modal", display_position="center")
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [message.pk]
    frame = page.frame_locator("[data-anonmsg-message] iframe")
    frame.get_by_role("button", name="Close").click()
    expect(shown(page)).to_have_count(0)
    wait_for(
        lambda: message_events(workspace, "dismissed_content", message).exists(),
        what="the dismissal",
    )
    page.reload()
    assert deliveries(page, 1) == []
    expect(shown(page)).to_have_count(0)


def test_a_modal_is_an_accessible_dialog_closed_by_escape_with_focus_restored(
    browser_page, site, workspace
):
    page = browser_page
    message = launched(workspace, rule="/shop/blog", display_type="modal", display_position="top")
    page.goto(f"{site.url}/shop/home")
    assert deliveries(page, 1) == []
    page.focus("#host-button")
    # A single-page app changes its URL and calls page(): the SDK asks again.
    page.evaluate("history.pushState({}, '', '/shop/blog'); cioanalytics.page()")
    assert deliveries(page, 2) == [message.pk]
    dialog = page.get_by_role("dialog")
    assert dialog.get_attribute("aria-modal") == "true"
    backdrop = shown(page)
    assert backdrop.get_attribute("data-anonmsg-position") == "top"
    focus_in_modal(page)
    box = dialog.bounding_box()
    assert box["y"] < 40  # positioned at the top
    page.keyboard.press("Escape")
    expect(shown(page)).to_have_count(0)
    assert page.evaluate("document.activeElement.id") == "host-button"
    wait_for(lambda: message_events(workspace, "dismissed_content", message).exists())


def test_escape_on_the_page_side_of_a_modal_closes_it_too(browser_page, site, workspace):
    """Focus on the dialog's box (the page's side, not the frame): the page's own listener
    closes the modal when the key is released, and the dismissal is reported."""
    page = browser_page
    message = launched(workspace, display_type="modal")
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [message.pk]
    focus_in_modal(page)
    page.get_by_role("dialog").focus()
    assert page.evaluate("document.activeElement.getAttribute('role')") == "dialog"
    page.keyboard.down("Escape")
    expect(shown(page)).to_have_count(1)  # closed on release, not while the key is down
    page.keyboard.up("Escape")
    expect(shown(page)).to_have_count(0)
    wait_for(lambda: message_events(workspace, "dismissed_content", message).exists())


@pytest.mark.parametrize("close_on_backdrop", [True, False])
def test_a_backdrop_click_closes_a_modal_unless_turned_off(
    browser_page, site, workspace, close_on_backdrop
):
    page = browser_page
    message = launched(workspace, display_type="modal", close_on_backdrop=close_on_backdrop)
    page.goto(f"{site.url}/shop/pricing")
    deliveries(page, 1)
    page.frame_locator("[data-anonmsg-message] iframe").get_by_role(
        "button", name="Later"
    ).wait_for()
    page.mouse.click(5, 5)
    if close_on_backdrop:
        expect(shown(page)).to_have_count(0)
        wait_for(lambda: message_events(workspace, "dismissed_content", message).exists())
    else:
        page.wait_for_timeout(200)
        assert shown(page).count() == 1


@pytest.mark.parametrize("edge", ["top", "bottom"])
def test_a_banner_pushes_the_page_instead_of_covering_it(browser_page, site, workspace, edge):
    page = browser_page
    page.set_viewport_size({"width": 800, "height": 400})
    site.pages["/shop/long"] = site.pages["/shop/pricing"].replace(
        "</body>",
        "<div style='height:1000px'></div><p id='last' style='margin:0;height:40px'>The end</p>"
        "</body>",
    )
    launched(workspace, rule="/shop/long", display_type="banner", display_position=edge)
    page.goto(f"{site.url}/shop/long")
    deliveries(page, 1)
    banner = page.frame_locator("[data-anonmsg-message] iframe").get_by_role("button", name="Later")
    banner.wait_for()
    page.wait_for_function(  # the frame has reported its height
        "() => document.querySelector('[data-anonmsg-message] iframe').offsetHeight > 20"
    )
    box = shown(page).bounding_box()
    if edge == "top":
        title = page.locator("#title").bounding_box()
        assert title["y"] >= box["y"] + box["height"]  # below the banner, not under it
    else:
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        last = page.locator("#last").bounding_box()
        assert last["y"] + last["height"] <= box["y"] + 1  # the end stays above the banner
    banner.click()
    expect(shown(page)).to_have_count(0)
    assert page.evaluate("document.documentElement.style.cssText") == ""


def test_an_action_without_url_closes_the_message_and_counts_as_a_response(
    browser_page, site, workspace
):
    page = browser_page
    message = launched(workspace, display_type="banner", display_position="bottom")
    page.goto(f"{site.url}/shop/pricing")
    deliveries(page, 1)
    box = shown(page).bounding_box()
    assert box["y"] + box["height"] >= page.viewport_size["height"] - 2  # at the bottom
    page.frame_locator("[data-anonmsg-message] iframe").get_by_role("button", name="Later").click()
    expect(shown(page)).to_have_count(0)
    assert page.url == f"{site.url}/shop/pricing"
    wait_for(lambda: message_events(workspace, "clicked_content", message).exists())
    assert db(message_events(workspace, "clicked_content", message).get).action_name == "later"
    assert not db(message_events(workspace, "dismissed_content", message).exists)
    page.reload()
    assert deliveries(page, 1) == []  # until dismissed: a response stops it too


# --- Identity -------------------------------------------------------------------------------------


def test_after_identify_nothing_anonymous_is_shown(browser_page, site, workspace):
    page = browser_page
    delivery_requests = []
    page.on(
        "request",
        lambda r: "/api/v1/delivery" in r.url and delivery_requests.append(r.url),
    )
    launched(workspace, frequency_mode="always")
    page.goto(f"{site.url}/shop/pricing")
    assert len(deliveries(page, 1)) == 1
    assert shown(page).count() == 1
    page.evaluate("cioanalytics.identify('user-42', {email: 'ada@example.com'})")
    expect(shown(page)).to_have_count(0)
    asked = len(delivery_requests)
    page.evaluate("cioanalytics.page()")
    wait_for(
        lambda: Visitor.objects.filter(workspace=workspace, profile__user_id="user-42").exists(),
        what="the identify call",
    )
    page.reload()
    page.wait_for_function("() => window.cioanalytics && window.cioanalytics.initialized")
    page.evaluate("cioanalytics.page()")
    page.wait_for_timeout(300)
    assert len(delivery_requests) == asked  # identified: the SDK no longer asks
    expect(shown(page)).to_have_count(0)
    assert page.evaluate("cioanalytics.user().id()") == "user-42"


def test_reset_starts_a_new_anonymous_visitor(browser_page, site, workspace):
    page = browser_page
    page.goto(f"{site.url}/shop/home")
    deliveries(page, 1)
    first = anonymous_id(page)
    page.evaluate("cioanalytics.identify('user-7'); cioanalytics.reset()")
    assert page.evaluate("cioanalytics.user().id()") is None
    assert anonymous_id(page) != first


# --- Display types ----------------------------------------------------------------------------------


def test_an_inline_message_renders_into_its_element_and_not_at_all_without_it(
    browser_page, site, workspace
):
    page = browser_page
    inline = launched(workspace, display_type="inline", display_element_id="slot")
    missing = launched(
        workspace, display_type="inline", display_element_id="no-such-element", priority=2
    )
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [inline.pk, missing.pk]
    assert page.locator("#slot [data-anonmsg-message]").get_attribute(
        "data-anonmsg-message"
    ) == str(inline.pk)
    assert shown(page).count() == 1
    page.frame_locator("#slot iframe").get_by_role("button", name="Later").wait_for()
    # The frame grows to its content's height.
    page.wait_for_function("() => document.querySelector('#slot iframe').offsetHeight > 60")
    wait_for(lambda: message_events(workspace, "viewed_content", inline).exists())
    assert not db(message_events(workspace, "viewed_content", missing).exists)


def test_one_modal_at_a_time_across_page_calls(browser_page, site, workspace):
    page = browser_page
    first = launched(workspace, rule="/shop/pricing", display_type="modal", close_on_backdrop=False)
    second = launched(
        workspace, rule=None, display_type="modal", frequency_mode="always", priority=5
    )
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [first.pk]
    page.evaluate("history.pushState({}, '', '/shop/home'); cioanalytics.page()")
    assert second.pk in deliveries(page, 2)
    assert shown(page).count() == 1
    assert shown(page).get_attribute("data-anonmsg-message") == str(first.pk)


# --- The sandbox ---------------------------------------------------------------------------------

HOSTILE_HTML = """
<p>Hello</p>
<script>
  var results = {};
  function attempt(name, fn) {
    try { results[name] = "succeeded: " + String(fn()); } catch (e) { results[name] = "blocked: " + e.name; }
  }
  attempt("readParentDom", function () { return parent.document.body.innerHTML.length; });
  attempt("writeParentDom", function () { parent.document.getElementById("title").textContent = "pwned"; return 1; });
  attempt("readTopCookie", function () { return top.document.cookie; });
  attempt("ownCookie", function () { document.cookie = "host_secret=pwned; path=/"; return document.cookie; });
  attempt("readParentStorage", function () { return parent.localStorage.getItem("host_secret"); });
  attempt("ownStorage", function () { localStorage.setItem("host_secret", "pwned"); return 1; });
  attempt("navigateTop", function () { top.location.href = "https://example.invalid/"; return 1; });
  attempt("parentTitle", function () { parent.document.title = "pwned"; return 1; });
  // The probe first: the action closes the message, and a removed frame's later messages may
  // never arrive.
  parent.postMessage({probe: results}, "*");
  parent.postMessage({anonmsg: "action", name: "evil", url: "javascript:document.title='pwned'"}, "*");
</script>
"""


def test_a_message_cannot_read_or_change_the_host_page(browser_page, site, workspace):
    page = browser_page
    message = launched(workspace, content_html=HOSTILE_HTML, frequency_mode="always")
    page.goto(f"{site.url}/shop/pricing")
    assert deliveries(page, 1) == [message.pk]
    page.wait_for_function("() => window.__probe !== null")
    probe = page.evaluate("window.__probe")
    for name, outcome in probe.items():
        assert outcome.startswith("blocked"), (name, outcome)
    page.wait_for_timeout(500)  # give a top navigation, if any, the time to start
    assert page.url == f"{site.url}/shop/pricing"
    assert page.title() == "Shop"
    assert page.text_content("#title") == "Shop page /shop/pricing"
    assert page.evaluate("localStorage.getItem('host_secret')") == "keep"
    assert "host_secret=keep" in page.evaluate("document.cookie")
    assert "pwned" not in json.dumps(page.context.cookies())
    assert page.evaluate("JSON.parse(localStorage.getItem('ajs_anonymous_id'))")


# --- Preview --------------------------------------------------------------------------------------


def test_a_preview_link_forces_a_draft_on_without_counting_it(browser_page, site, workspace):
    page = browser_page
    draft = AnonymousMessageFactory(workspace=workspace, content_html=ACTION_HTML)
    PageRuleFactory(message=draft, value="/elsewhere")
    token = make_preview_token(workspace_id=workspace.pk, message_id=draft.pk)
    page.goto(f"{site.url}/shop/home?anonmsg_preview={token}")
    assert deliveries(page, 1) == [draft.pk]
    assert shown(page).count() == 1
    # The preview follows the marketer around the site (single-page navigation too).
    page.evaluate("history.pushState({}, '', '/shop/blog'); cioanalytics.page()")
    deliveries(page, 2)
    page.wait_for_timeout(300)
    wait_for(lambda: Event.objects.filter(workspace=workspace, type="page").count() == 2)
    assert not db(Event.objects.filter(workspace=workspace, content_id=draft.pk).exists)
    assert draft.state == "draft"
    assert timezone.now()


# --- A strict Content-Security-Policy on the host page ----------------------------------------


def test_a_strict_csp_needs_only_this_server_and_the_pages_nonce(
    browser_page, host_site, live_server, workspace
):
    """script-src: a nonce + this server; connect-src: this server; frame-src 'none' (a srcdoc
    frame is not fetched); the frame inherits the policy, so its bridge carries the nonce."""
    page = browser_page
    nonce = "n0nce4test"
    api = live_server.url
    policy = (
        f"default-src 'self'; script-src 'nonce-{nonce}' {api}; connect-src {api}; "
        "style-src 'self'; img-src 'self'; frame-src 'none'"
    )
    snippet = render_snippet(base_url=api, write_key=workspace.write_key)
    host_site.pages["/strict/pricing"] = (
        f"<!doctype html><html><head><meta http-equiv='Content-Security-Policy' "
        f'content="{policy}"><title>Strict</title>'
        f"{snippet.replace('<script>', f'<script nonce={nonce}>', 1)}</head>"
        "<body><h1>Strict page</h1></body></html>"
    )
    violations = []
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and violations.append(m.text),
    )
    message = launched(
        workspace,
        rule="/strict/pricing",
        display_type="modal",
        content_html="<style>h1 { color: rgb(1, 2, 3) }</style>" + ACTION_HTML,
    )
    page.goto(f"{host_site.url}/strict/pricing")
    assert deliveries(page, 1) == [message.pk]
    frame = page.frame_locator("[data-anonmsg-message] iframe")
    # The policy refused the message's <style> and style attribute (see the violations below);
    # the frame's bridge applied the same CSS through the CSSOM (docs/sdk.md).
    expect(frame.locator("h1")).to_have_css("color", "rgb(1, 2, 3)")
    expect(frame.locator("div").first).to_have_css("padding-top", "20px")
    expect(frame.locator("body")).to_have_css("margin-top", "0px")
    assert any("style-src" in v for v in violations)
    frame.get_by_role("button", name="Later").click()
    expect(shown(page)).to_have_count(0)
    wait_for(lambda: message_events(workspace, "clicked_content", message).exists())
    blocked = [v for v in violations if re.search(r"directive '(script|connect|frame)-src", v)]
    assert blocked == []


def test_a_bad_preview_token_falls_back_to_what_a_visitor_sees(browser_page, site, workspace):
    page = browser_page
    live = launched(workspace)
    page.goto(f"{site.url}/shop/pricing?anonmsg_preview=expired-or-forged")
    assert deliveries(page, 1) == [live.pk]
    assert page.evaluate("sessionStorage.getItem('anonmsg_preview')") is None


def test_an_event_the_server_refuses_does_not_hold_back_the_others(browser_page, site, workspace):
    page = browser_page
    page.route("**/v1/batch", lambda route: route.abort())
    page.goto(f"{site.url}/shop/home")
    deliveries(page, 1)
    page.evaluate(
        "cioanalytics.track('Too Big', {blob: 'x'.repeat(40000)});"
        "cioanalytics.track('Small One', {ok: true})"
    )
    page.unroute("**/v1/batch")
    page.evaluate("cioanalytics.flush()")
    wait_for(
        lambda: Event.objects.filter(workspace=workspace, name="Small One").exists(),
        what="the good event",
    )
    page.wait_for_function("() => localStorage.getItem('anonmsg_queue') === null")
    assert db(Event.objects.filter(workspace=workspace, type="page").exists)
    assert not db(Event.objects.filter(workspace=workspace, name="Too Big").exists)
