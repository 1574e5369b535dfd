"""The browser SDK's `fresh=1` in real Chromium: sent for an id it made and has reported
nothing for but page views, and never again once it reported anything (docs/delivery-api.md).

Same host site, live server and Redis as test_browser_sdk.py, whose fixtures these are.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.delivery import test_browser_sdk as browser_sdk
from tests.delivery.test_browser_sdk import deliveries, launched, message_events, shown, wait_for

# The fixtures of test_browser_sdk.py: its host site, snippet pages, page and Redis.
host_site = browser_sdk.host_site
site = browser_sdk.site
browser_page = browser_sdk.browser_page
redis_as_in_production = browser_sdk.redis_as_in_production

pytestmark = pytest.mark.browser


def record_delivery_queries(page) -> list[dict]:
    """The query of every delivery request the page sends, as {name: value}."""
    queries = []

    def on_request(request):
        parts = urlsplit(request.url)
        if parts.path == "/api/v1/delivery":
            queries.append({name: values[-1] for name, values in parse_qs(parts.query).items()})

    page.on("request", on_request)
    return queries


def test_a_new_visitor_is_fresh_until_a_message_event_is_reported(browser_page, site, workspace):
    page = browser_page
    message = launched(workspace, frequency_mode="until_dismissed")
    queries = record_delivery_queries(page)
    page.goto(f"{site.url}/shop/home")
    assert deliveries(page, 1) == []
    page.goto(f"{site.url}/shop/pricing")  # page views alone keep the id fresh
    assert deliveries(page, 1) == [message.pk]
    assert [query.get("fresh") for query in queries] == ["1", "1"]
    frame = page.frame_locator("[data-anonmsg-message] iframe")
    frame.get_by_role("button", name="Close").click()
    expect(shown(page)).to_have_count(0)
    wait_for(
        lambda: message_events(workspace, "dismissed_content", message).exists(),
        what="the dismissal",
    )
    page.reload()
    assert deliveries(page, 1) == []
    assert "fresh" not in queries[-1]
    assert queries[-1]["anonymousId"] == queries[0]["anonymousId"]


def test_an_id_the_sdk_did_not_make_is_never_fresh_and_reset_makes_a_fresh_one(
    browser_page, site, workspace
):
    page = browser_page
    launched(workspace)
    queries = record_delivery_queries(page)
    page.add_init_script("localStorage.setItem('ajs_anonymous_id', JSON.stringify('known-id'))")
    page.goto(f"{site.url}/shop/pricing")
    deliveries(page, 1)
    assert (queries[-1]["anonymousId"], queries[-1].get("fresh")) == ("known-id", None)
    page.evaluate("cioanalytics.track('Pricing Viewed'); cioanalytics.reset()")
    page.evaluate("cioanalytics.page()")
    page.wait_for_function("() => window.__deliveries.length >= 2")
    assert queries[-1]["anonymousId"] != "known-id"
    assert queries[-1].get("fresh") == "1"
