"""delivery.sdk_api.visit_context: the visit a delivery request describes (pure), and the hot
path's audience check agreeing with eligibility's reference `decide`."""

import random
from datetime import UTC, datetime

import pytest

from campaigns.audience import Visit
from campaigns.rules import web_page
from delivery.sdk_api.eligibility import (
    AUDIENCE,
    LiveMessage,
    audience_outcome,
    decide,
    delivered,
    select_candidates,
)
from delivery.sdk_api.visit_context import (
    device_from_user_agent,
    page_host,
    referrer_domain,
    visit_from_query,
)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
PAGE = web_page("https://shop.example.com/pricing")


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        # Desktop browsers.
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/18.1 Safari/605.1.15",
            "desktop",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "desktop"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "desktop",
        ),
        # Phones.
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "phone",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "phone",
        ),
        ("Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", "phone"),
        (
            "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) "
            "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0 Mobile Safari/537.36 Edge/15",
            "phone",
        ),
        ("Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348", "phone"),
        # Tablets.
        (
            "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "tablet",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            "tablet",
        ),
        ("Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0", "tablet"),
        (
            "Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Silk/126.4.1 like Chrome/126.0.6478.186 Safari/537.36",
            "tablet",
        ),
        # Not a browser: unknown.
        ("", None),
        ("okhttp/4.12.0", None),
        ("curl/8.5.0", None),
        ("Mozilla/5.0 " + "x" * 2000, None),
    ],
)
def test_the_device_is_read_from_the_user_agent(user_agent, device):
    assert device_from_user_agent(user_agent) == device


@pytest.mark.parametrize(
    ("referrer", "host", "domain"),
    [
        (None, None, None),
        ("", "shop.example.com", ""),
        ("   ", None, ""),
        ("https://www.Google.com/search?q=1", "shop.example.com", "google.com"),
        ("https://shop.example.com/a", "shop.example.com", ""),
        ("https://www.shop.example.com/a", "shop.example.com", ""),
        ("https://blog.shop.example.com/a", "shop.example.com", "blog.shop.example.com"),
        ("https://shop.example.com/a", None, "shop.example.com"),
        ("android-app://com.google.android.gm/", None, "com.google.android.gm"),
        ("https://bücher.de/", None, "bücher.de"),
        ("https://goo gle.com/", None, None),
        ("https://-bad-.com/", None, None),
        ("https://", None, None),
        ("https://x.com/" + "a" * 2100, None, None),
    ],
)
def test_the_referrer_is_the_external_domain(referrer, host, domain):
    assert referrer_domain(referrer, page_host=host) == domain


@pytest.mark.parametrize(
    ("url", "origin", "host"),
    [
        ("https://Shop.example.com:8443/p?q#f", "", "shop.example.com"),
        ("/pricing", "https://shop.example.com", "shop.example.com"),
        ("/pricing", "", None),
        ("http://[::1", "https://a.example", "a.example"),
    ],
)
def test_the_page_host_comes_from_the_url_else_the_origin(url, origin, host):
    assert page_host(url, origin=origin) == host


def test_a_query_without_context_knows_nothing_but_the_device():
    visit = visit_from_query({"url": "/"}, user_agent="Mozilla/5.0 (X11; Linux x86_64)")
    assert visit == Visit(device="desktop")


def test_a_full_query_describes_the_visit():
    visit = visit_from_query(
        {
            "referrer": "https://news.ycombinator.com/item?id=1",
            "utm_source": " hn ",
            "utm_medium": "social",
            "utm_campaign": "launch",
            "lang": "de-CH",
            "sessions": "3",
            "pageviews": "12",
        },
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148",
        url="https://shop.example.com/",
    )
    assert visit == Visit(
        referrer_domain="news.ycombinator.com",
        utm_source="hn",
        utm_medium="social",
        utm_campaign="launch",
        device="phone",
        language="de-ch",
        sessions=3,
        session_pageviews=12,
    )
    assert visit.visitor == "returning"


def test_decide_names_the_failing_condition_in_plain_words():
    message = LiveMessage(
        id=1,
        name="Phones only",
        audience=({"attribute": "device", "operator": "is", "value": "phone"},),
    )
    [decision] = decide(messages=[message], page=PAGE, now=NOW, visit=Visit(device="desktop"))
    assert decision.reason == AUDIENCE
    assert decision.detail == "Only for visitors on a phone; this visit is on a desktop."


CONDITIONS = [
    {"attribute": "device", "operator": "is", "value": "phone"},
    {"attribute": "device", "operator": "is_not", "value": "desktop"},
    {"attribute": "referrer", "operator": "contains", "value": "google"},
    {"attribute": "referrer", "operator": "is_not", "value": "google.com"},
    {"attribute": "utm_source", "operator": "is", "value": "newsletter"},
    {"attribute": "language", "operator": "starts_with", "value": "de"},
    {"attribute": "visitor", "operator": "is", "value": "new"},
    {"attribute": "sessions", "operator": "gte", "value": 3},
    {"attribute": "session_pageviews", "operator": "gte", "value": 2},
]


def random_visit(rng) -> Visit:
    return Visit(
        referrer_domain=rng.choice([None, "", "google.com", "bing.com"]),
        utm_source=rng.choice([None, "newsletter", "ads"]),
        device=rng.choice([None, "desktop", "tablet", "phone"]),
        language=rng.choice([None, "de-ch", "en"]),
        sessions=rng.choice([None, 1, 2, 5]),
        session_pageviews=rng.choice([None, 1, 2, 9]),
    )


def test_the_hot_path_and_the_answer_cache_agree_with_decide_on_random_audiences():
    rng = random.Random(14)
    displays = [("modal", "center"), ("banner", "top"), ("overlay", "top-left")]
    for _ in range(400):
        messages = []
        for number in range(1, rng.randint(2, 8)):
            kind, position = rng.choice(displays)
            messages.append(
                LiveMessage(
                    id=number,
                    name=f"m{number}",
                    priority=rng.randint(1, 3),
                    display_type=kind,
                    display_position=position,
                    audience=tuple(rng.sample(CONDITIONS, rng.choice([0, 0, 1, 2]))),
                )
            )
        ordered = sorted(messages, key=lambda m: (m.priority, m.id))
        visit, other = random_visit(rng), random_visit(rng)
        expected = delivered(decide(messages=messages, page=PAGE, now=NOW, visit=visit))
        assert select_candidates(ordered, now=NOW, states={}, visit=visit) == expected
        # Two visits with the same outcome get the same answer (the answer cache's key).
        if audience_outcome(ordered, visit) == audience_outcome(ordered, other):
            assert select_candidates(ordered, now=NOW, states={}, visit=other) == expected


def test_oversized_values_are_never_kept_in_the_memos():
    from delivery.sdk_api import visit_context

    memos = (visit_context._referrer_domain, visit_context._device, visit_context._language_tag)
    before = [memo.cache_info().currsize for memo in memos]
    assert referrer_domain("https://example.com/" + "a" * 50_000, page_host=None) is None
    assert device_from_user_agent("Mozilla/5.0 " + "x" * 50_000) is None
    assert visit_from_query({"lang": "de-" + "x" * 50_000}, user_agent="").language is None
    assert [memo.cache_info().currsize for memo in memos] == before
