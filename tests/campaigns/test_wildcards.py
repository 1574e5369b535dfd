"""`matches` wildcards (campaigns/wildcards.py): exact like a `.*` regex, linear unlike one."""

import time

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns import rules
from campaigns.wildcards import wildcard_match

STAR_HEAVY_RULE = "/" + "*" * 40 + "x"  # issue 10: 10.8 s per call as a backtracking regex
LONG_PATH = "/" + "a" * 1900


def reference_match(pattern: str, text: str) -> bool:
    """The old translation (`*` → `.*`), trusted on short inputs only."""
    translated = "".join(".*" if char == "*" else regex.escape(char) for char in pattern)
    return regex.fullmatch(translated, text, flags=regex.DOTALL, timeout=5) is not None


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("/blog/*", "/blog/hello", True),
        ("/blog/*", "/blog/", True),
        ("/blog/*", "/blo", False),
        ("*", "", True),
        ("", "", True),
        ("", "/", False),
        ("/a*b*c", "/abc", True),
        ("/a*b*c", "/aXbYc", True),
        ("/a*b*c", "/acb", False),
        ("*ab*ab*", "aab", False),  # pieces may not overlap
        ("*ab*ab*", "abab", True),
        ("/x*x", "/x", False),  # the first and last piece may not share a character
        ("/x*x", "/xx", True),
        ("/**/docs", "/en/v2/docs", True),  # a run of stars is one star
        ("a*", "b", False),
        ("*.pdf", "/guide.pdf", True),
        ("*.pdf", "/guide.pdfx", False),
    ],
)
def test_wildcards_match_the_whole_text(pattern, text, matches):
    assert wildcard_match(pattern, text) is matches


@settings(max_examples=500, deadline=None, database=None)
@given(
    pattern=st.text(alphabet="ab/*", max_size=12),
    text=st.text(alphabet="ab/", max_size=16),
)
def test_wildcards_agree_with_the_regex_translation(pattern, text):
    assert wildcard_match(pattern, text) is reference_match(pattern, text)


@settings(max_examples=200, deadline=None, database=None)
@given(pattern=st.text(max_size=12), text=st.text(max_size=16))
def test_wildcards_agree_with_the_regex_translation_on_any_characters(pattern, text):
    assert wildcard_match(pattern, text) is reference_match(pattern, text)


def test_a_star_heavy_pattern_against_a_long_path_answers_within_50_ms():
    rule = rules.Rule("web", "matches", STAR_HEAVY_RULE)
    page = rules.web_page(LONG_PATH)
    started = time.thread_time()
    verdict = rules.evaluate([rule], page)
    assert time.thread_time() - started < 0.05
    assert verdict.shows is False
    assert rules.evaluate([rule], rules.web_page(LONG_PATH + "x")).shows is True
