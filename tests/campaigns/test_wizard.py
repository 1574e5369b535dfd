"""The create-message wizard, step by step: valid and invalid input, htmx and plain requests."""

import datetime as dt
import html
import json
import re
import time
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from anonmsg.models import Plan, Workspace
from campaigns.content import MAX_HTML_BYTES
from campaigns.models import AnonymousMessage, PageRule, Status
from tests.factories import AnonymousMessageFactory, PageRuleFactory, SegmentFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def step_url(message, step):
    return reverse("campaigns:wizard-step", args=[message.workspace_id, message.pk, step])


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def draft(workspace):
    """A draft whose first six steps are saved: every step may be opened."""
    return AnonymousMessageFactory(workspace=workspace, name="Pricing offer", wizard_step=7)


@pytest.fixture
def fresh_draft(workspace):
    """A draft that has only saved its name."""
    return AnonymousMessageFactory(
        workspace=workspace, name="Fresh", wizard_step=2, content_html=""
    )


# --- Step 1: name ------------------------------------------------------------------------------


def test_new_message_page_shows_step_one_with_the_progress_indicator(owner_client, workspace):
    response = owner_client.get(reverse("campaigns:message-create", args=[workspace.pk]))
    assert response.status_code == 200
    body = text_of(response)
    assert "Step 1 of 7" in body
    for title in ("Name", "Page rules", "Frequency", "Goal", "Content", "Schedule", "Review"):
        assert title in body
    assert 'aria-current="step"' in body
    assert AnonymousMessage.objects.count() == 0


def test_saving_the_name_creates_a_draft_and_opens_page_rules(owner_client, workspace):
    response = owner_client.post(
        reverse("campaigns:message-create", args=[workspace.pk]),
        {"name": "  Pricing offer ", "description": "For the spring campaign", "go": "next"},
    )
    message = AnonymousMessage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == step_url(message, "rules")
    assert (message.workspace, message.name, message.status) == (
        workspace,
        "Pricing offer",
        "draft",
    )
    assert message.description == "For the spring campaign"
    assert message.wizard_step == 2


def test_a_blank_name_is_refused_with_what_to_do_and_nothing_is_created(owner_client, workspace):
    response = owner_client.post(
        reverse("campaigns:message-create", args=[workspace.pk]), {"name": "   "}
    )
    assert response.status_code == 400
    assert "Give the message a name" in text_of(response)
    assert AnonymousMessage.objects.count() == 0


def test_htmx_step_one_answers_with_the_next_step_region_and_pushes_its_url(
    owner_client, workspace
):
    response = owner_client.post(
        reverse("campaigns:message-create", args=[workspace.pk]), {"name": "Offer"}, **HTMX
    )
    message = AnonymousMessage.objects.get()
    assert response.status_code == 200
    assert response["HX-Push-Url"] == step_url(message, "rules")
    body = text_of(response)
    assert body.lstrip().startswith('<div id="wizard"')
    assert "<html" not in body
    assert "No page rules: this message shows on every page" in body


def test_htmx_invalid_step_one_re_renders_the_region_with_the_error(owner_client, workspace):
    response = owner_client.post(
        reverse("campaigns:message-create", args=[workspace.pk]), {"name": ""}, **HTMX
    )
    assert response.status_code == 200
    assert '<div id="wizard"' in response.content.decode()
    assert "Give the message a name" in text_of(response)
    assert "HX-Push-Url" not in response


def test_renaming_a_draft_keeps_its_progress(owner_client, draft):
    response = owner_client.post(step_url(draft, "name"), {"name": "Renamed", "go": "next"})
    draft.refresh_from_db()
    assert response["Location"] == step_url(draft, "rules")
    assert (draft.name, draft.wizard_step) == ("Renamed", 7)


def test_save_and_exit_goes_to_the_message_page(owner_client, draft):
    response = owner_client.post(step_url(draft, "name"), {"name": "Renamed", "go": "exit"})
    assert response["Location"] == draft.get_absolute_url()


# --- Step 2: page rules ------------------------------------------------------------------------


def test_rules_step_warns_when_there_are_no_rules(owner_client, fresh_draft):
    body = text_of(owner_client.get(step_url(fresh_draft, "rules")))
    assert "No page rules: this message shows on every page" in body
    assert "Test a page" in body


