"""Single-page apps and the visit's context in real Chromium (docs/sdk.md): the SDK follows
history changes with the seed snippet verbatim, and sends the session's source and counts with
every delivery request.

Same host site (another origin), live server and Redis as test_browser_sdk.py, whose fixtures
these are. The test app below routes with history.pushState and never calls page() itself.
"""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from anonmsg.snippet import render_snippet
from delivery.models import Event
from tests.delivery import test_browser_sdk as browser_sdk
from tests.delivery.test_browser_sdk import (
    db,
    deliveries,
    launched,
    message_events,
    shown,
    wait_for,
)

host_site = browser_sdk.host_site
site = browser_sdk.site
browser_page = browser_sdk.browser_page
redis_as_in_production = browser_sdk.redis_as_in_production

pytestmark = pytest.mark.browser

SPA = """<!doctype html><html><head><meta charset="utf-8"><title>App</title>{snippet}</head>
<body><nav><a href="/app/home" data-route>Home</a> <a href="/app/pricing" data-route>Pricing</a>
<a href="#faq">FAQ</a></nav><main id="view"></main>
<script>
function render() {{ document.getElementById("view").textContent = "View " + location.pathname; }}
document.addEventListener("click", function (event) {{
  var link = event.target.closest("a[data-route]");
  if (!link) return;
  event.preventDefault();
  history.pushState({{}}, "", link.getAttribute("href"));
  render();
}});
addEventListener("popstate", render);
render();
</script></body></html>"""


@pytest.fixture
def app(site, live_server, workspace):
    """The test app at /app/home and /app/pricing (one document, routed client-side)."""
    snippet = render_snippet(base_url=live_server.url, write_key=workspace.write_key)
    for path in ("/app/home", "/app/pricing"):
        site.pages[path] = SPA.format(snippet=snippet)
    return site


def record_delivery_queries(page) -> list[dict]:
    """The query of every delivery request the page sends, as {name: value}."""
    queries = []

    def on_request(request):
        parts = urlsplit(request.url)
        if parts.path == "/api/v1/delivery":
            queries.append({name: values[-1] for name, values in parse_qs(parts.query).items()})

    page.on("request", on_request)
    return queries


def page_paths(workspace) -> list[str]:
    events = Event.objects.filter(workspace=workspace, type="page").order_by("id")
    return [event.payload["properties"]["path"] for event in events]


def test_a_route_change_is_a_page_view_that_asks_again_and_drops_what_no_longer_matches(
    browser_page, app, workspace
):
    page = browser_page
    queries = record_delivery_queries(page)
    everywhere = launched(workspace, rule=None, display_type="banner", display_position="bottom")
    corner = launched(workspace, rule="/app/pricing", display_type="overlay")
    delayed = launched(
        workspace,
        rule="/app/pricing",
        display_type="banner",
        display_position="top",
        trigger={"type": "delay", "seconds": 5},
    )
    page.clock.install()
    page.goto(f"{app.url}/app/home")
    assert deliveries(page, 1) == [everywhere.pk]
    expect(shown(page)).to_have_count(1)

    page.click("text=Pricing")
    assert set(deliveries(page, 2)) == {everywhere.pk, corner.pk, delayed.pk}
    expect(page.locator(f'[data-anonmsg-message="{corner.pk}"]')).to_have_count(1)
    wait_for(lambda: page_paths(workspace) == ["/app/home", "/app/pricing"], what="2 pages")
    page.clock.run_for(2_000)  # not long enough for the delayed banner…

    page.go_back()  # popstate
    assert deliveries(page, 3) == [everywhere.pk]
    # The corner overlay no longer matches: it goes (not a dismissal); the banner that still
    # matches stays, viewed once; the delayed banner's trigger was cancelled.
    expect(shown(page)).to_have_count(1)
    assert shown(page).get_attribute("data-anonmsg-message") == str(everywhere.pk)
    page.clock.run_for(6_000)
    expect(shown(page)).to_have_count(1)
    wait_for(lambda: page_paths(workspace) == ["/app/home", "/app/pricing", "/app/home"])
    assert [urlsplit(query["url"]).path for query in queries] == [
        "/app/home",
        "/app/pricing",
        "/app/home",
    ]
    page.evaluate("cioanalytics.track('Probe')")
    wait_for(lambda: Event.objects.filter(workspace=workspace, name="Probe").exists())
    assert db(message_events(workspace, "viewed_content", everywhere).count) == 1
    assert db(message_events(workspace, "viewed_content", corner).count) == 1
    assert not db(message_events(workspace, "viewed_content", delayed).exists)
    assert not db(Event.objects.filter(workspace=workspace, action_type="dismissed_content").exists)

    page.click("text=FAQ")  # a hash change is a route change too
    wait_for(lambda: len(page_paths(workspace)) == 4, what="the hash change's page view")
    # An app that calls page() itself right after pushState gets one page view, not two.
    page.evaluate(
        "history.pushState({}, '', '/app/pricing?plan=pro'); cioanalytics.page('Pricing')"
    )
    deliveries(page, 5)
    page.clock.run_for(1_000)
    page.evaluate("history.replaceState({step: 2}, '')")  # same address: not a page view
    page.clock.run_for(1_000)
    page.evaluate("cioanalytics.track('Probe 2')")
    wait_for(lambda: Event.objects.filter(workspace=workspace, name="Probe 2").exists())
    names = list(
        Event.objects.filter(workspace=workspace, type="page")
        .order_by("id")
        .values_list("payload__name", flat=True)
    )
    assert names == [None, None, None, None, "Pricing"]


