"""The demo: seeded messages in the demo workspace and the demo website carrying its snippet."""

import re

import pytest
from django.urls import reverse

from anonmsg.snippet import render_snippet
from campaigns.lifecycle import pause_message
from campaigns.models import State
from delivery.demo_workspace import DEMO_MESSAGES, seed_demo

DEMO_PAGES = ["/demo/", "/demo/pricing/", "/demo/blog/launch-week/", "/demo/signup/"]


@pytest.fixture
def demo(db):
    return seed_demo()


def test_seeding_creates_launched_demo_messages_with_page_rules(demo):
    messages = {m.name: m for m in demo.messages.all()}
    assert set(messages) == {spec["name"] for spec in DEMO_MESSAGES}
    for message in messages.values():
        assert message.state == State.ACTIVE
        assert message.rules.exists()
        assert "data-action" in message.content_html


def test_seeding_again_changes_nothing(demo):
    before = sorted(demo.messages.values_list("pk", "name", "status"))
    message = demo.messages.first()
    pause_message(message=message)
    assert seed_demo().pk == demo.pk
    after = sorted(demo.messages.values_list("pk", "name", "status"))
    assert len(after) == len(before)
    message.refresh_from_db()
    assert message.state == State.PAUSED  # a newcomer's pause sticks


@pytest.mark.parametrize("path", DEMO_PAGES)
def test_every_demo_page_carries_the_snippet_exactly_as_settings_shows_it(client, demo, path):
    response = client.get(path)
    assert response.status_code == 200
    # Plus the page's CSP nonce on its <script>, as docs/sdk.md asks of a page with a policy.
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    snippet = render_snippet(base_url="http://testserver", write_key=demo.write_key, nonce=nonce)
    assert snippet in response.content.decode()
    shown = render_snippet(base_url="http://testserver", write_key=demo.write_key)
    assert snippet == shown.replace("<script>", f'<script nonce="{nonce}">', 1)


def test_the_demo_pages_link_to_each_other(client, demo):
    body = client.get("/demo/").content.decode()
    for path in DEMO_PAGES[1:]:
        assert f'href="{path}"' in body


def test_an_unknown_blog_post_is_a_404(client, demo):
    assert client.get("/demo/blog/nope/").status_code == 404


def test_without_the_demo_workspace_the_demo_site_says_how_to_create_it(client, db):
    response = client.get("/demo/pricing/")
    assert response.status_code == 404
    assert "seed_demo" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/demo/pricing/", ["Pricing: 20% off the first year"]),
        ("/demo/blog/launch-week/", ["Blog: weekly newsletter"]),
        ("/demo/", []),
    ],
)
def test_the_demo_messages_are_delivered_on_their_pages(client, demo, path, expected):
    response = client.get(
        "/api/v1/delivery",
        {
            "writeKey": demo.write_key,
            "anonymousId": "newcomer",
            "url": f"http://127.0.0.1:8000{path}",
        },
    )
    names = dict(demo.messages.values_list("pk", "name"))
    assert [names[m["id"]] for m in response.json()["messages"]] == expected


def test_the_settings_page_links_to_the_demo_site(client, demo):
    from anonmsg.demo import DEMO_EMAIL

    client.force_login(demo.memberships.get(user__username=DEMO_EMAIL).user)
    body = client.get(reverse("settings-inapp", args=[demo.pk])).content.decode()
    assert f'href="{reverse("demo-home")}"' in body


def test_the_demo_messages_use_button_kinds_and_a_lead_form(demo):
    pricing = demo.messages.get(name="Pricing: 20% off the first year")
    assert "<button data-dismiss>Not now</button>" in pricing.content_html
    assert [a["name"] for a in pricing.content_actions] == ["claim-offer"]  # "Not now" is no click
    blog = demo.messages.get(name="Blog: weekly newsletter")
    assert "data-lead" in blog.content_html
    assert blog.content_actions == [{"name": "subscribe", "label": "Subscribe", "url": ""}]
    # The lead form converts through the default goal: identified within 7 days of a click.
    assert blog.describe_goal() == (
        "A visitor who clicks a tracked action converts by signing up or logging in within 7 days."
    )