def test_adding_a_rule_without_javascript_saves_it_and_comes_back(owner_client, fresh_draft):
    url = reverse("campaigns:rule-add", args=[fresh_draft.workspace_id, fresh_draft.pk])
    response = owner_client.post(
        url,
        {"exclude": "0", "platform": "web", "operator": "starts_with", "value": " /pricing "},
    )
    assert response.status_code == 302
    assert response["Location"] == step_url(fresh_draft, "rules")
    rule = PageRule.objects.get()
    assert (rule.message, rule.operator, rule.value, rule.exclude) == (
        fresh_draft,
        "starts_with",
        "/pricing",
        False,
    )
    body = text_of(owner_client.get(response["Location"]))
    assert "Show on web pages whose URL starts with “/pricing”" in body
    assert "No page rules" not in body


def test_adding_a_rule_with_htmx_returns_the_fresh_rules_region(owner_client, fresh_draft):
    url = reverse("campaigns:rule-add", args=[fresh_draft.workspace_id, fresh_draft.pk])
    response = owner_client.post(
        url,
        {
            "exclude": "1",
            "platform": "ios",
            "operator": "is",
            "value": "Checkout",
            "case_sensitive": "on",
        },
        **HTMX,
    )
    assert response.status_code == 200
    body = text_of(response)
    assert body.lstrip().startswith('<div id="rules"')
    assert "Don't show on iOS screens whose name is “Checkout” (case sensitive)" in body
    assert PageRule.objects.get().case_sensitive is True
    # The tester (below the Who section) hears that the rules changed and asks again.
    assert json.loads(response["HX-Trigger"]) == {"rules-changed": {}}
    tester = owner_client.get(
        reverse("campaigns:rule-test", args=[fresh_draft.workspace_id, fresh_draft.pk]),
        {"test-platform": "ios", "test-target": "Checkout"},
        **HTMX,
    )
    assert "Does not show here." in text_of(tester)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"operator": "sounds_like"}, "Unknown operator “sounds_like”: choose one from the list."),
        ({"platform": "windows"}, "Unknown platform “windows”"),
        ({"operator": "regex", "value": "([a-z]"}, "This regular expression does not compile"),
        ({"operator": "regex", "value": "a" * 301}, "Regular expressions are limited to 300"),
        ({"value": "  "}, "Enter a value, e.g. /pricing"),
        ({"value": "/" + "x" * 600}, "at most 500 characters"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_invalid_rules_are_refused_with_the_reason_and_nothing_is_saved(
    owner_client, fresh_draft, data, error, htmx
):
    url = reverse("campaigns:rule-add", args=[fresh_draft.workspace_id, fresh_draft.pk])
    form = {"exclude": "0", "platform": "web", "operator": "is", "value": "/pricing", **data}
    response = owner_client.post(url, form, **(HTMX if htmx else {}))
    assert response.status_code == (200 if htmx else 400)  # htmx swaps only 2xx answers
    assert error in text_of(response)
    assert PageRule.objects.count() == 0


def test_removing_a_rule(owner_client, fresh_draft):
    rule = PageRuleFactory(message=fresh_draft)
    url = reverse("campaigns:rule-delete", args=[fresh_draft.workspace_id, fresh_draft.pk, rule.pk])
    response = owner_client.post(url, **HTMX)
    assert response.status_code == 200
    assert "No page rules: this message shows on every page" in text_of(response)
    assert PageRule.objects.count() == 0


def test_a_rule_of_another_message_cannot_be_removed_through_this_one(
    owner_client, fresh_draft, workspace
):
    other_rule = PageRuleFactory(message=AnonymousMessageFactory(workspace=workspace))
    url = reverse(
        "campaigns:rule-delete", args=[fresh_draft.workspace_id, fresh_draft.pk, other_rule.pk]
    )
    assert owner_client.post(url).status_code == 404
    assert PageRule.objects.filter(pk=other_rule.pk).exists()


def test_the_rule_tester_explains_with_htmx(owner_client, fresh_draft):
    PageRuleFactory(message=fresh_draft, operator="matches", value="/blog/*")
    PageRuleFactory(message=fresh_draft, operator="is", value="/blog/launch", exclude=True)
    url = reverse("campaigns:rule-test", args=[fresh_draft.workspace_id, fresh_draft.pk])
    response = owner_client.get(
        url, {"test-platform": "web", "test-target": "https://x.com/blog/launch/?a=1"}, **HTMX
    )
    body = text_of(response)
    assert body.lstrip().startswith('<div id="rule-test"')
    assert "✗ Does not show here." in body
    assert "Excluded by: web path is “/blog/launch”." in body
    assert "path “/blog/launch” matches “/blog/*”" in body


def test_the_rule_tester_says_when_a_url_cannot_be_read(owner_client, fresh_draft):
    PageRuleFactory(message=fresh_draft, operator="contains", value="http://[::1")
    url = reverse("campaigns:rule-test", args=[fresh_draft.workspace_id, fresh_draft.pk])
    response = owner_client.get(url, {"test-platform": "web", "test-target": "http://[::1"}, **HTMX)
    assert response.status_code == 200
    assert "This is not a URL a browser could be on" in text_of(response)


def test_the_rule_tester_works_without_javascript(owner_client, fresh_draft):
    PageRuleFactory(message=fresh_draft, platform="android", operator="is", value="Home")
    url = reverse("campaigns:rule-test", args=[fresh_draft.workspace_id, fresh_draft.pk])
    response = owner_client.get(url, {"test-platform": "android", "test-target": "home"})
    body = text_of(response)
    assert response.status_code == 200
    assert "<html" in body and "Step 2 of 7" in body
    assert "✓ Shows here." in body
    assert 'value="home"' in body


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_back_saves_the_step_and_opens_the_previous_one(owner_client, draft, headers):
    response = owner_client.post(
        step_url(draft, "frequency"),
        {"mode": "times", "times": "4", "min_interval": "0", "go": "back"},
        **headers,
    )
    draft.refresh_from_db()
    assert (draft.frequency_mode, draft.frequency_times) == ("times", 4)
    if headers:
        assert response["HX-Push-Url"] == step_url(draft, "rules")
        assert "Step 2 of 7" in text_of(response)
    else:
        assert response["Location"] == step_url(draft, "rules")


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_back_with_invalid_input_goes_back_and_says_it_was_not_saved(owner_client, draft, headers):
    draft.frequency_mode, draft.frequency_times = "times", 2
    draft.save()
    response = owner_client.post(
        step_url(draft, "frequency"),
        {"mode": "times", "times": "0", "go": "back"},
        follow=not headers,
        **headers,
    )
    draft.refresh_from_db()
    assert draft.frequency_times == 2
    body = text_of(response)
    assert "Step 2 of 7" in body
    assert "Your changes to “Frequency” were not saved: Show it at least once" in body


def test_the_back_button_submits_the_step(owner_client, draft):
    body = text_of(owner_client.get(step_url(draft, "frequency")))
    assert re.search(r'<button[^>]*name="go" value="back"[^>]*formnovalidate', body)


def test_next_on_the_rules_step_opens_frequency(owner_client, fresh_draft):
    response = owner_client.post(step_url(fresh_draft, "rules"), {"go": "next"})
    fresh_draft.refresh_from_db()
    assert response["Location"] == step_url(fresh_draft, "frequency")
    assert fresh_draft.wizard_step == 3


# --- Step 3: frequency -------------------------------------------------------------------------


def test_frequency_up_to_n_times_with_a_minimum_interval(owner_client, draft):
    response = owner_client.post(
        step_url(draft, "frequency"),
        {"mode": "times", "times": "3", "min_interval": "2", "min_interval_unit": "hours"},
    )
    draft.refresh_from_db()
    assert response["Location"] == step_url(draft, "goal")
    assert (draft.frequency_mode, draft.frequency_times, draft.min_interval_seconds) == (
        "times",
        3,
        7200,
    )


def test_frequency_shows_the_saved_interval_in_its_unit(owner_client, draft):
    draft.min_interval_seconds = 2 * 86400
    draft.save()
    body = text_of(owner_client.get(step_url(draft, "frequency")))
    assert 'name="min_interval" value="2"' in body
    assert '<option value="days" selected>' in body


def checked_radios(body: str, name: str) -> list[str]:
    inputs = re.findall(rf'<input type="radio" name="{name}"[^>]*>', body)
    return [re.search(r'value="([^"]*)"', tag).group(1) for tag in inputs if " checked" in tag]


def test_frequency_defaults_to_until_dismissed(owner_client, draft):
    body = owner_client.get(step_url(draft, "frequency")).content.decode()
    assert checked_radios(body, "mode") == ["until_dismissed"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"mode": "times", "times": ""}, "Enter how many times a visitor may see it"),
        ({"mode": "times", "times": "0"}, "Show it at least once"),
        ({"mode": "sometimes"}, "Select a valid choice"),
        ({"mode": "always", "min_interval": "-1"}, "Enter 0 (no minimum) or more."),
        ({"mode": "always", "min_interval": "400", "min_interval_unit": "days"}, "under a year"),
    ],
)
def test_invalid_frequency_is_refused(owner_client, draft, data, error):
    response = owner_client.post(step_url(draft, "frequency"), data)
    assert response.status_code == 400
    assert error in text_of(response)
    draft.refresh_from_db()
    assert draft.frequency_mode == "until_dismissed"


