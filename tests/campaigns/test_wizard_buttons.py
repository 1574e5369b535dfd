"""Wizard step 5, the simple builder: what each kind of button writes, and the lead block."""

import re

import pytest

from tests.campaigns.test_wizard import BUILDER, step_url, text_of
from tests.factories import AnonymousMessageFactory


@pytest.fixture
def draft(workspace):
    return AnonymousMessageFactory(workspace=workspace, name="Pricing offer", wizard_step=7)


KINDS = {
    **BUILDER,
    "button1_kind": "action",
    "button2_kind": "close",
    "button2_label": "Not now",
    "button2_action": "not-now",  # typed before choosing "Close": ignored, as it is hidden
    "button2_url": "/stale",
    "button3_kind": "link",
    "button3_label": "Read the terms",
    "button3_action": "terms",
    "button3_url": "/terms",
}


def test_each_button_kind_is_saved_and_written_as_its_control(owner_client, draft):
    response = owner_client.post(step_url(draft, "content"), KINDS)
    assert response.status_code == 302, text_of(response)
    draft.refresh_from_db()
    assert draft.content_builder["buttons"] == [
        {"kind": "action", "label": "Sign up", "action": "sign-up", "url": "/signup"},
        {"kind": "close", "label": "Not now"},
        {"kind": "link", "label": "Read the terms", "url": "/terms"},
    ]
    html = draft.content_html
    assert "<button data-dismiss>Not now</button>" in html
    assert '<a href="/terms" data-link>Read the terms</a>' in html
    # Only the tracked action is counted as a click (and listed for metrics and delivery).
    assert [a["name"] for a in draft.content_actions] == ["sign-up"]


def test_the_step_shows_the_kinds_and_the_lead_block_again(owner_client, draft):
    response = owner_client.post(
        step_url(draft, "content"),
        {**KINDS, "lead_enabled": "on", "lead_button": "Get it", "lead_thanks": "Sent!"},
    )
    assert response.status_code == 302, text_of(response)
    body = text_of(owner_client.get(step_url(draft, "content")))
    assert '<option value="close" selected>Close</option>' in body
    assert '<option value="link" selected>Link</option>' in body
    assert re.search(r'<input type="checkbox" name="lead_enabled"[^>]* checked>', body)
    assert 'value="Get it"' in body and 'value="Sent!"' in body


def test_a_lead_block_is_saved_with_its_action_named_from_the_label(owner_client, draft):
    data = {
        **BUILDER,
        "lead_enabled": "on",
        "lead_ask_name": "on",
        "lead_button": "Send me the guide",
        "lead_action": "",
        "lead_thanks": "",
    }
    response = owner_client.post(step_url(draft, "content"), data)
    assert response.status_code == 302, text_of(response)
    draft.refresh_from_db()
    assert draft.content_builder["lead"] == {
        "action": "send-me-the-guide",
        "button": "Send me the guide",
        "ask_name": True,
        "thanks": "Thanks! You're on the list.",
    }
    assert "data-lead" in draft.content_html and 'name="name"' in draft.content_html
    assert draft.content_actions[0] == {
        "name": "send-me-the-guide",
        "label": "Send me the guide",
        "url": "",
    }


def test_an_unticked_lead_block_is_not_saved(owner_client, draft):
    owner_client.post(step_url(draft, "content"), {**BUILDER, "lead_button": "Join"})
    draft.refresh_from_db()
    assert "lead" not in draft.content_builder
    assert "data-lead" not in draft.content_html


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        (
            {"button3_kind": "link", "button3_label": "Terms", "button3_url": ""},
            "button3_url",
            "A link needs a URL",
        ),
        (
            {"button3_kind": "link", "button3_label": "Terms", "button3_url": "javascript:x()"},
            "button3_url",
            "Enter a full address (https://…) or a path",
        ),
        ({"button1_kind": "popup"}, "button1_kind", "Select a valid choice"),
        (
            {"lead_enabled": "on", "lead_action": "sign-up"},  # the lead comes first
            "button1_action",
            "Another button already reports “sign-up”",
        ),
        (
            {"lead_enabled": "on", "lead_thanks": "Thanks {{ name }}"},
            "lead_thanks",
            "Liquid is not supported",
        ),
        ({"lead_enabled": "on", "lead_action": "a b"}, "lead_action", "Use letters, digits"),
    ],
)
def test_bad_button_or_lead_input_is_refused_on_its_field(owner_client, draft, data, field, error):
    before = draft.content_html
    response = owner_client.post(step_url(draft, "content"), {**BUILDER, **data})
    assert response.status_code == 400
    assert error in response.context["form"].errors[field][0]
    assert error in text_of(response)
    draft.refresh_from_db()
    assert draft.content_html == before


def test_a_close_button_without_a_label_is_left_out_whatever_its_hidden_fields_hold(
    owner_client, draft
):
    data = {**BUILDER, "button2_kind": "close", "button2_label": "", "button2_url": "/x"}
    response = owner_client.post(step_url(draft, "content"), data)
    assert response.status_code == 302, text_of(response)
    draft.refresh_from_db()
    assert [b["label"] for b in draft.content_builder["buttons"]] == ["Sign up"]


def test_a_builder_saved_without_the_close_button_key_shows_it_ticked(owner_client, workspace):
    """The demo's builders omit it, and build_html then draws the ×: the step must agree, or
    saving it unchanged would remove the close button."""
    message = AnonymousMessageFactory(
        workspace=workspace, wizard_step=7, content_builder={"heading": "Hi"}
    )
    body = text_of(owner_client.get(step_url(message, "content")))
    assert re.search(r'<input type="checkbox" name="close_button"[^>]* checked>', body)
