"""Every dashboard page at phone width (390 × 844) in real Chromium: no sideways scroll, and
the primary buttons inside the screen's width.

The pages are enumerated from the URLconf (every route under /w/<workspace_id>/, plus the
account pages), so a new page is checked without touching this file; a route with a URL
parameter this file does not know fails loudly until it gets a value below.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from anonmsg import invitations
from campaigns import wizard
from campaigns.models import MessageVariant
from metrics.rollups import roll_up
from tests.factories import (
    AnonymousMessageFactory,
    EventFactory,
    MembershipFactory,
    MessageEventFactory,
    PageRuleFactory,
    ProfileFactory,
    SegmentFactory,
    UserFactory,
    VisitorFactory,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ACCOUNT_PAGES = ["password_change", "password_change_done"]
LONG_NAME = "Spring sale: 20% off every annual plan for teams that sign up before the end of May"


def dashboard_routes() -> list[tuple[str, list[str], dict]]:
    """(URL name, parameter names, default arguments) of every route under /w/<workspace_id>/."""
    found = []

    def walk(patterns, namespace, parameters):
        for entry in patterns:
            names = [*parameters, *entry.pattern.converters]
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner, names)
            elif isinstance(entry, URLPattern) and entry.name:
                found.append((namespace + entry.name, names, entry.default_args))

    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and "workspace_id" in entry.pattern.converters:
            ns = f"{entry.namespace}:" if entry.namespace else ""
            walk(entry.url_patterns, ns, list(entry.pattern.converters))
    return found


@pytest.fixture
def workspace_objects(transactional_db):
    """One of everything a dashboard URL can point at, with long names where they show."""
    owner = UserFactory(username="ann@acme.test")
    workspace = MembershipFactory(user=owner).workspace
    message = AnonymousMessageFactory(
        workspace=workspace, launched=True, name=LONG_NAME, variant_a_weight=50, holdout_percent=10
    )
    # An experiment: the message page's experiment card, the Content step's variant tabs and
    # split, Review's split, at phone width.
    MessageVariant.objects.create(
        message=message, key="B", weight=50, content_html="<h1>Another offer</h1>"
    )
    PageRuleFactory(message=message, value="/pricing/annual/teams/with-a-long-path")
    AnonymousMessageFactory(workspace=workspace, name="A draft " + LONG_NAME)
    rule = message.rules.first()
    segment = SegmentFactory(workspace=workspace, name="Trial users on the team plan in Europe")
    profile = ProfileFactory(workspace=workspace, user_id="someone.with.a.long.address@example.com")
    VisitorFactory(
        workspace=workspace, anonymous_id="0b8e2f8c-5d7e-4c1e-9c55-4f8d2d3b1a77", profile=profile
    )
    event = EventFactory(workspace=workspace, anonymous_id="0b8e2f8c-5d7e-4c1e-9c55-4f8d2d3b1a77")
    for n in range(3):
        MessageEventFactory(message=message, anonymous_id=f"visitor-{n}")
    MessageEventFactory(message=message, click=True, action_name="claim-the-annual-discount")
    roll_up(now=timezone.now())
    member = MembershipFactory(workspace=workspace, user=UserFactory(username="bo@acme.test"))
    invitation = invitations.invite(
        workspace=workspace, email="cy@acme.test", role="member", invited_by=owner
    ).invitation
    return {
        "owner": owner,
        "workspace_id": workspace.pk,
        "message_id": message.pk,
        "rule_id": rule.pk,
        "segment_id": segment.pk,
        "profile_id": profile.pk,
        "event_id": event.pk,
        "member_id": member.pk,
        "invitation_id": invitation.pk,
    }


def dashboard_urls(objects) -> list[str]:
    urls = []
    for name, parameters, _defaults in dashboard_routes():
        unknown = [p for p in parameters if p not in objects and p != "step"]
        assert not unknown, f"{name}: give tests/test_phone_width.py a value for {unknown}"
        kwargs = {p: objects[p] for p in parameters if p != "step"}
        steps = [step.slug for step in wizard.STEPS] if "step" in parameters else [None]
        for step in steps:
            urls.append(reverse(name, kwargs={**kwargs, **({"step": step} if step else {})}))
    return urls + [reverse(name) for name in ACCOUNT_PAGES]


def test_the_route_list_covers_the_main_pages(workspace_objects):
    urls = dashboard_urls(workspace_objects)
    workspace_id, message_id = workspace_objects["workspace_id"], workspace_objects["message_id"]
    for name, kwargs in [
        ("campaigns:message-list", {}),
        ("campaigns:message-detail", {"message_id": message_id}),
        ("metrics:message-metrics", {"message_id": message_id}),
        ("delivery:activity", {}),
        ("campaigns:segment-list", {}),
        ("settings-inapp", {}),
    ]:
        assert reverse(name, kwargs={"workspace_id": workspace_id, **kwargs}) in urls
    for step in wizard.STEPS:
        assert f"/w/{workspace_id}/anonymous/{message_id}/edit/{step.slug}/" in urls


def test_no_dashboard_page_scrolls_sideways_on_a_phone(
    page, live_server, workspace_objects, password
):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("E-mail").fill("ann@acme.test")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/w/**")

    checked, problems = [], []
    for url in dashboard_urls(workspace_objects):
        # Asked first with the page's cookies: Chromium refuses to show an empty 405.
        probe = page.request.get(live_server.url + url)
        if probe.status == 405:  # an action (POST only), not a page
            continue
        if "text/html" not in probe.headers.get("content-type", ""):
            continue  # e.g. the CSV export
        if probe.status >= 400:
            problems.append(f"{url}: answered {probe.status}")
            continue
        page.goto(live_server.url + url)
        checked.append(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems.append(f"{url}: {width} px wide")
        for button in page.locator(".btn-primary:visible").all():
            box = button.bounding_box()
            if box and (box["x"] < 0 or box["x"] + box["width"] > PHONE["width"] + 0.5):
                problems.append(f"{url}: primary button “{button.inner_text()}” off screen")
    assert not problems, "\n".join(problems)
    assert len(checked) >= 20, checked


@pytest.mark.parametrize(
    "name",
    ["campaigns:message-list", "delivery:activity", "campaigns:segment-list", "delivery:people"],
)
def test_lists_fit_a_laptop_screen_without_scrolling_their_tables(
    page, live_server, workspace_objects, password, name
):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("E-mail").fill("ann@acme.test")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/w/**")
    page.goto(live_server.url + reverse(name, args=[workspace_objects["workspace_id"]]))
    tables = page.locator(".table-wrap")
    assert tables.count() >= 1
    for table in tables.all():
        assert table.evaluate("el => el.scrollWidth <= el.clientWidth"), (
            name,
            table.evaluate(
                "el => [el.scrollWidth, el.clientWidth, [...el.querySelectorAll('th')].map(e => e.textContent.trim().slice(0,8) + ':' + Math.round(e.getBoundingClientRect().width))]"
            ),
        )
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