def test_htmx_invalid_frequency_re_renders_the_step(owner_client, draft):
    response = owner_client.post(step_url(draft, "frequency"), {"mode": "times"}, **HTMX)
    assert response.status_code == 200
    assert "Enter how many times a visitor may see it" in text_of(response)


# --- Step 4: goal ------------------------------------------------------------------------------


def test_goal_defaults_are_click_and_seven_days(owner_client, draft):
    body = owner_client.get(step_url(draft, "goal")).content.decode()
    assert 'name="window" value="7"' in body
    assert '<option value="days" selected>' in body
    response = owner_client.post(
        step_url(draft, "goal"),
        {"trigger": "click", "window": "7", "window_unit": "days", "condition": "none"},
    )
    assert response["Location"] == step_url(draft, "content")


def test_goal_with_a_segment_of_the_workspace(owner_client, draft, workspace):
    segment = SegmentFactory(workspace=workspace, name="Paying")
    response = owner_client.post(
        step_url(draft, "goal"),
        {
            "trigger": "view",
            "window": "36",
            "window_unit": "hours",
            "condition": "segment_entered",
            "segment": segment.pk,
            "event": "ignored",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.goal_trigger, draft.goal_window_hours, draft.goal_condition) == (
        "view",
        36,
        "segment_entered",
    )
    assert (draft.goal_segment, draft.goal_event) == (segment, "")


def test_goal_with_an_event(owner_client, draft):
    owner_client.post(
        step_url(draft, "goal"),
        {
            "trigger": "click",
            "window": "1",
            "window_unit": "days",
            "condition": "event",
            "event": " Started Trial ",
        },
    )
    draft.refresh_from_db()
    assert (draft.goal_condition, draft.goal_event, draft.goal_window_hours) == (
        "event",
        "Started Trial",
        24,
    )


def test_the_goal_step_offers_only_this_workspaces_segments(owner_client, draft, workspace):
    SegmentFactory(workspace=workspace, name="Ours")
    SegmentFactory(name="Theirs")
    body = text_of(owner_client.get(step_url(draft, "goal")))
    assert "Ours" in body
    assert "Theirs" not in body


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"window": "31", "window_unit": "days"}, "at most 30 days"),
        ({"window": "721", "window_unit": "hours"}, "at most 30 days"),
        ({"window": "0"}, "at least 1 hour"),
        ({"window": ""}, "Enter the conversion window"),
        ({"condition": "event", "event": " "}, "Enter the event name"),
        ({"condition": "segment_left"}, "no segments yet"),
    ],
)
def test_invalid_goals_are_refused(owner_client, draft, data, error):
    form = {"trigger": "click", "window": "7", "window_unit": "days", "condition": "none", **data}
    response = owner_client.post(step_url(draft, "goal"), form)
    assert response.status_code == 400
    assert error in text_of(response)


