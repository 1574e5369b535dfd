"""Message content (campaigns/content.py): validation, tracked actions, the simple builder."""

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.content import (
    MAX_HTML_BYTES,
    Action,
    ContentError,
    build_html,
    extract_actions,
    find_liquid,
    is_safe_url,
    summarise_html,
    validate_html,
)


@pytest.mark.parametrize(
    ("markup", "actions"),
    [
        ("<p>No actions</p>", []),
        (
            '<button data-action="signup">Sign up</button>',
            [Action("signup", "Sign up")],
        ),
        (
            '<a href="/join" data-action="join"><span>Join</span> <b>now</b></a>',
            [Action("join", "Join now", "/join")],
        ),
        (
            '<button data-action="go" data-url="https://x.com/a">Go</button>',
            [Action("go", "Go", "https://x.com/a")],
        ),
        ('<input type="submit" data-action="send" value="Send">', [Action("send", "Send")]),
        (
            '<button data-action="a">One</button><button data-action="a">Again</button>',
            [Action("a", "One")],  # one per name, the first wins
        ),
        # An unclosed <p> inside a button does not swallow the rest of the document.
        (
            '<button data-action="a"><p>One</button><p>outside</p><a data-action="b">Two</a>',
            [Action("a", "One"), Action("b", "Two")],
        ),
        (
            '<button data-action="x" aria-label="Close offer">×</button>',
            [Action("x", "Close offer")],
        ),
        ("<button data-action>Bare</button>", []),
        ("<button data-dismiss>Close</button>", []),
    ],
)
def test_tracked_actions_found_in_the_html(markup, actions):
    assert extract_actions(markup) == actions


@pytest.mark.parametrize(
    ("markup", "says"),
    [
        ("", "The message has no content"),
        ("   \n", "The message has no content"),
        ("<p>Hi {{ first_name }}</p>", "Liquid is not supported in anonymous messages"),
        ("<p>{% if customer %}x{% endif %}</p>", "nothing to personalise"),
        ("<p>{{\nname\n}}</p>", "Liquid is not supported"),
        ("x" * (MAX_HTML_BYTES + 1), "the limit is 65,536"),
        ("é" * (MAX_HTML_BYTES // 2 + 1), "bytes; the limit is"),  # counted in UTF-8 bytes
        ('<button data-action="sign up">x</button>', "is not valid"),
        ('<button data-action="' + "a" * 101 + '">x</button>', "at most 100"),
        ('<a data-action="go" href="javascript:alert(1)">x</a>', "is not allowed"),
        ('<a data-action="go" data-url="JavaScript:alert(1)">x</a>', "is not allowed"),
        ('<a data-action="go" data-url="java\tscript:alert(1)">x</a>', "is not allowed"),
        ('<a data-action="go" data-url="data:text/html,x">x</a>', "is not allowed"),
    ],
)
def test_invalid_content_is_refused_with_what_to_do(markup, says):
    with pytest.raises(ContentError) as caught:
        validate_html(markup)
    assert says in caught.value.message
    assert caught.value.field == "html"


@pytest.mark.parametrize(
    "markup",
    [
        "<p>Hello</p>",
        "<style>.a{color:red}.b{margin:0}</style><p>CSS braces are not Liquid</p>",
        '<a data-action="join" href="/join">Join</a>',
        '<a data-action="mail" href="mailto:hi@example.com">Mail</a>',
        "x" * MAX_HTML_BYTES,
    ],
)
def test_valid_content_passes(markup):
    validate_html(markup)


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("/signup", True),
        ("https://example.com/x", True),
        ("http://example.com", True),
        ("//cdn.example.com/x", True),
        ("?plan=pro", True),
        ("mailto:a@b.c", True),
        ("tel:+331234", True),
        ("javascript:alert(1)", False),
        (" JAVASCRIPT:alert(1)", False),
        ("vbscript:x", False),
        ("data:text/html;base64,xx", False),
    ],
)
def test_which_action_urls_the_sdk_may_follow(url, safe):
    assert is_safe_url(url) is safe


