"""The wizard's Who (audience conditions on the Page rules step, the visit tester) and When
(the display trigger on the Frequency step), and where they show up afterwards."""

import html
import json
import re

import pytest
from django.urls import reverse

from campaigns import lifecycle
from tests.factories import AnonymousMessageFactory, PageRuleFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
SAVED_AUDIENCE = [{"attribute": "device", "operator": "is", "value": "desktop"}]
SAVED_TRIGGER = {"type": "scroll", "percent": 30}


def step_url(message, step):
    return reverse("campaigns:wizard-step", args=[message.workspace_id, message.pk, step])


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def draft(workspace):
    return AnonymousMessageFactory(
        workspace=workspace,
        name="Pricing offer",
        wizard_step=7,
        audience=SAVED_AUDIENCE,
        trigger=SAVED_TRIGGER,
    )


def rows(*conditions, initial=0):
    """The audience formset's POST data for these rows (dicts of row fields)."""
    data = {
        "audience-TOTAL_FORMS": str(len(conditions)),
        "audience-INITIAL_FORMS": str(initial),
        "audience-MIN_NUM_FORMS": "0",
        "audience-MAX_NUM_FORMS": "10",
    }
    for index, condition in enumerate(conditions):
        for key, value in condition.items():
            data[f"audience-{index}-{key}"] = value
    return data


def error_under(body: str, field_name: str) -> str:
    """The error shown in the cell of `field_name` (an `audience-0-value` box, say)."""
    match = re.search(
        rf'<div class="audience-cell [^"]*field-invalid">(?:<span[^>]*>[^<]*</span>)?'
        rf'<[^>]*name="{field_name}".*?<p class="field-error" role="alert">(.*?)</p>',
        body,
        re.S,
    )
    return match.group(1) if match else ""


# --- Who: the audience on the Page rules step --------------------------------------------------


def test_a_message_without_conditions_is_for_everyone(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, wizard_step=2)
    body = text_of(owner_client.get(step_url(message, "rules")))
    assert "<strong>Everyone</strong> who visits a matching page." in body
    assert 'name="audience-TOTAL_FORMS" value="0"' in body
    assert "+ Add condition" in body


def test_saved_conditions_are_shown_as_rows(owner_client, draft):
    draft.audience = [
        {"attribute": "sessions", "operator": "gte", "value": 3},
        {"attribute": "referrer", "operator": "contains", "value": "google"},
    ]
    draft.save()
    body = text_of(owner_client.get(step_url(draft, "rules")))
    assert 'name="audience-TOTAL_FORMS" value="2"' in body
    assert re.search(r'<option value="sessions"[^>]*selected', body)
    assert 'name="audience-0-count" value="3"' in body
    assert 'name="audience-1-value" value="google"' in body
    assert "Everyone who visits" not in body


def test_saving_conditions_stores_them_in_the_api_shape(owner_client, draft):
    data = rows(
        {"attribute": "referrer", "operator": "contains", "value": " https://www.Google.com/x "},
        {"attribute": "device", "operator": "is_not", "device": "tablet"},
        {"attribute": "visitor", "operator": "contains", "visitor": "returning"},
        {"attribute": "sessions", "operator": "is", "count": "3"},
        {"attribute": "language", "operator": "starts_with", "value": "DE"},
        {"attribute": "utm_campaign", "operator": "is", "value": "spring"},
        {"attribute": "", "operator": "is", "value": "", "count": ""},  # a blank row
        initial=1,
    )
    response = owner_client.post(step_url(draft, "rules"), {**data, "go": "next"})
    assert response.status_code == 302
    assert response["Location"] == step_url(draft, "frequency")
    draft.refresh_from_db()
    assert draft.audience == [
        {"attribute": "referrer", "operator": "contains", "value": "google.com"},
        {"attribute": "device", "operator": "is_not", "value": "tablet"},
        # One operator: what the hidden select said does not matter.
        {"attribute": "visitor", "operator": "is", "value": "returning"},
        {"attribute": "sessions", "operator": "gte", "value": 3},
        {"attribute": "language", "operator": "starts_with", "value": "de"},
        {"attribute": "utm_campaign", "operator": "is", "value": "spring"},
    ]