def test_a_segment_of_another_workspace_is_refused(owner_client, draft, workspace):
    SegmentFactory(workspace=workspace)
    foreign = SegmentFactory(name="Theirs")
    response = owner_client.post(
        step_url(draft, "goal"),
        {
            "trigger": "click",
            "window": "7",
            "window_unit": "days",
            "condition": "segment_entered",
            "segment": foreign.pk,
        },
    )
    assert response.status_code == 400
    assert "That segment does not exist in this workspace" in text_of(response)
    draft.refresh_from_db()
    assert draft.goal_segment is None


# --- Step 5: content and display ---------------------------------------------------------------

BUILDER = {
    "mode": "builder",
    "heading": "Get 20% off",
    "text": "Create a free account.\n\nIt takes a minute.",
    "image_url": "https://example.com/offer.png",
    "button1_label": "Sign up",
    "button1_action": "",
    "button1_url": "/signup",
    "button2_label": "Maybe later",
    "button2_action": "later",
    "button2_url": "",
    "button3_label": "",
    "close_button": "on",
    "display_type": "modal",
    "display_position": "center",
    "close_on_backdrop": "on",
}


def test_the_builder_produces_html_with_tracked_actions(owner_client, draft):
    response = owner_client.post(step_url(draft, "content"), BUILDER)
    assert response["Location"] == step_url(draft, "schedule")
    draft.refresh_from_db()
    assert '<button class="primary" data-action="sign-up" data-url="/signup">Sign up</button>' in (
        draft.content_html
    )
    assert 'data-action="later"' in draft.content_html
    assert "<p>Create a free account.</p>" in draft.content_html
    assert "data-dismiss" in draft.content_html
    assert draft.content_builder["buttons"][0] == {
        "kind": "action",  # a form without kinds (posted before they existed) tracks clicks
        "label": "Sign up",
        "action": "sign-up",
        "url": "/signup",
    }
    assert (draft.display_type, draft.display_position, draft.close_on_backdrop) == (
        "modal",
        "center",
        True,
    )