def test_the_builder_escapes_everything():
    markup = build_html(
        {
            "heading": "<script>alert(1)</script>",
            "text": 'Line one\nline "two"\n\nSecond & last',
            "image_url": 'https://x.com/a.png" onerror="alert(1)',
            "buttons": [{"label": "<b>Go</b>", "action": "go", "url": '/x" onclick="y'}],
            "close_button": False,
        }
    )
    assert "<script>alert" not in markup
    assert "&lt;script&gt;" in markup
    assert "<p>Line one<br>line &quot;two&quot;</p>" in markup
    assert "<p>Second &amp; last</p>" in markup
    assert 'onerror="alert' not in markup and 'onclick="y' not in markup
    assert "data-dismiss" not in markup
    validate_html(markup)


def test_the_builder_makes_the_first_button_primary_and_names_unnamed_actions():
    markup = build_html(
        {"heading": "Hi", "buttons": [{"label": "Yes", "action": ""}, {"label": "No"}]}
    )
    assert '<button class="primary" data-action="button-1">Yes</button>' in markup
    assert '<button data-action="button-2">No</button>' in markup
    assert [a.name for a in extract_actions(markup)] == ["button-1", "button-2"]
    assert "data-dismiss" in markup  # the close button is on by default


def test_banners_get_a_one_line_layout():
    assert '<div class="m banner">' in build_html({"heading": "Hi"}, display_type="banner")
    assert '<div class="m">' in build_html({"heading": "Hi"}, display_type="modal")


# --- Hardening (issue 10): linear-time checks on hostile content -------------------------------

# Each fits the 64 KB limit (or just passes it); each was quadratic or worse before: 65,000 `{`
# took 14-19 s in the Liquid regex, '<a ' × 21,000 took 35-38 s in html.parser.
ADVERSARIAL_HTML = {
    "65,000 {": "{" * 65_000,
    "32,000 {%": "{%" * 32_000,
    "{{ then 64 KB without a close": "{{" + "}" + "x" * 65_000,
    "'<a ' x 21,000": "<a " * 21_000,
    "<a b=' x 10,000": "<a b='" * 10_000,
    "nested <div> x 13,000": "<div>" * 13_000,
    "nested tags inside an action": '<button data-action="a">' + "<b>x" * 16_000,
    "10,000 attributes": "<div " + " ".join(f"a{n}" for n in range(10_000)) + ">",
    "9,000 elements": "<i></i>" * 9_000,
    "unterminated comment and 65,000 <": "<!--" + "<" * 65_000,
    "32,000 </": "</" * 32_000,
    "32,000 <!": "<!" * 32_000,
    "32,000 <?": "<?" * 32_000,
    "32,000 &#": "&#" * 32_000,
    "<p><button> x 5,000": "<p><button>" * 5_000,
    "5,000 actions": '<a data-action="x">y</a>' * 2_700,
    "text inside 250 nested actions": ('<b data-action="a">' * 250 + "x&amp;" * 9_000)[:65_000],
}


@pytest.mark.parametrize("html", ADVERSARIAL_HTML.values(), ids=ADVERSARIAL_HTML.keys())
def test_hostile_content_is_answered_within_200_ms(html):
    best = float("inf")
    for _ in range(3):  # best of three, in CPU time of this thread: a shared machine adds noise
        started = time.thread_time()
        try:
            validate_html(html)
        except ContentError as refused:
            assert refused.message  # a clear reason, never a crash
        best = min(best, time.thread_time() - started)
    assert best < 0.2


@pytest.mark.parametrize(
    ("html", "says"),
    [
        ("<div>" * 300, "more than 256 deep"),
        ("<i></i>" * 5_001, "more than 5,000 elements"),
        ("<div " + " ".join(f"a{n}" for n in range(101)) + ">", "101 attributes; the limit is 100"),
    ],
)
def test_content_past_the_parser_caps_is_refused_with_the_reason(html, says):
    with pytest.raises(ContentError) as refused:
        summarise_html(html)
    assert says in refused.value.message


def old_liquid(text: str) -> str | None:
    """The regex this replaced (quadratic, exact): the reference on short inputs."""
    found = re.search(r"\{\{.*?\}\}|\{%.*?%\}", text, re.DOTALL)
    return found.group(0) if found else None


@settings(max_examples=500, deadline=None, database=None)
@given(st.text(alphabet="{}% x", max_size=20))
def test_liquid_is_found_exactly_where_the_old_regex_found_it(text):
    assert find_liquid(text) == old_liquid(text)


