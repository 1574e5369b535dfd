"""Debug a visitor: audience conditions said in plain words, and the visit the panel assumes
(a direct visit on a desktop, first page of a first session) or the one the marketer enters."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from campaigns.audience import Visit
from delivery.sdk_api.eligibility import AUDIENCE, LiveMessage, decide
from delivery.troubleshooting.explanations import explain
from tests.delivery.test_troubleshooting_views import (
    debug,
    live,
    reason_line,
    text_of,
    visible,
)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def condition(attribute, operator, value):
    return {"attribute": attribute, "operator": operator, "value": value}


@pytest.mark.parametrize(
    ("audience_condition", "visit", "text"),
    [
        (condition("device", "is", "phone"), Visit(device="desktop"),
         "Only for visitors on a phone; this visit is on a desktop."),
        (condition("device", "is_not", "phone"), Visit(device="phone"),
         "Not for visitors on a phone; this visit is on a phone."),
        (condition("device", "is", "phone"), Visit(),
         "Only for visitors on a phone; the device is unknown (the User-Agent is not a "
         "browser's)."),
        (condition("utm_campaign", "contains", "sale"), Visit(),
         "Only for visitors whose UTM campaign contains “sale”; this visit has none."),
        (condition("referrer", "is_not", "x.com"), Visit(),
         "Not for visitors whose referrer domain is “x.com”; the request does not say where "
         "the visit came from."),
        (condition("sessions", "gte", 2), Visit(),
         "Only for visitors with at least 2 sessions; the request does not count the "
         "visitor's sessions."),
        (condition("referrer", "is", "google.com"), Visit(referrer_domain=""),
         "Only for visitors whose referrer domain is “google.com”; this is a direct visit."),
        (condition("referrer", "contains", "google"), Visit(referrer_domain="bing.com"),
         "Only for visitors whose referrer domain contains “google”; this visit came from "
         "“bing.com”."),
        (condition("referrer", "is_not", "bing.com"), Visit(referrer_domain="bing.com"),
         "Not for visitors whose referrer domain is “bing.com”; this visit came from "
         "“bing.com”."),
        (condition("utm_source", "is", "newsletter"), Visit(utm_source="ads"),
         "Only for visitors whose UTM source is “newsletter”; this visit's is “ads”."),
        (condition("language", "starts_with", "de"), Visit(language="en-us"),
         "Only for visitors whose browser language starts with “de”; this visit's is "
         "“en-us”."),
        (condition("visitor", "is", "new"), Visit(sessions=4),
         "Only for new visitors (first session); this visitor is returning."),
        (condition("visitor", "is", "returning"), Visit(sessions=1),
         "Only for returning visitors; this visitor is new."),
        (condition("sessions", "gte", 3), Visit(sessions=2),
         "Only for visitors with at least 3 sessions; this is their session 2."),
        (condition("session_pageviews", "gte", 3), Visit(session_pageviews=1),
         "Only from page view 3 of a session on; this is page view 1 of the session."),
        ({"attribute": "shoe_size", "operator": "is", "value": "44"}, Visit(),
         "Its audience condition is not valid: fix it on the Page rules step."),
    ],
)  # fmt: skip
def test_an_audience_that_leaves_the_visit_out_is_said_in_plain_words(
    audience_condition, visit, text
):
    message = LiveMessage(id=1, name="Offer", audience=(audience_condition,))
    [decision] = decide(messages=[message], page=(), now=None, visit=visit)
    assert decision.reason == AUDIENCE
    explanation = explain(decision)
    assert (explanation.label, explanation.text) == ("Audience", text)


def test_the_debugger_assumes_a_direct_desktop_visit_and_says_so(owner_client, workspace):
    live(workspace, "Phones only", audience=[condition("device", "is", "phone")])
    live(workspace, "Everyone", display_type="banner", display_position="top")
    response = debug(owner_client, workspace, anonymous_id="a")
    body = text_of(response)
    assert response.status_code == 200
    assert "as a direct visit on a desktop, session 1, page view 1, language unknown:" in (
        visible(response)
    )
    assert "Only for visitors on a phone; this visit is on a desktop." in reason_line(
        body, "Phones only"
    )
    assert 'data-reason="audience"' in body
    assert "Delivered here" in reason_line(body, "Everyone")


def test_the_debugger_takes_the_visit_the_marketer_describes(owner_client, workspace):
    message = live(
        workspace,
        "Newsletter on phones",
        audience=[
            condition("device", "is", "phone"),
            condition("utm_source", "is", "newsletter"),
            condition("referrer", "contains", "google"),
            condition("language", "starts_with", "de"),
            condition("sessions", "gte", 2),
            condition("session_pageviews", "gte", 3),
        ],
    )
    visit = {
        "visit-referrer": "https://www.google.de/search",
        "visit-utm_source": "newsletter",
        "visit-device": "phone",
        "visit-language": "de-CH",
        "visit-sessions": "2",
        "visit-pageviews": "3",
    }
    response = debug(owner_client, workspace, anonymous_id="a", **visit)
    body = text_of(response)
    gets = body.split("Gets here now")[1]
    assert ">Newsletter on phones</a>" in gets.split("Not shown")[0]
    assert (
        "as a visit from google.de (utm_source newsletter) on a phone, session 2, page view 3, language de-ch:"
        in visible(response)
    )
    # The fold stays open on a visit that is not the default one.
    assert '<details class="debugger-visit" open>' in body
    body = text_of(
        debug(owner_client, workspace, anonymous_id="a", **{**visit, "visit-sessions": "1"})
    )
    assert "Only for visitors with at least 2 sessions; this is their session 1." in reason_line(
        body, message.name
    )


def test_a_referrer_on_the_pages_own_site_is_a_direct_visit_in_the_debugger(
    owner_client, workspace
):
    live(workspace, "From Google", audience=[condition("referrer", "is", "shop.example.com")])
    body = text_of(
        debug(
            owner_client,
            workspace,
            anonymous_id="a",
            location="https://shop.example.com/pricing",
            **{"visit-referrer": "https://shop.example.com/"},
        )
    )
    assert "this is a direct visit." in reason_line(body, "From Google")


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"visit-sessions": "0"}, "visit-sessions", "greater than or equal to 1"),
        ({"visit-pageviews": "many"}, "visit-pageviews", "Enter a whole number"),
        ({"visit-device": "watch"}, "visit-device", "Select a valid choice"),
        ({"visit-referrer": "https://goo gle.com"}, "visit-referrer", "Enter a URL or a domain"),
        ({"visit-language": "x" * 36}, "visit-language", "at most 35 characters"),
    ],
)
def test_a_bad_visit_is_a_form_error(owner_client, workspace, data, field, error):
    response = owner_client.post(
        reverse("delivery:debug-visitor", args=[workspace.pk]),
        {"anonymous_id": "a", "platform": "web", "location": "/pricing", **data},
    )
    body = text_of(response)
    assert response.status_code == 400
    assert error in body
    assert f'id="debug-{field}"' in body
    assert "Gets here now" not in body
    assert '<details class="debugger-visit" open>' in body


# --- Outranking ("Blocked by …") with audience conditions ------------------------------------

PHONES = ({"attribute": "device", "operator": "is", "value": "phone"},)


def test_a_message_with_an_audience_is_still_blocked_by_a_rival_for_everyone():
    from delivery.troubleshooting.outranking import example_pages, outranked_messages

    rival = LiveMessage(id=1, name="Rival", status="launched")
    targeted = LiveMessage(id=2, name="Phones", status="launched", audience=PHONES)
    found = outranked_messages([rival, targeted], example_pages([()]), now=NOW)
    assert set(found) == {2}
    assert found[2].rival.id == 1


def test_a_rival_with_an_audience_does_not_block_the_others():
    """It takes the slot from the visitors it targets only: not “blocked”."""
    from delivery.troubleshooting.outranking import example_pages, outranked_messages

    targeted = LiveMessage(id=1, name="Phones", status="launched", audience=PHONES)
    everyone = LiveMessage(id=2, name="Everyone", status="launched")
    assert outranked_messages([targeted, everyone], example_pages([()]), now=NOW) == {}
