"""Audience conditions in delivery (issue 14, DESIGN.md §5): real HTTP requests to
GET /api/v1/delivery with the documented context parameters and User-Agents, on PostgreSQL.

Every attribute and operator, missing context (false, never an error) and garbage parameters
(ignored, never a 4xx or a 500); the new-visitor answer cache keyed by what the conditions
read; no query for warm requests.
"""

import pytest

from delivery.sdk_api import live_messages
from tests.factories import (
    AnonymousMessageFactory,
    VisitorFactory,
    VisitorMessageStateFactory,
)

URL = "/api/v1/delivery"
ANON = "3c1f0a2e-7b4d-4e8a-9c61-5d2e8f0b7a14"
PAGE = "https://shop.example.com/pricing"

DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
TABLET_UA = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_TABLET_UA = (
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def launched_for(workspace, *conditions, **fields):
    return AnonymousMessageFactory(
        workspace=workspace, launched=True, audience=list(conditions), **fields
    )


def ask(client, workspace, *, user_agent=DESKTOP_UA, anonymous_id=ANON, **context):
    query = {"writeKey": workspace.write_key, "anonymousId": anonymous_id, "url": PAGE}
    query.update(context)
    response = client.get(URL, query, HTTP_USER_AGENT=user_agent)
    assert response.status_code == 200, response.content
    return [message["id"] for message in response.json()["messages"]]


def condition(attribute, operator, value):
    return {"attribute": attribute, "operator": operator, "value": value}


# (case id, condition, context parameters, User-Agent or None for desktop, delivered?)
CASES = [
    # Referrer: the external referrer's domain; "" (empty parameter) is a direct visit.
    (
        "referrer is",
        condition("referrer", "is", "google.com"),
        {"referrer": "https://www.google.com/search?q=x"},
        None,
        True,
    ),
    (
        "referrer is, other domain",
        condition("referrer", "is", "google.com"),
        {"referrer": "https://duckduckgo.com/"},
        None,
        False,
    ),
    (
        "referrer is, subdomain is not the domain",
        condition("referrer", "is", "google.com"),
        {"referrer": "https://news.google.com/"},
        None,
        False,
    ),
    (
        "referrer contains",
        condition("referrer", "contains", "google"),
        {"referrer": "https://news.google.co.uk/a"},
        None,
        True,
    ),
    (
        "referrer contains, no",
        condition("referrer", "contains", "google"),
        {"referrer": "https://bing.com/"},
        None,
        False,
    ),
    (
        "referrer is_not, other",
        condition("referrer", "is_not", "facebook.com"),
        {"referrer": "https://google.com/"},
        None,
        True,
    ),
    (
        "referrer is_not, same",
        condition("referrer", "is_not", "facebook.com"),
        {"referrer": "https://m.facebook.com/"},
        None,
        True,
    ),
    (
        "referrer is_not, exactly",
        condition("referrer", "is_not", "facebook.com"),
        {"referrer": "https://www.facebook.com/x"},
        None,
        False,
    ),
    (
        "referrer is_not, direct visit",
        condition("referrer", "is_not", "facebook.com"),
        {"referrer": ""},
        None,
        True,
    ),
    ("referrer is_not, unknown", condition("referrer", "is_not", "facebook.com"), {}, None, False),
    (
        "referrer is, direct visit",
        condition("referrer", "is", "google.com"),
        {"referrer": ""},
        None,
        False,
    ),
    (
        "referrer on the page's own site is direct",
        condition("referrer", "is", "shop.example.com"),
        {"referrer": "https://shop.example.com/home"},
        None,
        False,
    ),
    (
        "own site, is_not",
        condition("referrer", "is_not", "google.com"),
        {"referrer": "https://www.shop.example.com/"},
        None,
        True,
    ),
    ("referrer unknown", condition("referrer", "contains", "google"), {}, None, False),
    (
        "referrer garbage",
        condition("referrer", "contains", "google"),
        {"referrer": "https://goo gle.com/<script>"},
        None,
        False,
    ),
    (
        "referrer oversized",
        condition("referrer", "contains", "google"),
        {"referrer": "https://google.com/" + "a" * 3000},
        None,
        False,
    ),
    # UTM parameters of the session's landing page.
    (
        "utm_source is",
        condition("utm_source", "is", "newsletter"),
        {"utm_source": "Newsletter"},
        None,
        True,
    ),
    (
        "utm_source is, no",
        condition("utm_source", "is", "newsletter"),
        {"utm_source": "newsletter-2"},
        None,
        False,
    ),
    (
        "utm_source contains",
        condition("utm_source", "contains", "news"),
        {"utm_source": "weekly-newsletter"},
        None,
        True,
    ),
    ("utm_source missing", condition("utm_source", "contains", "news"), {}, None, False),
    (
        "utm_source empty",
        condition("utm_source", "contains", "news"),
        {"utm_source": ""},
        None,
        False,
    ),
    (
        "utm_source oversized",
        condition("utm_source", "contains", "news"),
        {"utm_source": "news" * 100},
        None,
        False,
    ),
    ("utm_medium is", condition("utm_medium", "is", "cpc"), {"utm_medium": "cpc"}, None, True),
    (
        "utm_medium contains, no",
        condition("utm_medium", "contains", "mail"),
        {"utm_medium": "cpc"},
        None,
        False,
    ),
    (
        "utm_campaign is",
        condition("utm_campaign", "is", "black-friday"),
        {"utm_campaign": "Black-Friday"},
        None,
        True,
    ),
    (
        "utm_campaign contains",
        condition("utm_campaign", "contains", "friday"),
        {"utm_campaign": "black-friday-2026"},
        None,
        True,
    ),
    ("utm_campaign missing", condition("utm_campaign", "is", "black-friday"), {}, None, False),
    # Device, from the User-Agent.
    ("device is desktop", condition("device", "is", "desktop"), {}, DESKTOP_UA, True),
    ("device is desktop, phone", condition("device", "is", "desktop"), {}, PHONE_UA, False),
    ("device is phone, iPhone", condition("device", "is", "phone"), {}, PHONE_UA, True),
    (
        "device is phone, Android phone",
        condition("device", "is", "phone"),
        {},
        ANDROID_PHONE_UA,
        True,
    ),
    ("device is phone, desktop", condition("device", "is", "phone"), {}, DESKTOP_UA, False),
    ("device is phone, iPad", condition("device", "is", "phone"), {}, TABLET_UA, False),
    ("device is tablet, iPad", condition("device", "is", "tablet"), {}, TABLET_UA, True),
    (
        "device is tablet, Android tablet",
        condition("device", "is", "tablet"),
        {},
        ANDROID_TABLET_UA,
        True,
    ),
    ("device is_not phone, desktop", condition("device", "is_not", "phone"), {}, DESKTOP_UA, True),
    ("device is_not phone, phone", condition("device", "is_not", "phone"), {}, PHONE_UA, False),
    ("device unknown (no browser)", condition("device", "is", "desktop"), {}, "", False),
    ("device is_not, unknown", condition("device", "is_not", "phone"), {}, "okhttp/4.12.0", False),
    # Language: the browser's preferred language.
    (
        "language starts_with",
        condition("language", "starts_with", "de"),
        {"lang": "de-CH"},
        None,
        True,
    ),
    (
        "language starts_with, no",
        condition("language", "starts_with", "de"),
        {"lang": "en-US"},
        None,
        False,
    ),
    ("language is", condition("language", "is", "pt-br"), {"lang": "pt-BR"}, None, True),
    (
        "language is, region differs",
        condition("language", "is", "pt-br"),
        {"lang": "pt-PT"},
        None,
        False,
    ),
    ("language underscore", condition("language", "is", "pt-br"), {"lang": "pt_BR"}, None, True),
    ("language missing", condition("language", "starts_with", "de"), {}, None, False),
    (
        "language garbage",
        condition("language", "starts_with", "de"),
        {"lang": "de'; drop table"},
        None,
        False,
    ),
    (
        "language oversized",
        condition("language", "starts_with", "de"),
        {"lang": "de-" + "x" * 40},
        None,
        False,
    ),
    # Visit history: sessions (≥ 1) and page views in this session (≥ 1).
    ("new visitor", condition("visitor", "is", "new"), {"sessions": "1"}, None, True),
    ("new visitor, returning", condition("visitor", "is", "new"), {"sessions": "2"}, None, False),
    ("returning visitor", condition("visitor", "is", "returning"), {"sessions": "5"}, None, True),
    (
        "returning visitor, new",
        condition("visitor", "is", "returning"),
        {"sessions": "1"},
        None,
        False,
    ),
    ("visitor unknown", condition("visitor", "is", "new"), {}, None, False),
    ("visitor, sessions 0", condition("visitor", "is", "new"), {"sessions": "0"}, None, False),
    ("sessions gte, equal", condition("sessions", "gte", 3), {"sessions": "3"}, None, True),
    ("sessions gte, more", condition("sessions", "gte", 3), {"sessions": "40"}, None, True),
    ("sessions gte, fewer", condition("sessions", "gte", 3), {"sessions": "2"}, None, False),
    ("sessions gte, huge", condition("sessions", "gte", 3), {"sessions": "9" * 12}, None, True),
    (
        "sessions gte, too long",
        condition("sessions", "gte", 3),
        {"sessions": "9" * 40},
        None,
        False,
    ),
    ("sessions non-numeric", condition("sessions", "gte", 1), {"sessions": "many"}, None, False),
    ("sessions negative", condition("sessions", "gte", 1), {"sessions": "-3"}, None, False),
    ("sessions decimal", condition("sessions", "gte", 1), {"sessions": "2.5"}, None, False),
    ("sessions not ASCII digits", condition("sessions", "gte", 1), {"sessions": "²"}, None, False),
    ("sessions missing", condition("sessions", "gte", 1), {}, None, False),
    ("pageviews gte", condition("session_pageviews", "gte", 2), {"pageviews": "2"}, None, True),
    (
        "pageviews gte, fewer",
        condition("session_pageviews", "gte", 2),
        {"pageviews": "1"},
        None,
        False,
    ),
    (
        "pageviews garbage",
        condition("session_pageviews", "gte", 1),
        {"pageviews": "1e3"},
        None,
        False,
    ),
    ("pageviews missing", condition("session_pageviews", "gte", 1), {}, None, False),
]


@pytest.mark.parametrize(
    ("audience_condition", "context", "user_agent", "shown"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_audience_conditions_over_http(
    client, workspace, audience_condition, context, user_agent, shown
):
    message = launched_for(workspace, audience_condition)
    user_agent = DESKTOP_UA if user_agent is None else user_agent
    assert ask(client, workspace, user_agent=user_agent, **context) == (
        [message.pk] if shown else []
    )


def test_the_table_covers_every_attribute_and_operator():
    from campaigns.audience import OPERATORS

    covered = {(case[1]["attribute"], case[1]["operator"]) for case in CASES}
    assert covered == {(a, o) for a, operators in OPERATORS.items() for o in operators}


def test_all_conditions_must_hold(client, workspace):
    message = launched_for(
        workspace,
        condition("device", "is", "phone"),
        condition("utm_source", "is", "newsletter"),
        condition("visitor", "is", "new"),
    )
    everything = {"utm_source": "newsletter", "sessions": "1"}
    assert ask(client, workspace, user_agent=PHONE_UA, **everything) == [message.pk]
    assert ask(client, workspace, user_agent=DESKTOP_UA, **everything) == []
    assert ask(client, workspace, user_agent=PHONE_UA, utm_source="newsletter") == []
    assert ask(client, workspace, user_agent=PHONE_UA, sessions="1", utm_source="ads") == []


def test_a_message_without_conditions_shows_whatever_the_context(client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    assert ask(client, workspace, user_agent="", referrer="%%%", sessions="x") == [message.pk]
    assert ask(client, workspace, user_agent=PHONE_UA) == [message.pk]


@pytest.mark.parametrize(
    "garbage",
    [
        {"referrer": "\x00\x01", "utm_source": "\x00", "lang": "\x00"},
        {"referrer": "http://[::1", "lang": "ü" * 5},
        {"referrer": "x" * 100_000},
        {"sessions": "1" * 5000, "pageviews": "-1"},
        {"referrer": "https://user:pw@Google.COM:8080/path"},
    ],
)
def test_garbage_context_parameters_are_ignored_never_refused(client, workspace, garbage):
    plain = AnonymousMessageFactory(
        workspace=workspace,
        launched=True,
        priority=1,
        display_type="banner",
        display_position="top",
    )
    launched_for(workspace, condition("referrer", "is_not", "evil.example"), priority=2)
    shown = ask(client, workspace, user_agent="\x00" + "A" * 5000, **garbage)
    assert plain.pk in shown


def test_context_parameters_that_are_not_utf_8_are_ignored(client, workspace):
    message = launched_for(workspace, condition("utm_campaign", "contains", "a"))
    query = (
        f"writeKey={workspace.write_key}&anonymousId={ANON}&url=%2Fpricing"
        "&utm_campaign=a%ED%A0%80&referrer=%FF%FE&lang=%C3&sessions=%00"
    )
    response = client.get(f"{URL}?{query}", HTTP_USER_AGENT=DESKTOP_UA)
    assert response.status_code == 200, response.content
    # Not UTF-8: the whole query string is read as Latin-1 (as Django reads it), so the
    # campaign still contains “a”; nothing fails.
    assert [m["id"] for m in response.json()["messages"]] == [message.pk]


def test_a_user_agent_header_that_is_huge_is_an_unknown_device(client, workspace):
    launched_for(workspace, condition("device", "is", "desktop"))
    assert ask(client, workspace, user_agent=DESKTOP_UA + " x" * 1000) == []


def test_a_mobile_screen_request_has_no_referrer_so_referrer_conditions_are_false(
    client, workspace
):
    launched_for(workspace, condition("referrer", "is_not", "google.com"))
    response = client.get(
        URL,
        {"writeKey": workspace.write_key, "anonymousId": ANON, "screen": "Home", "platform": "ios"},
        HTTP_USER_AGENT="MyApp/1.0 CFNetwork/1494.0.7 Darwin/23.4.0",
    )
    assert response.status_code == 200
    assert response.json()["messages"] == []


def test_a_referrer_on_the_pages_own_site_named_by_the_origin_header_is_direct(client, workspace):
    """The SDK may send a path as `url`; then the request's Origin header names the site."""
    message = launched_for(workspace, condition("referrer", "is_not", "google.com"))
    other = launched_for(
        workspace,
        condition("referrer", "is", "shop.example.com"),
        display_type="banner",
        display_position="top",
    )
    response = client.get(
        URL,
        {
            "writeKey": workspace.write_key,
            "anonymousId": ANON,
            "url": "/pricing",
            "referrer": "https://shop.example.com/",
        },
        HTTP_ORIGIN="https://shop.example.com",
        HTTP_USER_AGENT=DESKTOP_UA,
    )
    assert [m["id"] for m in response.json()["messages"]] == [message.pk]
    assert other.pk  # the same site is never a traffic source


# --- The new-visitor answer cache -----------------------------------------------------------


def test_the_new_visitor_answer_is_cached_per_audience_outcome_not_only_per_page(client, workspace):
    phone = launched_for(workspace, condition("device", "is", "phone"))
    desktop = launched_for(
        workspace,
        condition("device", "is", "desktop"),
        display_type="banner",
        display_position="top",
    )
    everyone = AnonymousMessageFactory(
        workspace=workspace, launched=True, display_type="overlay", display_position="top-left"
    )
    for _ in range(2):  # the second round is answered from the memo
        assert sorted(ask(client, workspace, user_agent=PHONE_UA, fresh="1")) == sorted(
            [phone.pk, everyone.pk]
        )
        assert sorted(ask(client, workspace, user_agent=DESKTOP_UA, fresh="1")) == sorted(
            [desktop.pk, everyone.pk]
        )
        assert ask(client, workspace, user_agent="", fresh="1") == [everyone.pk]
    # One entry per outcome (phone, desktop, unknown device), not per request.
    keys = {key for key in live_messages._stateless_bodies if key[0] == workspace.pk}
    assert len(keys) == 3


def test_a_visitor_with_state_is_checked_against_the_audience_too(client, workspace):
    message = launched_for(workspace, condition("sessions", "gte", 2), frequency_mode="always")
    visitor = VisitorFactory(workspace=workspace, anonymous_id=ANON)
    VisitorMessageStateFactory(visitor=visitor, message=message, views=3, dismissed_at=None)
    assert ask(client, workspace, sessions="1") == []
    assert ask(client, workspace, sessions="2") == [message.pk]


def test_an_audience_condition_stored_in_a_shape_delivery_cannot_read_shows_to_nobody(
    client, workspace
):
    launched_for(workspace, {"attribute": "shoe_size", "operator": "gte", "value": 44})
    launched_for(
        workspace,
        condition("sessions", "gte", "three"),
        display_type="banner",
        display_position="top",
    )
    assert ask(client, workspace, sessions="5") == []


def test_changing_the_audience_reaches_the_next_request(client, workspace):
    message = launched_for(workspace, condition("device", "is", "phone"))
    assert ask(client, workspace, fresh="1") == []
    message.audience = [condition("device", "is", "desktop")]
    message.save()
    assert ask(client, workspace, fresh="1") == [message.pk]


# --- No database when warm ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_warm_requests_with_audience_conditions_make_no_query(
    client, workspace, settings, django_assert_num_queries
):
    settings.DELIVERY_STATE_CACHE = True
    message = launched_for(workspace, condition("utm_source", "is", "newsletter"))
    known = VisitorFactory(workspace=workspace, anonymous_id="known-visitor")
    VisitorMessageStateFactory(visitor=known, message=message, views=1, dismissed_at=None)
    for anonymous_id in (ANON, "known-visitor"):
        ask(client, workspace, anonymous_id=anonymous_id, utm_source="newsletter")
        ask(client, workspace, anonymous_id=anonymous_id, utm_source="newsletter")
        with django_assert_num_queries(0):
            assert ask(client, workspace, anonymous_id=anonymous_id, utm_source="newsletter") == [
                message.pk
            ]
            assert ask(client, workspace, anonymous_id=anonymous_id, utm_source="ads") == []
            assert ask(client, workspace, anonymous_id=anonymous_id, user_agent=PHONE_UA) == []


def test_a_preview_shows_the_message_whatever_its_audience(client, workspace):
    from delivery.preview.tokens import make_preview_token

    message = launched_for(workspace, condition("device", "is", "phone"))
    token = make_preview_token(workspace_id=workspace.pk, message_id=message.pk)
    assert ask(client, workspace, user_agent=DESKTOP_UA) == []
    assert ask(client, workspace, user_agent=DESKTOP_UA, preview=token) == [message.pk]