def test_the_content_step_shows_the_builder_fields_again(owner_client, draft):
    owner_client.post(step_url(draft, "content"), BUILDER)
    body = text_of(owner_client.get(step_url(draft, "content")))
    assert 'value="Get 20% off"' in body
    assert 'value="sign-up"' in body
    assert "Live preview" in body


def test_raw_html_is_kept_as_written(owner_client, draft):
    markup = '<div><h2>Hi</h2><a href="/join" data-action="join">Join</a></div>'
    response = owner_client.post(
        step_url(draft, "content"),
        {"mode": "html", "html": markup, "display_type": "banner", "display_position": "bottom"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.content_html, draft.content_builder) == (markup, None)
    assert (draft.display_type, draft.display_position) == ("banner", "bottom")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {"mode": "html", "html": "<p>Hi {{ first_name }}</p>"},
            "Liquid is not supported in anonymous messages (found “{{ first_name }}”): the "
            "visitor is anonymous, so there is nothing to personalise.",
        ),
        ({"mode": "html", "html": "<p>{% if x %}</p>"}, "Liquid is not supported"),
        ({"heading": "Hi {{ name }}"}, "Liquid is not supported (found “{{ name }}”)"),
        ({"mode": "html", "html": "<p>" + "x" * MAX_HTML_BYTES + "</p>"}, "the limit is 65,536"),
        ({"mode": "html", "html": "  "}, "The message has no content"),
        (
            {"mode": "html", "html": '<a data-action="go" href="javascript:alert(1)">x</a>'},
            "is not allowed",
        ),
        ({"heading": "", "text": ""}, "Add a heading or some text"),
        ({"button1_url": "javascript:alert(1)"}, "Enter a full address (https://…) or a path"),
        ({"button2_action": "sign-up"}, "Another button already reports “sign-up”"),
        ({"button1_action": "sign up!"}, "Use letters, digits, - _ . or : for the action name"),
        ({"button3_url": "/x"}, "Give the button a label, or clear it."),
        ({"image_url": "not a url"}, "Enter the full address of the image"),
        ({"display_type": "banner", "display_position": "center"}, "Top or Bottom"),
        ({"display_type": "overlay", "display_position": "top"}, "Bottom right"),
        ({"display_type": "inline", "display_element_id": ""}, "Inline messages need the element"),
        ({"display_type": "inline", "display_element_id": "my slot"}, "An id has no spaces"),
        ({"display_type": "popup"}, "Select a valid choice"),
    ],
)
def test_invalid_content_is_refused_with_an_explanation(owner_client, draft, data, error):
    before = draft.content_html
    response = owner_client.post(step_url(draft, "content"), {**BUILDER, **data})
    assert response.status_code == 400
    assert error in text_of(response)
    draft.refresh_from_db()
    assert draft.content_html == before