def test_removing_every_row_makes_it_for_everyone_again(owner_client, draft):
    response = owner_client.post(step_url(draft, "rules"), {**rows(initial=1), "go": "next"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.audience == []


def test_next_with_the_same_conditions_saves_nothing(owner_client, draft):
    draft.workspace.refresh_from_db()
    version = draft.workspace.content_version
    data = rows({"attribute": "device", "operator": "is", "device": "desktop"}, initial=1)
    response = owner_client.post(step_url(draft, "rules"), {**data, "go": "next"})
    assert response.status_code == 302
    draft.workspace.refresh_from_db()
    assert draft.workspace.content_version == version  # SDK caches stay warm


def test_a_post_without_the_rows_leaves_the_audience_alone(owner_client, draft):
    response = owner_client.post(step_url(draft, "rules"), {"go": "next"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.audience == SAVED_AUDIENCE


@pytest.mark.parametrize(
    ("row", "field", "error"),
    [
        ({"attribute": "shoe_size", "value": "42"}, "attribute", "Unknown attribute “shoe_size”"),
        ({"attribute": "", "value": "google"}, "attribute", "Choose what to check"),
        ({"attribute": "referrer", "operator": "gte", "value": "x"}, "operator", "“is”"),
        (
            {"attribute": "device", "operator": "contains", "device": "phone"},
            "operator",
            "Device takes “is” or “is not”.",
        ),
        ({"attribute": "referrer", "operator": "bogus", "value": "x"}, "operator", "Unknown"),
        ({"attribute": "referrer", "operator": "is", "value": "  "}, "value", "Enter the value"),
        ({"attribute": "referrer", "operator": "is", "value": "/"}, "value", "Enter a domain"),
        ({"attribute": "utm_source", "operator": "is", "value": "x" * 201}, "value", "under 200"),
        ({"attribute": "language", "operator": "is", "value": ""}, "value", "Enter the value"),
        ({"attribute": "device", "operator": "is", "device": "toaster"}, "device", "Use one of"),
        ({"attribute": "visitor", "visitor": "vip"}, "visitor", "Use one of new, returning"),
        ({"attribute": "sessions", "count": "0"}, "count", "from 1 to 10000"),
        ({"attribute": "sessions", "count": "10001"}, "count", "from 1 to 10000"),
        ({"attribute": "session_pageviews", "count": "two"}, "count", "from 1 to 10000"),
        ({"attribute": "session_pageviews", "count": "²"}, "count", "from 1 to 10000"),
        ({"attribute": "sessions", "count": "9" * 5000}, "count", "from 1 to 10000"),
        ({"attribute": "sessions", "count": ""}, "count", "from 1 to 10000"),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_bad_condition_is_refused_under_its_field_and_nothing_is_saved(
    owner_client, draft, row, field, error, headers
):
    good = {"attribute": "utm_source", "operator": "is", "value": "newsletter"}
    response = owner_client.post(
        step_url(draft, "rules"), {**rows(good, row), "go": "next"}, **headers
    )
    assert response.status_code == (200 if headers else 400)  # htmx swaps only 2xx answers
    body = text_of(response)
    assert error in error_under(body, f"audience-1-{field}")
    assert "Check the audience conditions" in body  # and the step says so at the top
    draft.refresh_from_db()
    assert draft.audience == SAVED_AUDIENCE
    assert draft.wizard_step == 7


def test_more_than_ten_conditions_are_refused(owner_client, draft):
    many = [{"attribute": "sessions", "count": str(n)} for n in range(1, 12)]
    response = owner_client.post(step_url(draft, "rules"), {**rows(*many), "go": "next"})
    assert response.status_code == 400
    assert "A message has at most 10 audience conditions." in text_of(response)
    draft.refresh_from_db()
    assert draft.audience == SAVED_AUDIENCE


def test_a_tampered_row_count_is_an_error_not_a_crash(owner_client, draft):
    data = {**rows({"attribute": "sessions", "count": "2"}), "audience-TOTAL_FORMS": "lots"}
    response = owner_client.post(step_url(draft, "rules"), {**data, "go": "next"})
    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.audience == SAVED_AUDIENCE


def test_back_with_a_bad_condition_says_what_was_not_kept(owner_client, draft):
    data = rows({"attribute": "sessions", "count": "0"})
    response = owner_client.post(step_url(draft, "rules"), {**data, "go": "back"}, follow=True)
    body = text_of(response)
    assert "Your changes to “Page rules” were not saved" in body
    assert "Step 1 of 7" in body
    draft.refresh_from_db()
    assert draft.audience == SAVED_AUDIENCE


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_add_condition_shows_one_more_row_and_saves_nothing(owner_client, draft, headers):
    typed = rows({"attribute": "referrer", "operator": "is", "value": "bing.com"}, initial=1)
    response = owner_client.post(
        step_url(draft, "rules"), {**typed, "add_condition": "1"}, **headers
    )
    assert response.status_code == 200
    body = text_of(response)
    assert 'name="audience-TOTAL_FORMS" value="2"' in body
    assert 'name="audience-0-value" value="bing.com"' in body  # what was typed stays
    assert 'name="audience-1-attribute"' in body
    if headers:
        assert body.lstrip().startswith('<div id="audience"')
        assert json.loads(response["HX-Trigger"]) == {"audience-changed": {}}
    else:
        assert "<html" in body and "Step 2 of 7" in body
    draft.refresh_from_db()
    assert draft.audience == SAVED_AUDIENCE


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_remove_condition_drops_that_row_and_saves_nothing(owner_client, draft, headers):
    typed = rows(
        {"attribute": "referrer", "operator": "is", "value": "bing.com"},
        {"attribute": "sessions", "count": "4"},
        initial=2,
    )
    response = owner_client.post(
        step_url(draft, "rules"), {**typed, "remove_condition": "0"}, **headers
    )
    body = text_of(response)
    assert 'name="audience-TOTAL_FORMS" value="1"' in body
    assert 'name="audience-0-count" value="4"' in body
    assert "bing.com" not in body
    draft.refresh_from_db()
    assert draft.audience == SAVED_AUDIENCE


def test_the_last_row_removed_shows_everyone_again(owner_client, draft):
    typed = rows({"attribute": "sessions", "count": "4"}, initial=1)
    response = owner_client.post(
        step_url(draft, "rules"), {**typed, "remove_condition": "0"}, **HTMX
    )
    assert "Everyone</strong> who visits a matching page" in response.content.decode()


# --- The tester: this URL, from this referrer, on a phone ---------------------------------------


def ask_tester(client, message, **params):
    url = reverse("campaigns:rule-test", args=[message.workspace_id, message.pk])
    query = {"test-platform": "web", **{f"test-{k}": v for k, v in params.items()}}
    return client.get(url, query, **HTMX)


def test_the_tester_names_the_audience_condition_that_fails(owner_client, draft):
    PageRuleFactory(message=draft, operator="starts_with", value="/pricing")
    draft.audience = [
        {"attribute": "referrer", "operator": "contains", "value": "google"},
        {"attribute": "device", "operator": "is", "value": "phone"},
    ]
    draft.save()
    body = text_of(
        ask_tester(owner_client, draft, target="/pricing", referrer="https://www.google.de/search")
    )
    assert "✗ Does not show here." in body
    assert (
        "The page matches, but this visit is not in the audience: “On a phone” does not hold "
        "(this visit is on a desktop)." in body
    )
    assert "Audience: Referrer domain contains “google” — the referrer is google.de" in body

    body = text_of(
        ask_tester(owner_client, draft, target="/pricing", referrer="google.de", device="phone")
    )
    assert "✓ Shows here." in body
    assert "The visit meets every audience condition." in body


def test_the_tester_reads_utm_parameters_from_the_url(owner_client, draft):
    draft.audience = [{"attribute": "utm_source", "operator": "is", "value": "newsletter"}]
    draft.save()
    assert "✓ Shows here." in text_of(
        ask_tester(owner_client, draft, target="https://x.test/a?utm_source=Newsletter&b=1")
    )
    body = text_of(ask_tester(owner_client, draft, target="https://x.test/a"))
    assert "“UTM source is “newsletter”” does not hold (the landing page has no utm_source)" in (
        body
    )


def test_the_tester_counts_sessions_and_page_views(owner_client, draft):
    draft.audience = [
        {"attribute": "visitor", "operator": "is", "value": "returning"},
        {"attribute": "session_pageviews", "operator": "gte", "value": 3},
    ]
    draft.save()
    body = text_of(ask_tester(owner_client, draft, target="/", sessions="2", pageviews="2"))
    assert "“Page views in this session is at least 3” does not hold" in body
    assert "✓" in body and "Returning visitors — a returning visitor (session 2)" in body
    body = text_of(ask_tester(owner_client, draft, target="/", sessions="2", pageviews="3"))
    assert "✓ Shows here." in body


def test_an_app_screen_has_no_referrer(owner_client, draft):
    draft.audience = [{"attribute": "referrer", "operator": "is_not", "value": "spam.test"}]
    draft.save()
    body = text_of(ask_tester(owner_client, draft, platform="ios", target="Checkout"))
    assert "✗ Does not show here." in body
    assert "an app screen has no referrer" in body


def test_the_tester_uses_the_rows_on_the_screen_when_they_are_sent(owner_client, draft):
    url = reverse("campaigns:rule-test", args=[draft.workspace_id, draft.pk])
    unsaved = rows({"attribute": "device", "operator": "is", "device": "phone"})
    query = {"test-platform": "web", "test-target": "/", "test-device": "phone", **unsaved}
    body = text_of(owner_client.get(url, query, **HTMX))
    assert "✓ Shows here." in body
    assert "Audience: On a phone — this visit is on a phone" in body

    # Rows with a mistake: the saved audience stands in, and the tester says so.
    broken = rows({"attribute": "sessions", "count": "0"})
    body = text_of(owner_client.get(url, {**query, **broken}, **HTMX))
    assert "Audience: On a desktop — this visit is on a phone" in body
    assert "Tested with the saved audience" in body


def test_the_tester_explains_bad_visit_numbers(owner_client, draft):
    response = ask_tester(owner_client, draft, target="/", sessions="0")
    assert response.status_code == 200
    assert "Session number: Ensure this value is greater than or equal to 1." in text_of(response)


def test_the_tester_without_javascript_shows_the_whole_step(owner_client, draft):
    url = reverse("campaigns:rule-test", args=[draft.workspace_id, draft.pk])
    response = owner_client.get(
        url, {"test-platform": "web", "test-target": "/x", "test-device": "tablet"}
    )
    body = text_of(response)
    assert "Step 2 of 7" in body
    assert "Audience: On a desktop — this visit is on a tablet" in body
    assert re.search(r'<option value="tablet" selected', body)


# --- When: the trigger on the Frequency step ---------------------------------------------------


def frequency(**fields):
    return {"mode": "until_dismissed", "min_interval": "", "go": "next", **fields}


@pytest.mark.parametrize(
    ("fields", "stored"),
    [
        ({"trigger_type": "page_load", "trigger_seconds": "junk"}, {"type": "page_load"}),
        ({"trigger_type": "delay", "trigger_seconds": " 5 "}, {"type": "delay", "seconds": 5}),
        ({"trigger_type": "scroll", "trigger_percent": "50"}, {"type": "scroll", "percent": 50}),
        (
            {"trigger_type": "exit_intent", "trigger_fallbackSeconds": ""},
            {"type": "exit_intent", "fallbackSeconds": None},
        ),
        (
            {"trigger_type": "exit_intent", "trigger_fallbackSeconds": "10"},
            {"type": "exit_intent", "fallbackSeconds": 10},
        ),
        (
            {"trigger_type": "inactivity", "trigger_seconds": "600", "trigger_percent": "x"},
            {"type": "inactivity", "seconds": 600},
        ),
        (
            {"trigger_type": "click", "trigger_selector": " #pricing .cta "},
            {"type": "click", "selector": "#pricing .cta"},
        ),
        ({}, SAVED_TRIGGER),  # a POST without the trigger keeps it
    ],
)
def test_each_trigger_is_stored_in_the_api_shape(owner_client, draft, fields, stored):
    response = owner_client.post(step_url(draft, "frequency"), frequency(**fields))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.trigger == stored


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        ({"trigger_type": "teleport"}, "trigger_type", "Choose when the message appears"),
        ({"trigger_type": "delay", "trigger_seconds": ""}, "trigger_seconds", "whole number"),
        ({"trigger_type": "delay", "trigger_seconds": "0"}, "trigger_seconds", "1 to 600"),
        ({"trigger_type": "delay", "trigger_seconds": "601"}, "trigger_seconds", "1 to 600"),
        ({"trigger_type": "delay", "trigger_seconds": "2.5"}, "trigger_seconds", "whole number"),
        ({"trigger_type": "delay", "trigger_seconds": "²"}, "trigger_seconds", "whole number"),
        ({"trigger_type": "inactivity", "trigger_seconds": "9999999"}, "trigger_seconds", "1 to"),
        ({"trigger_type": "scroll", "trigger_percent": "101"}, "trigger_percent", "1 to 100"),
        ({"trigger_type": "scroll", "trigger_percent": "-5"}, "trigger_percent", "whole number"),
        ({"trigger_type": "click", "trigger_selector": ""}, "trigger_selector", "CSS selector"),
        ({"trigger_type": "click", "trigger_selector": "#a["}, "trigger_selector", "not a CSS"),
        (
            {"trigger_type": "click", "trigger_selector": "#" + "a" * 200},
            "trigger_selector",
            "under 200 characters",
        ),
        (
            {"trigger_type": "exit_intent", "trigger_fallbackSeconds": "0"},
            "trigger_fallbackSeconds",
            "1 to 600",
        ),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_bad_trigger_is_refused_under_its_field_and_nothing_is_saved(
    owner_client, draft, fields, field, error, headers
):
    response = owner_client.post(
        step_url(draft, "frequency"), frequency(mode="times", times="4", **fields), **headers
    )
    assert response.status_code == (200 if headers else 400)  # htmx swaps only 2xx answers
    body = text_of(response)
    under = re.search(
        rf'name="{field}".*?<p class="field-error" role="alert">(.*?)</p>', body, re.S
    )
    assert under and error in under.group(1)
    draft.refresh_from_db()
    assert draft.trigger == SAVED_TRIGGER
    assert draft.frequency_mode == "until_dismissed"  # the step is saved whole or not at all


def test_the_frequency_step_shows_the_saved_trigger(owner_client, draft):
    draft.trigger = {"type": "inactivity", "seconds": 45}
    draft.save()
    body = text_of(owner_client.get(step_url(draft, "frequency")))
    assert re.search(r'value="inactivity"[^>]*checked', body)
    assert 'name="trigger_seconds" value="45"' in body
    assert "When and how often" in body
    assert "exit intent never shows the message on phones and tablets" in body


# --- Review, the message page, duplicate, warnings ---------------------------------------------


@pytest.mark.parametrize("where", ["review", "detail"])
def test_review_and_the_message_page_show_who_and_when(owner_client, draft, where):
    draft.audience = [
        {"attribute": "device", "operator": "is", "value": "phone"},
        {"attribute": "utm_medium", "operator": "contains", "value": "mail"},
    ]
    draft.trigger = {"type": "delay", "seconds": 5}
    draft.save()
    url = step_url(draft, "review") if where == "review" else draft.get_absolute_url()
    body = text_of(owner_client.get(url))
    summary = body[body.index('<dl class="summary">') :]
    assert "Visitors who match all of:" in summary
    assert "<li>On a phone</li>" in summary
    assert "<li>UTM medium contains “mail”</li>" in summary
    assert "After 5 seconds on the page." in summary
    assert f'href="{step_url(draft, "rules")}#who">Edit<span class="visually-hidden"> audience' in (
        summary
    )
    assert f'href="{step_url(draft, "frequency")}">Edit<span class="visually-hidden"> trigger' in (
        summary
    )


def test_review_of_a_message_for_everyone_on_page_load(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, wizard_step=7)
    body = text_of(owner_client.get(step_url(message, "review")))
    assert "Everyone who visits a matching page." in body
    assert "As soon as the page loads." in body


def test_duplicating_copies_the_audience_and_the_trigger(draft):
    draft.audience = [{"attribute": "sessions", "operator": "gte", "value": 2}]
    draft.trigger = {"type": "click", "selector": "#buy"}
    draft.save()
    copy = lifecycle.duplicate_message(message=draft)
    assert copy.pk != draft.pk
    copy.refresh_from_db()
    assert copy.audience == [{"attribute": "sessions", "operator": "gte", "value": 2}]
    assert copy.trigger == {"type": "click", "selector": "#buy"}


def test_exit_intent_without_a_fallback_is_a_warning(owner_client, draft):
    draft.trigger = {"type": "exit_intent", "fallbackSeconds": None}
    draft.audience = []
    draft.save()
    body = text_of(owner_client.get(step_url(draft, "review")))
    assert "Exit intent never fires on phones and tablets: visitors on them never see it." in body

    draft.audience = [{"attribute": "device", "operator": "is", "value": "phone"}]
    draft.save()
    body = text_of(owner_client.get(step_url(draft, "review")))
    assert "its audience is on a phone: nobody will see it" in body

    draft.trigger = {"type": "exit_intent", "fallbackSeconds": 8}
    draft.save()
    assert "Exit intent never fires" not in text_of(owner_client.get(step_url(draft, "review")))


def test_contradictory_audience_conditions_are_a_warning_and_the_live_state_says_so(
    owner_client, draft
):
    draft.audience = [
        {"attribute": "visitor", "operator": "is", "value": "new"},
        {"attribute": "sessions", "operator": "gte", "value": 3},
    ]
    draft.trigger = {"type": "page_load"}
    draft.save()
    body = text_of(owner_client.get(step_url(draft, "review")))
    assert (
        "Its audience conditions cannot all hold at once (New visitors (first session); "
        "Number of sessions is at least 3): nobody will see it." in body
    )
    draft.status = "launched"
    draft.save()
    body = text_of(owner_client.get(draft.get_absolute_url()))
    assert "Live, but no visitor can meet all of its audience conditions." in body

    draft.audience = [{"attribute": "visitor", "operator": "is", "value": "returning"}]
    draft.save()
    assert "cannot all hold" not in text_of(owner_client.get(draft.get_absolute_url()))
