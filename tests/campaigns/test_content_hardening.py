"""Hostile content through the real entry points, and the summary stored with each message.

Issue 10, finding 2: content checks were quadratic (65,000 `{` took 14 s, '<a ' × 21,000 took
35 s) and ran on every keystroke of the live preview, twice on the message page and on every
preview delivery. Now they are linear and bounded, and what delivery and the dashboard need
(tracked actions, the label) is read once when a message is saved.
"""

import importlib
import json
import time

import pytest
from django.apps import apps
from django.core.cache import cache
from django.urls import reverse

from campaigns import lifecycle
from campaigns.content import summarise_html
from campaigns.models import AnonymousMessage
from delivery.demo_workspace import seed_demo
from delivery.preview.tokens import make_preview_token
from delivery.sdk_api import live_messages
from tests.campaigns.test_content import ADVERSARIAL_HTML
from tests.factories import AnonymousMessageFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
ANON = "7d5a8d5e-4a47-4b8e-9a55-0c1f9c3b1e11"
HOSTILE = list(ADVERSARIAL_HTML.values())
HOSTILE_IDS = list(ADVERSARIAL_HTML.keys())
LIMIT = 0.2  # CPU seconds per request: issue 10's bound


@pytest.fixture(autouse=True)
def fresh_caches():
    cache.clear()
    live_messages.clear_local()
    yield
    cache.clear()
    live_messages.clear_local()


@pytest.fixture
def draft(workspace):
    return AnonymousMessageFactory(workspace=workspace, name="Offer", wizard_step=7)


def timed(request, attempts=3):
    """The response and the best of a few timings, in CPU seconds of this thread (the test
    client runs the view in it): the machine is shared, and other processes' load does not
    count that way; the quadratic code took seconds of CPU every time."""
    best = float("inf")
    for _ in range(attempts):
        started = time.thread_time()
        response = request()
        best = min(best, time.thread_time() - started)
    return response, best


def content_step(message):
    return reverse("campaigns:wizard-step", args=[message.workspace_id, message.pk, "content"])


def html_form(html):
    return {"mode": "html", "html": html, "display_type": "modal", "display_position": "center"}


def stored(html):
    """What a save stores for this HTML."""
    summary = summarise_html(html)
    actions = [{"name": a.name, "label": a.label, "url": a.url} for a in summary.actions]
    return actions, summary.label


def store_hostile_html(message, html):
    """As if saved before the caps: a queryset update skips validation (and the summary)."""
    AnonymousMessage.objects.filter(pk=message.pk).update(content_html=html)
    message.workspace.bump_content_version()
    message.refresh_from_db()


# --- Hostile content through the entry points: answered within 200 ms -------------------------


@pytest.mark.parametrize("html", HOSTILE, ids=HOSTILE_IDS)
def test_the_wizard_content_step_answers_hostile_html_quickly(owner_client, draft, html):
    owner_client.post(content_step(draft), html_form("<h1>Warm</h1>"), **HTMX)
    before = AnonymousMessage.objects.values().get(pk=draft.pk)
    response, seconds = timed(
        lambda: owner_client.post(content_step(draft), html_form(html), **HTMX)
    )
    assert seconds < LIMIT
    assert response.status_code in (200, 204)
    if "field-error" in response.content.decode():  # refused: nothing written
        assert AnonymousMessage.objects.values().get(pk=draft.pk) == before


@pytest.mark.parametrize("html", HOSTILE, ids=HOSTILE_IDS)
def test_the_live_preview_answers_hostile_html_quickly(owner_client, draft, html):
    url = reverse("campaigns:message-preview", args=[draft.workspace_id, draft.pk])
    owner_client.post(url, html_form("<h1>Warm</h1>"), **HTMX)
    response, seconds = timed(lambda: owner_client.post(url, html_form(html), **HTMX))
    assert response.status_code == 200
    assert seconds < LIMIT


@pytest.mark.parametrize("html", HOSTILE, ids=HOSTILE_IDS)
def test_the_app_api_answers_hostile_html_quickly(client, workspace, html):
    headers = {"Authorization": f"Bearer {workspace.rotate_api_key()}"}

    def post(body):
        return client.post(
            "/api/v1/anonymous-messages",
            json.dumps(body),
            content_type="application/json",
            headers=headers,
        )

    post({"name": "Warm", "content": {"html": "<h1>Warm</h1>"}})
    response, seconds = timed(lambda: post({"name": "Hostile", "content": {"html": html}}))
    assert seconds < LIMIT
    assert response.status_code in (201, 400)
    if response.status_code == 400:
        assert response.json()["field"] == "content.html"
        assert not AnonymousMessage.objects.filter(name="Hostile").exists()


