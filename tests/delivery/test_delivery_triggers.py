"""The delivery answer's `trigger` (DESIGN.md §5): every message carries the stored trigger in
the App API's shape, pre-serialised with the message, so a warm request still reads nothing;
a preview adds a notice of what visitors wait for (docs/sdk.md, Preview).

Transactional, as test_delivery_cache.py: the cache is filled and invalidated on real commits.
"""

import pytest
from django.urls import reverse

from delivery.preview.tokens import make_preview_token
from delivery.sdk_api.views import preview_notice
from tests.factories import AnonymousMessageFactory, VisitorFactory, VisitorMessageStateFactory

pytestmark = pytest.mark.django_db(transaction=True)

ANON = "4c1d7a02-5b7e-4d7e-9a43-0f3c6a1e2b90"
# What the SDK sends with each delivery request (docs/sdk.md, The visit).
CONTEXT = {
    "referrer": "https://www.google.com/",
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "spring",
    "lang": "de-CH",
    "sessions": "2",
    "pageviews": "3",
}
DELAY = {"type": "delay", "seconds": 5}


@pytest.fixture(autouse=True)
def state_cache(settings):
    settings.DELIVERY_STATE_CACHE = True


def ask(client, workspace, **params):
    query = {
        "writeKey": workspace.write_key,
        "anonymousId": ANON,
        "url": "https://shop.example.com/pricing",
        **CONTEXT,
        **params,
    }
    response = client.get("/api/v1/delivery", query)
    assert response.status_code == 200, response.content
    return response.json()


def triggers(body) -> dict[int, dict]:
    return {message["id"]: message["trigger"] for message in body["messages"]}


@pytest.mark.parametrize("known_visitor", [False, True], ids=["new visitor", "with state"])
def test_every_message_carries_its_trigger_and_a_warm_request_reads_nothing(
    client, workspace, known_visitor, django_assert_num_queries
):
    on_load = AnonymousMessageFactory(workspace=workspace, launched=True)
    delayed = AnonymousMessageFactory(
        workspace=workspace, launched=True, display_type="overlay", trigger=DELAY
    )
    clicked = AnonymousMessageFactory(
        workspace=workspace,
        launched=True,
        display_type="banner",
        trigger={"type": "click", "selector": "#cta"},
    )
    if known_visitor:
        visitor = VisitorFactory(workspace=workspace, anonymous_id=ANON)
        other = AnonymousMessageFactory(workspace=workspace, launched=True, display_type="inline")
        VisitorMessageStateFactory(visitor=visitor, message=other, dismissed_at=None)
    expected = {
        on_load.pk: {"type": "page_load"},
        delayed.pk: DELAY,
        clicked.pk: {"type": "click", "selector": "#cta"},
    }
    ask(client, workspace)  # teaches this process the write key
    assert triggers(ask(client, workspace)).items() >= expected.items()
    with django_assert_num_queries(0):
        assert triggers(ask(client, workspace)).items() >= expected.items()


def test_a_changed_trigger_reaches_the_next_request(client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    assert triggers(ask(client, workspace)) == {message.pk: {"type": "page_load"}}
    message.trigger = {"type": "scroll", "percent": 40}
    message.save()
    assert triggers(ask(client, workspace)) == {message.pk: {"type": "scroll", "percent": 40}}


def test_a_preview_tells_what_visitors_wait_for(client, workspace):
    delayed = AnonymousMessageFactory(workspace=workspace, trigger=DELAY)
    on_load = AnonymousMessageFactory(workspace=workspace)
    for message, notice in (
        (delayed, "Preview, shown at once. Visitors see it after 5 seconds on the page."),
        (on_load, None),
    ):
        token = make_preview_token(workspace_id=workspace.pk, message_id=message.pk)
        [payload] = ask(client, workspace, preview=token)["messages"]
        assert payload["trigger"] == message.trigger
        assert payload.get("previewNotice") == notice


@pytest.mark.parametrize(
    ("trigger", "notice"),
    [
        (None, None),
        ({"type": "page_load"}, None),
        ({"type": "inactivity", "seconds": 1}, "Visitors see it after 1 second without activity."),
        ({"type": "scroll", "percent": 50}, "Visitors see it after the visitor scrolls 50 %"),
        ({"type": "exit_intent", "fallbackSeconds": None}, "never on touch devices."),
        ({"type": "click", "selector": "#cta"}, "Visitors see it when the visitor clicks “#cta”"),
    ],
)
def test_the_preview_notice_describes_each_trigger(trigger, notice):
    text = preview_notice(trigger).get("previewNotice")
    if notice is None:
        assert text is None
    else:
        assert notice in text and text.startswith("Preview, shown at once.")


def test_the_preview_page_says_which_trigger_visitors_wait_for(owner_client, workspace):
    delayed = AnonymousMessageFactory(workspace=workspace, trigger=DELAY)
    on_load = AnonymousMessageFactory(workspace=workspace)
    page = owner_client.get(reverse("delivery:preview", args=[workspace.pk, delayed.pk]))
    assert "After 5 seconds on the page" in page.content.decode()
    page = owner_client.get(reverse("delivery:preview", args=[workspace.pk, on_load.pk]))
    assert 'id="preview-trigger"' not in page.content.decode()


@pytest.mark.parametrize("known_visitor", [False, True], ids=["new visitor", "with state"])
def test_a_modal_waiting_for_exit_intent_leaves_the_modal_slot_to_a_page_load_modal(
    client, workspace, known_visitor, django_assert_num_queries
):
    """The SDK shows one modal at a time and queues the other until the first closes
    (docs/sdk.md), so the answer carries both; a third, page-load modal stays out."""
    exit_intent = AnonymousMessageFactory(
        workspace=workspace, launched=True, priority=1, trigger={"type": "exit_intent"}
    )
    on_load = AnonymousMessageFactory(workspace=workspace, launched=True, priority=2)
    AnonymousMessageFactory(workspace=workspace, launched=True, priority=3)
    if known_visitor:
        visitor = VisitorFactory(workspace=workspace, anonymous_id=ANON)
        seen = AnonymousMessageFactory(workspace=workspace, launched=True, display_type="banner")
        VisitorMessageStateFactory(visitor=visitor, message=seen, dismissed_at=None, views=1)
    expected = [
        (exit_intent.pk, {"type": "exit_intent"}),
        (on_load.pk, {"type": "page_load"}),
    ]

    def modals(body):
        return [
            (m["id"], m["trigger"]) for m in body["messages"] if m["display"]["type"] == "modal"
        ]

    ask(client, workspace)  # teaches this process the write key
    assert modals(ask(client, workspace)) == expected
    with django_assert_num_queries(0):
        assert modals(ask(client, workspace)) == expected
