"""Experiments in real Chromium: a held-out visitor sees nothing and their exposure lands; a
visitor in variant B sees B on every page load, and their events name it (DESIGN.md §5)."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from anonmsg.snippet import render_snippet
from delivery.experiment_exposures import exposed_visitors_by_arm
from delivery.models import Event, VisitorMessageState
from tests.delivery.test_browser_sdk import db, deliveries, shown, wait_for
from tests.delivery.test_experiments import experiment, visitor_in
from tests.factories import PageRuleFactory

pytestmark = pytest.mark.browser

HTML_A = '<h1>Plan A</h1><button data-action="take-a">Take A</button>'


class HostSite:
    """The customer's website on another origin than the API: pages by path."""

    def __init__(self, port: int):
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(urlsplit(self.path).path)
                if body is None:
                    return self.send_error(404)
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def host_site():
    # HOST_SITE_PORT: a fixed port where the machine's ports are shared out (0: any free one).
    site = HostSite(int(os.environ.get("HOST_SITE_PORT", "0")))
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture(autouse=True)
def redis_as_in_production(redis_cache):
    return redis_cache


def open_as(page, site, live_server, workspace, anonymous_id):
    """The visitor `anonymous_id` (as the SDK stores it) on the host's pricing page."""
    snippet = render_snippet(base_url=live_server.url, write_key=workspace.write_key)
    site.pages["/shop/pricing"] = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Shop</title>{snippet}</head>"
        "<body><h1>Pricing</h1></body></html>"
    )
    page.add_init_script(
        f"localStorage.setItem('ajs_anonymous_id', {json.dumps(json.dumps(anonymous_id))});"
        "window.__deliveries = [];"
        "window.cioanalytics = [['on', 'in-app:delivered', (messages) => {"
        "  window.__deliveries.push(messages.map((m) => m.id)); }]];"
    )
    page.goto(f"{site.url}/shop/pricing")


def events(message, action_type):
    return Event.objects.filter(content_id=message.pk, action_type=action_type)


def test_a_held_out_visitor_sees_nothing_and_the_exposure_lands(
    page, host_site, live_server, workspace
):
    message = experiment(workspace, holdout=30, content_html=HTML_A)
    PageRuleFactory(message=message, value="/shop/pricing")
    held_out = visitor_in(message, "holdout")
    open_as(page, host_site, live_server, workspace, held_out)

    assert deliveries(page, 1) == [message.pk]
    wait_for(lambda: events(message, "held_out").exists(), what="the held-out report")
    assert shown(page).count() == 0
    report = db(events(message, "held_out").get)
    assert report.anonymous_id == held_out
    assert report.payload["properties"] == {
        "actionType": "held_out",
        "contentId": message.pk,
        "contentType": "in_app_content",
    }

    # The next page view is exposed again; the server still counts one exposed visitor.
    page.reload()
    wait_for(lambda: events(message, "held_out").count() == 2, what="the second page view")
    assert shown(page).count() == 0
    assert not db(events(message, "viewed_content").exists)
    assert db(lambda: exposed_visitors_by_arm(message.pk)) == {"holdout": 1}


def test_a_variant_b_visitor_always_sees_b_and_their_events_name_it(
    page, host_site, live_server, workspace
):
    message = experiment(workspace, holdout=10, content_html=HTML_A)
    in_b = visitor_in(message, "B")
    open_as(page, host_site, live_server, workspace, in_b)

    for load in range(1, 4):
        if load > 1:
            page.reload()
        assert deliveries(page, 1) == [message.pk]
        frame = page.frame_locator("[data-anonmsg-message] iframe")
        frame.get_by_role("heading", name="Plan B").wait_for()
        assert shown(page).count() == 1
        wait_for(lambda n=load: events(message, "viewed_content").count() == n, what="a view")

    views = db(lambda: list(events(message, "viewed_content")))
    assert {view.payload["properties"]["variant"] for view in views} == {"B"}
    frame.get_by_role("button", name="Take B").click()
    wait_for(lambda: events(message, "clicked_content").exists(), what="the click")
    click = db(events(message, "clicked_content").get)
    assert click.payload["properties"]["variant"] == "B"
    assert click.action_name == "take-b"
    state = db(lambda: VisitorMessageState.objects.get(message=message))
    assert (state.arm, state.views) == ("B", 3)
