"""Real Chromium: Back after htmx's history cache missed restores the whole page (anonmsg/htmx.py)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.anonmsg.test_browser import log_in
from tests.factories import MembershipFactory, ProfileFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def workspace(transactional_db):
    workspace = WorkspaceFactory(name="Acme shop")
    MembershipFactory(user=UserFactory(username="ann@acme.test"), workspace=workspace)
    ProfileFactory(workspace=workspace, user_id="ann", email="ann@example.com")
    ProfileFactory(workspace=workspace, user_id="bob", email="bob@example.com")
    return workspace


def test_back_after_a_history_cache_miss_shows_the_whole_people_page(page, live_server, workspace):
    log_in(page, live_server)
    page.wait_for_url("**/w/*/**")
    page.goto(live_server.url + reverse("delivery:people", args=[workspace.pk]))
    results = page.locator("#people-results")
    expect(results).to_contain_text("bob")

    page.get_by_label("Search people").fill("ann")
    page.wait_for_url("**/people/?q=ann")
    expect(results).not_to_contain_text("bob")

    # htmx keeps its history snapshots in sessionStorage (a few pages); without the one for
    # the page Back leads to, htmx asks the server for it.
    page.evaluate("sessionStorage.removeItem('htmx-history-cache')")
    with page.expect_request(lambda r: "hx-history-restore-request" in r.headers):
        page.go_back()
    page.wait_for_url("**/people/")
    expect(page.locator("#people-results")).to_contain_text("bob")  # the server's answer is in
    expect(page.get_by_role("heading", name="People", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_label("Search people")).to_have_value("")
