"""campaigns/visit_tester.py: the visit the wizard's tester builds, and its verdict in words."""

import pytest

from campaigns import rules
from campaigns.audience import Visit
from campaigns.visit_tester import build_visit, describe_actual, evaluate_visit, utm_of

PRICING = [rules.Rule(platform="web", operator="starts_with", value="/pricing")]


def web_visit(**overrides):
    values = {
        "platform": "web",
        "url": "/pricing",
        "referrer": "",
        "device": "desktop",
        "language": "",
        "sessions": 1,
        "pageviews": 1,
    }
    return build_visit(**{**values, **overrides})


@pytest.mark.parametrize(
    ("url", "utm"),
    [
        (
            "https://x.test/a?utm_source=news&utm_medium=email",
            {"utm_source": "news", "utm_medium": "email"},
        ),
        ("/a?utm_campaign=spring+sale&utm_campaign=later", {"utm_campaign": "spring sale"}),
        ("/a?utm_source=#top", {}),
        ("x.test/a?UTM_SOURCE=caps", {}),  # parameter names are case-sensitive, as in browsers
        ("/a?utm_source=%20padded%20", {"utm_source": "padded"}),
        ("", {}),
    ],
)
def test_utm_parameters_come_from_the_landing_url(url, utm):
    assert utm_of(url) == utm


def test_a_web_visit_knows_its_source_and_an_app_screen_does_not():
    visit = web_visit(
        url="/p?utm_source=ads", referrer="https://www.Google.com/q", language=" de-CH "
    )
    assert visit == Visit(
        referrer_domain="google.com",
        utm_source="ads",
        device="desktop",
        language="de-ch",
        sessions=1,
        session_pageviews=1,
    )
    assert web_visit(referrer="").referrer_domain == ""  # a direct visit: known, empty
    screen = build_visit(
        platform="ios",
        url="Checkout?utm_source=x",
        referrer="google.com",
        device="phone",
        language="",
        sessions=3,
        pageviews=2,
    )
    assert (screen.referrer_domain, screen.utm_source, screen.language) == (None, None, None)
    assert (screen.device, screen.visitor) == ("phone", "returning")


@pytest.mark.parametrize(
    ("attribute", "visit", "words"),
    [
        ("referrer", Visit(referrer_domain=None), "an app screen has no referrer"),
        ("referrer", Visit(referrer_domain=""), "a direct visit (no referrer)"),
        ("referrer", Visit(referrer_domain="bing.com"), "the referrer is bing.com"),
        ("utm_medium", Visit(), "the landing page has no utm_medium"),
        ("utm_medium", Visit(utm_medium="cpc"), "utm_medium is “cpc”"),
        ("device", Visit(device="tablet"), "this visit is on a tablet"),
        ("language", Visit(), "no browser language given"),
        ("language", Visit(language="fr"), "the browser language is fr"),
        ("visitor", Visit(sessions=1), "a new visitor (first session)"),
        ("visitor", Visit(sessions=4), "a returning visitor (session 4)"),
        ("sessions", Visit(sessions=4), "session 4 of this visitor"),
        ("session_pageviews", Visit(session_pageviews=7), "page view 7 of this session"),
    ],
)
def test_what_the_visit_has_in_words(attribute, visit, words):
    assert describe_actual(attribute, visit) == words


def test_page_rules_come_first():
    page = rules.web_page("/blog")
    conditions = [{"attribute": "device", "operator": "is", "value": "desktop"}]
    verdict = evaluate_visit(PRICING, page, conditions, web_visit())
    assert not verdict.shows
    assert verdict.reason == "No inclusion rule matches."
    assert [c.holds for c in verdict.conditions] == [True]  # still listed, with their result


def test_the_first_failing_condition_is_the_reason():
    conditions = [
        {"attribute": "device", "operator": "is", "value": "desktop"},
        {"attribute": "sessions", "operator": "gte", "value": 2},
        {"attribute": "language", "operator": "starts_with", "value": "de"},
    ]
    verdict = evaluate_visit(PRICING, rules.web_page("/pricing"), conditions, web_visit())
    assert not verdict.shows
    assert verdict.reason == (
        "The page matches, but this visit is not in the audience: “Number of sessions is at "
        "least 2” does not hold (session 1 of this visitor)."
    )
    assert [c.holds for c in verdict.conditions] == [True, False, False]


@pytest.mark.parametrize(
    ("conditions", "reason"),
    [
        (
            [],
            "Included by: web URL starts with “/pricing”. Everyone on a matching page is in the audience.",
        ),
        (
            [{"attribute": "visitor", "operator": "is", "value": "new"}],
            "Included by: web URL starts with “/pricing”. The visit meets every audience condition.",
        ),
    ],
)
def test_a_visit_that_gets_the_message(conditions, reason):
    verdict = evaluate_visit(PRICING, rules.web_page("/pricing/pro"), conditions, web_visit())
    assert verdict.shows
    assert verdict.reason == reason
    assert verdict.everyone is (not conditions)