@pytest.mark.parametrize(
    ("html", "label"),
    [
        ("<h1>20% off</h1><p>Today</p>", "20% off"),
        ("<div><h2>  Join\n  <b>us</b> </h2></div>", "Join us"),
        ("<p>No heading</p>", "Message"),
        ("<h1><img src=x></h1><h3>Second</h3>", "Second"),  # an empty heading names nothing
        ("<h1>First</h1><h1>Second</h1>", "First"),
        ("<h1>" + "x" * 300 + "</h1>", "x" * 200),
        ("", "Message"),
    ],
)
def test_the_label_for_visitors_is_the_first_heading_else_message(html, label):
    assert summarise_html(html).label == label


def test_the_builder_content_is_labelled_by_its_heading():
    html = build_html({"heading": "Welcome back", "text": "Hi"})
    assert summarise_html(html).label == "Welcome back"


# --- Button kinds and the lead capture block ---------------------------------------------------


@pytest.mark.parametrize(
    ("button", "markup", "actions"),
    [
        (
            {"kind": "action", "label": "Join", "action": "join", "url": "/join"},
            '<button class="primary" data-action="join" data-url="/join">Join</button>',
            [Action("join", "Join", "/join")],
        ),
        # Builders saved before kinds existed: every button was a tracked action.
        (
            {"label": "Join", "action": "join"},
            '<button class="primary" data-action="join">Join</button>',
            [Action("join", "Join")],
        ),
        # A close button is a close control: no action, whatever was typed before.
        (
            {"kind": "close", "label": "Not now", "action": "not-now", "url": "/x"},
            '<button class="primary" data-dismiss>Not now</button>',
            [],
        ),
        (
            {"kind": "link", "label": "Terms", "action": "terms", "url": "/terms?a=1&b=2"},
            '<a class="primary" href="/terms?a=1&amp;b=2" data-link>Terms</a>',
            [],
        ),
    ],
)
def test_each_button_kind_is_written_as_the_sdk_reads_it(button, markup, actions):
    html = build_html({"heading": "Hi", "buttons": [button], "close_button": False})
    assert markup in html
    assert extract_actions(html) == actions
    validate_html(html)


def test_a_lead_block_is_a_tracked_submit_with_an_email_field_and_a_hidden_thank_you():
    html = build_html(
        {
            "heading": "Newsletter",
            "lead": {
                "action": "subscribe",
                "button": "Sign me up",
                "ask_name": True,
                "thanks": "<b>Ta</b>",
            },
            "buttons": [{"label": "Later", "action": "later"}],
        }
    )
    assert '<div class="l" data-lead>' in html
    assert 'type="email" name="email" maxlength="254"' in html
    assert 'name="name" maxlength="100"' in html
    assert (
        '<button type="submit" class="primary" data-action="subscribe">Sign me up</button>' in html
    )
    assert 'aria-describedby="lead-error">' in html
    assert '<p class="e" id="lead-error" data-lead-error role="alert" hidden>' in html
    assert '<p class="ty" data-lead-thanks role="status" hidden>&lt;b&gt;Ta&lt;/b&gt;</p>' in html
    # The lead's submit is the primary button; the others are secondary.
    assert '<button data-action="later">Later</button>' in html
    assert extract_actions(html) == [Action("subscribe", "Sign me up"), Action("later", "Later")]
    validate_html(html)


def test_a_lead_block_without_a_name_field_or_texts_gets_defaults():
    html = build_html({"heading": "Hi", "lead": {"action": "", "button": "", "thanks": ""}})
    assert 'name="name"' not in html
    assert 'data-action="lead">Subscribe</button>' in html
    assert "Thanks! You&#x27;re on the list." in html


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/pricing", True),
        ("https://x.com", True),
        ("javascript:alert(1)", False),
        ("data:x", False),
    ],
)
def test_plain_link_urls_are_checked_like_action_urls(url, allowed):
    markup = f'<a data-link href="{url}">Terms</a>'
    if allowed:
        validate_html(markup)
    else:
        with pytest.raises(ContentError, match="The URL of a link is not allowed"):
            validate_html(markup)
