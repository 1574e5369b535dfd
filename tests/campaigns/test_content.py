"""Message content (campaigns/content.py): validation, tracked actions, the simple builder."""

import pytest

from campaigns.content import (
    MAX_HTML_BYTES,
    Action,
    ContentError,
    build_html,
    extract_actions,
    is_safe_url,
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