def test_inline_messages_keep_the_element_id_without_hash(owner_client, draft):
    owner_client.post(
        step_url(draft, "content"),
        {**BUILDER, "display_type": "inline", "display_element_id": "#signup-slot"},
    )
    draft.refresh_from_db()
    assert (draft.display_type, draft.display_element_id) == ("inline", "signup-slot")


def test_the_live_preview_renders_posted_content_in_a_sandboxed_iframe(owner_client, draft):
    url = reverse("campaigns:message-preview", args=[draft.workspace_id, draft.pk])
    response = owner_client.post(
        url, {**BUILDER, "display_type": "overlay", "display_position": "top-left"}, **HTMX
    )
    raw = response.content.decode()
    assert 'sandbox="allow-scripts"' in raw
    assert "allow-same-origin" not in raw
    assert "srcdoc=" in raw
    body = text_of(response)
    assert "Get 20% off" in body
    assert "msg overlay top-left" in body
    assert "sign-up" in body and "→ /signup" in body  # the tracked actions list
    draft.refresh_from_db()
    assert "Get 20% off" not in draft.content_html  # a preview never saves


def test_the_live_preview_shows_the_liquid_error(owner_client, draft):
    url = reverse("campaigns:message-preview", args=[draft.workspace_id, draft.pk])
    response = owner_client.post(url, {**BUILDER, "mode": "html", "html": "Hi {{ name }}"})
    assert "Liquid is not supported" in text_of(response)


def test_update_preview_without_javascript_shows_but_does_not_save(owner_client, draft):
    response = owner_client.post(
        step_url(draft, "content"), {**BUILDER, "heading": "Unsaved heading", "go": "preview"}
    )
    assert response.status_code == 200
    assert "Unsaved heading" in text_of(response)
    draft.refresh_from_db()
    assert "Unsaved heading" not in draft.content_html


def test_message_html_cannot_break_out_of_the_preview_attribute(owner_client, draft):
    draft.content_html = '<p>"quoted"</p><script>alert("x")</script>'
    draft.content_builder = None
    draft.save()
    raw = owner_client.get(step_url(draft, "content")).content.decode()
    assert "<script>alert(" not in raw
    assert raw.count('<iframe class="preview-frame"') == 1


# --- Step 6: schedule --------------------------------------------------------------------------


def test_schedule_dates_are_read_in_the_workspace_time_zone(owner_client, draft, workspace):
    workspace.time_zone = "Europe/Paris"
    workspace.save()
    year = timezone.now().year + 1
    response = owner_client.post(
        step_url(draft, "schedule"),
        {
            "start": "at",
            "starts_at": f"{year}-07-01T09:00",
            "end": "at",
            "ends_at": f"{year}-07-31T18:30",
        },
    )
    assert response["Location"] == step_url(draft, "review")
    draft.refresh_from_db()
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    assert draft.starts_at == dt.datetime(year, 7, 1, 9, 0, tzinfo=paris)
    assert draft.starts_at.astimezone(dt.UTC).hour == 7
    assert draft.ends_at == dt.datetime(year, 7, 31, 18, 30, tzinfo=paris)
    body = owner_client.get(step_url(draft, "schedule")).content.decode()
    assert f'value="{year}-07-01T09:00"' in body
    assert "Europe/Paris" in body


def test_start_now_and_never_end_clear_the_dates(owner_client, draft):
    draft.starts_at = timezone.now() + dt.timedelta(days=3)
    draft.save()
    owner_client.post(
        step_url(draft, "schedule"),
        {"start": "now", "starts_at": "2031-01-01T00:00", "end": "never"},
    )
    draft.refresh_from_db()
    assert (draft.starts_at, draft.ends_at) == (None, None)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {
                "start": "at",
                "starts_at": "2031-05-02T10:00",
                "end": "at",
                "ends_at": "2031-05-01T10:00",
            },
            "The end must be after the start",
        ),
        ({"start": "now", "end": "at", "ends_at": "2001-01-01T10:00"}, "The end is in the past"),
        ({"start": "at", "starts_at": "", "end": "never"}, "Pick the start date and time"),
        ({"start": "now", "end": "at", "ends_at": ""}, "Pick the end date and time"),
        ({"start": "at", "starts_at": "someday", "end": "never"}, "Enter a date and time"),
    ],
)
def test_invalid_schedules_are_refused(owner_client, draft, data, error):
    response = owner_client.post(step_url(draft, "schedule"), data)
    assert response.status_code == 400
    assert error in text_of(response)
    draft.refresh_from_db()
    assert (draft.starts_at, draft.ends_at) == (None, None)