def test_track_pages_off_leaves_route_changes_to_the_app(
    browser_page, site, live_server, workspace
):
    page = browser_page
    snippet = render_snippet(base_url=live_server.url, write_key=workspace.write_key)
    snippet = snippet.replace("anonymousInApp: true", "anonymousInApp: true, trackPages: false")
    site.pages["/app/home"] = site.pages["/app/pricing"] = SPA.format(snippet=snippet)
    page.goto(f"{site.url}/app/home")
    deliveries(page, 1)
    page.click("text=Pricing")
    page.wait_for_timeout(500)
    page.evaluate("cioanalytics.track('Probe')")
    wait_for(lambda: Event.objects.filter(workspace=workspace, name="Probe").exists())
    assert page_paths(workspace) == ["/app/home"]
    assert page.evaluate("window.__deliveries.length") == 1


# --- The visit's context on delivery requests -----------------------------------------------

UTM = "utm_source=newsletter&utm_medium=email&utm_campaign=spring"


def session(page) -> dict:
    return json.loads(page.evaluate("localStorage.getItem('anonmsg_session')"))


def test_the_landing_pages_source_applies_to_the_whole_session(browser_page, site, workspace):
    page = browser_page
    queries = record_delivery_queries(page)
    page.goto(f"{site.url}/shop/home?{UTM}", referer="https://www.google.com/")
    deliveries(page, 1)
    landing = {
        "referrer": "https://www.google.com/",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "spring",
        "lang": page.evaluate("navigator.language"),
        "sessions": "1",
    }
    assert queries[0].items() >= {**landing, "pageviews": "1"}.items()
    # A second page of the same session, reached by a link: no UTM tags, an internal referrer.
    page.evaluate("location.href = '/shop/pricing'")
    page.wait_for_url(f"{site.url}/shop/pricing")
    deliveries(page, 1)
    assert queries[1].items() >= {**landing, "pageviews": "2"}.items()
    assert session(page)["pageviews"] == 2

    # Half an hour without activity ends the session: the next page starts another one, with
    # its own (internal, so empty) referrer and UTM tags.
    page.evaluate(
        "const s = JSON.parse(localStorage.getItem('anonmsg_session'));"
        "s.at -= 31 * 60 * 1000; localStorage.setItem('anonmsg_session', JSON.stringify(s))"
    )
    page.evaluate("location.href = '/shop/blog?utm_source=ads'")
    page.wait_for_url(f"{site.url}/shop/blog?utm_source=ads")
    deliveries(page, 1)
    assert queries[2]["sessions"] == "2" and queries[2]["pageviews"] == "1"
    assert queries[2]["utm_source"] == "ads"
    assert "referrer" not in queries[2] and "utm_medium" not in queries[2]


def test_without_storage_the_sdk_still_shows_messages_and_counts_in_memory(
    browser_page, site, workspace
):
    page = browser_page
    page.add_init_script(
        "Object.defineProperty(window, 'localStorage', {get() {"
        "  throw new DOMException('The operation is insecure.', 'SecurityError'); }});"
    )
    queries = record_delivery_queries(page)
    message = launched(workspace, display_type="overlay")
    page.goto(f"{site.url}/shop/pricing?utm_source=ads")
    assert deliveries(page, 1) == [message.pk]
    expect(shown(page)).to_have_count(1)
    page.evaluate("history.pushState({}, '', '/shop/home')")
    deliveries(page, 2)
    assert [(q["sessions"], q["pageviews"], q["utm_source"]) for q in queries] == [
        ("1", "1", "ads"),
        ("1", "2", "ads"),
    ]