@pytest.mark.parametrize(
    "html", [ADVERSARIAL_HTML["'<a ' x 21,000"], ADVERSARIAL_HTML["<a b=' x 10,000"]]
)
def test_the_message_page_never_parses_stored_html(owner_client, draft, html):
    store_hostile_html(draft, html)
    response, seconds = timed(lambda: owner_client.get(draft.get_absolute_url()))
    assert response.status_code == 200
    assert seconds < LIMIT


@pytest.mark.parametrize(
    "html", [ADVERSARIAL_HTML["'<a ' x 21,000"], ADVERSARIAL_HTML["<a b=' x 10,000"]]
)
def test_delivery_and_preview_delivery_never_parse_html(client, workspace, html):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    store_hostile_html(message, html)
    query = {"writeKey": workspace.write_key, "anonymousId": ANON, "url": "/pricing"}
    response, seconds = timed(lambda: client.get("/api/v1/delivery", query))
    assert seconds < LIMIT
    assert [m["id"] for m in response.json()["messages"]] == [message.pk]
    token = make_preview_token(workspace_id=workspace.pk, message_id=message.pk)
    response, seconds = timed(lambda: client.get("/api/v1/delivery", {**query, "preview": token}))
    assert seconds < LIMIT
    assert response.json()["messages"][0]["id"] == message.pk


# --- The stored summary: every writer keeps it in sync; delivery reads only it ----------------

NEW_HTML = '<h2>Join today</h2><a data-action="join" href="/join">Join <b>now</b></a>'


def test_a_save_stores_the_actions_and_the_label(workspace):
    message = AnonymousMessageFactory(workspace=workspace, content_html=NEW_HTML)
    message.refresh_from_db()
    assert message.content_actions == [{"name": "join", "label": "Join now", "url": "/join"}]
    assert message.content_label == "Join today"
    message.content_html = "<p>No heading, no action</p>"
    message.save(update_fields=["content_html"])
    message.refresh_from_db()
    assert (message.content_actions, message.content_label) == ([], "Message")


def test_the_wizard_keeps_the_summary_in_sync(owner_client, draft):
    owner_client.post(content_step(draft), html_form(NEW_HTML))
    draft.refresh_from_db()
    assert (draft.content_actions, draft.content_label) == stored(NEW_HTML)


def test_the_app_api_keeps_the_summary_in_sync(client, workspace, draft):
    headers = {"Authorization": f"Bearer {workspace.rotate_api_key()}"}
    response = client.patch(
        f"/api/v1/anonymous-messages/{draft.pk}",
        json.dumps({"content": {"html": NEW_HTML}}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert (draft.content_actions, draft.content_label) == stored(NEW_HTML)


def test_the_admin_keeps_the_summary_in_sync(admin_client, draft):
    from tests.campaigns.test_admin import admin_url, message_form

    response = admin_client.post(
        admin_url("anonymousmessage", "change", draft.pk),
        message_form(draft, content_html=NEW_HTML),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.content_actions, draft.content_label) == stored(NEW_HTML)


def test_a_duplicate_and_the_demo_carry_their_summary(workspace, draft):
    store_hostile_html(draft, NEW_HTML)  # stale summary: the copy reads its own
    copy = lifecycle.duplicate_message(message=draft)
    assert (copy.content_actions, copy.content_label) == stored(NEW_HTML)
    demo = seed_demo()
    for message in demo.messages.all():
        assert (message.content_actions, message.content_label) == stored(message.content_html)
        assert message.content_label != "Message"  # each demo message has a heading


def test_the_data_migration_fills_the_summary_of_existing_messages(workspace):
    kept = AnonymousMessageFactory(workspace=workspace, content_html=NEW_HTML)
    hostile = AnonymousMessageFactory(workspace=workspace)
    AnonymousMessage.objects.filter(pk=kept.pk).update(content_actions=[], content_label="")
    AnonymousMessage.objects.filter(pk=hostile.pk).update(content_html="<div>" * 300)
    migration = importlib.import_module("campaigns.migrations.0002_content_summary")
    migration.summarise_existing_messages(apps, None)
    kept.refresh_from_db()
    hostile.refresh_from_db()
    assert (kept.content_actions, kept.content_label) == stored(NEW_HTML)
    assert (hostile.content_actions, hostile.content_label) == ([], "Message")


def test_delivery_sends_the_stored_actions_and_label(client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    sentinel = [{"name": "stored", "label": "From the database", "url": "/s"}]
    AnonymousMessage.objects.filter(pk=message.pk).update(
        content_actions=sentinel, content_label="Stored label"
    )
    workspace.bump_content_version()
    query = {"writeKey": workspace.write_key, "anonymousId": ANON, "url": "/pricing"}
    [delivered] = client.get("/api/v1/delivery", query).json()["messages"]
    assert delivered["label"] == "Stored label"
    assert delivered["actions"] == sentinel