# --- Step 7: review ----------------------------------------------------------------------------


def test_review_summarises_every_step_with_edit_links_and_warnings(owner_client, draft):
    body = text_of(owner_client.get(step_url(draft, "review")))
    for step in ("name", "rules", "frequency", "goal", "content", "schedule"):
        assert f'href="{step_url(draft, step)}"' in body
    assert "No page rules: this message shows on every page" in body
    assert "Launch anonymous message" in body
    assert 'sandbox="allow-scripts"' in body


def test_review_lists_what_blocks_the_launch(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, content_html="", wizard_step=7)
    body = text_of(owner_client.get(step_url(message, "review")))
    assert "Before you can launch:" in body
    assert "The message has no content" in body
    assert "disabled" in body


def test_review_warns_when_the_goal_counts_clicks_but_nothing_is_clickable(owner_client, draft):
    draft.content_html = "<p>Just text</p>"
    draft.save()
    body = text_of(owner_client.get(step_url(draft, "review")))
    assert "the content has none" in body


def test_a_launched_message_reviews_with_save_changes(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    body = text_of(owner_client.get(step_url(message, "review")))
    assert "Save changes" in body
    assert "Launch anonymous message" not in body
    response = owner_client.post(step_url(message, "review"), {"go": "next"})
    assert response["Location"] == message.get_absolute_url()


# --- Navigation, gating, scoping ----------------------------------------------------------------


def test_steps_not_reached_yet_redirect_to_the_furthest_step(owner_client, fresh_draft):
    response = owner_client.get(step_url(fresh_draft, "content"))
    assert response.status_code == 302
    assert response["Location"] == step_url(fresh_draft, "rules")


def test_the_progress_indicator_links_only_to_reached_steps(owner_client, fresh_draft):
    body = owner_client.get(step_url(fresh_draft, "rules")).content.decode()
    assert f'href="{step_url(fresh_draft, "name")}"' in body
    assert f'href="{step_url(fresh_draft, "frequency")}"' not in body


def test_continue_editing_resumes_at_the_furthest_step(owner_client, fresh_draft):
    url = reverse("campaigns:message-edit", args=[fresh_draft.workspace_id, fresh_draft.pk])
    assert owner_client.get(url)["Location"] == step_url(fresh_draft, "rules")


def test_htmx_step_links_render_only_the_wizard_region(owner_client, draft):
    response = owner_client.get(step_url(draft, "goal"), **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="wizard"')
    assert "Step 4 of 7" in body
    assert "HX-Request" in response["Vary"]


def test_an_unknown_step_is_a_404(owner_client, draft):
    assert owner_client.get(step_url(draft, "colours")).status_code == 404


def test_ended_messages_cannot_be_edited(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, status=Status.ENDED)
    response = owner_client.post(step_url(message, "name"), {"name": "New"})
    assert response["Location"] == message.get_absolute_url()
    message.refresh_from_db()
    assert message.name != "New"
    follow = owner_client.get(response["Location"])
    assert "can no longer be edited. Duplicate it" in text_of(follow)


def test_editing_a_live_message_changes_the_content_version(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    before = Workspace.objects.get(pk=workspace.pk).content_version
    response = owner_client.post(step_url(message, "content"), BUILDER)
    assert response.status_code == 302
    assert Workspace.objects.get(pk=workspace.pk).content_version > before
    message.refresh_from_db()
    assert "Get 20% off" in message.content_html
    assert message.status == Status.LAUNCHED


def test_adding_a_rule_to_a_live_message_changes_the_content_version(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    before = Workspace.objects.get(pk=workspace.pk).content_version
    owner_client.post(
        reverse("campaigns:rule-add", args=[workspace.pk, message.pk]),
        {"exclude": "0", "platform": "web", "operator": "is", "value": "/x"},
    )
    assert Workspace.objects.get(pk=workspace.pk).content_version > before


STEPS = ["name", "rules", "frequency", "goal", "content", "schedule", "review"]


@pytest.mark.parametrize("step", STEPS)
def test_outsiders_get_a_404_on_every_step(outsider_client, draft, step):
    assert outsider_client.get(step_url(draft, step)).status_code == 404
    assert outsider_client.post(step_url(draft, step), {"name": "x"}).status_code == 404


@pytest.mark.parametrize("step", STEPS)
def test_another_workspaces_message_is_a_404_on_every_step(owner_client, workspace, step):
    foreign = AnonymousMessageFactory(wizard_step=7)
    url = reverse("campaigns:wizard-step", args=[workspace.pk, foreign.pk, step])
    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url, {"name": "Hijacked"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.name != "Hijacked"


@pytest.mark.parametrize(
    "name", ["rule-add", "rule-test", "message-preview", "message-edit", "message-detail"]
)
def test_another_workspaces_message_is_a_404_on_inline_endpoints(owner_client, workspace, name):
    foreign = AnonymousMessageFactory()
    url = reverse(f"campaigns:{name}", args=[workspace.pk, foreign.pk])
    response = owner_client.post(url) if name in ("rule-add",) else owner_client.get(url)
    assert response.status_code == 404


@pytest.mark.parametrize("step", STEPS)
def test_free_plan_gets_the_upgrade_page_on_every_step(owner_client, draft, workspace, step):
    workspace.plan = Plan.FREE
    workspace.save()
    response = owner_client.get(step_url(draft, step))
    assert response.status_code == 200
    assert "You might not have access to this feature!" in text_of(response)
    response = owner_client.post(step_url(draft, step), {"name": "Changed"})
    assert "You might not have access to this feature!" in text_of(response)
    draft.refresh_from_db()
    assert draft.name == "Pricing offer"


def test_free_plan_gets_the_upgrade_page_instead_of_the_new_message_form(owner_client, workspace):
    workspace.plan = Plan.FREE
    workspace.save()
    url = reverse("campaigns:message-create", args=[workspace.pk])
    owner_client.post(url, {"name": "Sneaky"})
    assert "You might not have access" in text_of(owner_client.get(url))
    assert AnonymousMessage.objects.count() == 0


def test_anonymous_visitors_are_sent_to_log_in(client, draft):
    response = client.get(step_url(draft, "name"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Hardening (issue 10): costly rules ---------------------------------------------------------


def test_the_rule_tester_answers_quickly_for_a_star_heavy_rule_on_a_long_path(
    owner_client, fresh_draft
):
    # Saved before wildcards were capped: the matcher must stay linear for such rules.
    PageRuleFactory(message=fresh_draft, operator="matches", value="/" + "*" * 40 + "x")
    url = reverse("campaigns:rule-test", args=[fresh_draft.workspace_id, fresh_draft.pk])
    started = time.thread_time()
    response = owner_client.get(
        url, {"test-platform": "web", "test-target": "/" + "a" * 1900}, **HTMX
    )
    assert time.thread_time() - started < 0.5
    assert "✗ Does not show here." in text_of(response)


def test_the_dashboard_refuses_a_rule_past_the_apis_limit_of_100(owner_client, fresh_draft):
    PageRule.objects.bulk_create(
        PageRule(message=fresh_draft, operator="is", value=f"/p{n}", position=n) for n in range(100)
    )
    url = reverse("campaigns:rule-add", args=[fresh_draft.workspace_id, fresh_draft.pk])
    form = {"exclude": "0", "platform": "web", "operator": "is", "value": "/one-more"}
    response = owner_client.post(url, form, **HTMX)
    assert "A message has at most 100 page rules" in text_of(response)
    assert fresh_draft.rules.count() == 100


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("/" + "*" * 40 + "x", "at most 20 * wildcards"),
        ("(a{1000}){1000}", "repeats too much"),
    ],
)
def test_the_dashboard_refuses_costly_patterns(owner_client, fresh_draft, value, error):
    url = reverse("campaigns:rule-add", args=[fresh_draft.workspace_id, fresh_draft.pk])
    operator = "matches" if "*" in value else "regex"
    form = {"exclude": "0", "platform": "web", "operator": operator, "value": value}
    response = owner_client.post(url, form, **HTMX)
    assert error in text_of(response)
    assert PageRule.objects.count() == 0
