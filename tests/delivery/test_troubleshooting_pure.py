"""The pure halves of troubleshooting: reasons in plain words, and outranking on pages."""

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.rules import Rule, screen_page, web_page
from delivery.sdk_api import eligibility as e
from delivery.sdk_api.eligibility import LiveMessage, MessageState
from delivery.troubleshooting.explanations import explain_all
from delivery.troubleshooting.outranking import example_pages, outranked_messages

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
PRICING = (Rule(platform="web", operator="is", value="/pricing"),)


def message(id, **fields):
    fields.setdefault("rules", PRICING)
    return LiveMessage(id=id, name=f"M{id}", **fields)


# --- The debugger's reasons: one row per reason code ------------------------------------------

CASES = [
    # (messages, state of message 1, visitor/workspace, expected code, words in the text)
    ([message(1)], MessageState(), {}, e.ELIGIBLE, "Delivered here (modal)"),
    ([message(1)], MessageState(views=2), {}, e.ELIGIBLE, "viewed 2 times so far"),
    ([message(1)], MessageState(), {"plan_allows": False}, e.PLAN, "plan does not include"),
    ([message(1)], MessageState(), {"inapp_enabled": False}, e.INAPP_DISABLED, "switched off"),
    (
        [message(1)],
        MessageState(),
        {"identified": True},
        e.IDENTIFIED,
        "This visitor is identified",
    ),
    ([message(1, status="draft")], MessageState(), {}, e.DRAFT, "draft: launch it first"),
    ([message(1, status="paused")], MessageState(), {}, e.PAUSED, "paused"),
    ([message(1, status="ended")], MessageState(), {}, e.ENDED, "was ended"),
    (
        [message(1, starts_at=NOW + timedelta(days=1))],
        MessageState(),
        {"time_zone": "Europe/Paris"},
        e.NOT_STARTED,
        "starts on 2026-12-06 11:00 (Europe/Paris)",
    ),
    ([message(1, ends_at=NOW)], MessageState(), {}, e.ENDED, "ended on 2026-12-05 10:00"),
    (
        [message(1, rules=(Rule(platform="web", operator="is", value="/blog"),))],
        MessageState(),
        {},
        e.PAGE_RULE,
        "page rules leave this page out",
    ),
    (
        [message(1)],
        MessageState(dismissed_at=datetime(2026, 12, 1, 8, 5, tzinfo=UTC)),
        {"time_zone": "Asia/Tokyo"},
        e.FREQUENCY_DISMISSED,
        "Dismissed by this visitor on Dec 1, 2026, 17:05",
    ),
    (
        [message(1)],
        MessageState(responded_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC)),
        {},
        e.FREQUENCY_RESPONDED,
        "clicked one of its tracked actions on Dec 2, 2026, 09:00",
    ),
    (
        [message(1, frequency_mode="times", frequency_times=3)],
        MessageState(views=3),
        {},
        e.FREQUENCY_MAX_VIEWS,
        "Viewed 3 times, the most it shows to one visitor (3)",
    ),
    (
        [message(1, min_interval_seconds=3600)],
        MessageState(views=1, last_viewed_at=NOW - timedelta(minutes=5)),
        {},
        e.MIN_INTERVAL,
        "waits 3600 s between two views",
    ),
    (
        [message(1, priority=2), message(7, priority=1)],
        MessageState(),
        {},
        e.DISPLAY_SLOT_TAKEN,
        "Slot taken by “M7”: same place (modal), and it goes first (priority 1, this one 2)",
    ),
    (
        [message(1), message(0)],
        MessageState(),
        {},
        e.DISPLAY_SLOT_TAKEN,
        "Slot taken by “M0”",
    ),
]


@pytest.mark.parametrize(("messages", "state", "context", "code", "words"), CASES)
def test_every_reason_is_said_in_plain_words(messages, state, context, code, words):
    time_zone = context.pop("time_zone", "UTC")
    decisions = e.decide(
        messages=messages,
        page=web_page("/pricing"),
        now=NOW,
        states={1: state},
        time_zone=time_zone,
        **context,
    )
    [explained] = [
        x
        for x in explain_all(decisions, states={1: state}, time_zone=time_zone)
        if x.message_id == 1
    ]
    assert explained.reason == code
    assert words in explained.text


def test_a_taken_slot_names_the_message_that_holds_it():
    overlay = {"display_type": "overlay", "display_position": "top-left"}
    decisions = e.decide(
        messages=[message(1, **overlay), message(2, **overlay), message(3)],
        page=web_page("/pricing"),
        now=NOW,
    )
    by_id = {x.message_id: x for x in explain_all(decisions, states={})}
    assert by_id[2].holder_id == 1
    assert "same place (top-left corner)" in by_id[2].text
    assert by_id[3].shown  # a modal is another slot


EXIT = {"type": "exit_intent"}


def test_a_message_waiting_for_its_trigger_is_delivered_and_holds_no_slot():
    decisions = e.decide(
        messages=[message(1, trigger=EXIT), message(2), message(3)],
        page=web_page("/pricing"),
        now=NOW,
    )
    by_id = {x.message_id: x for x in explain_all(decisions, states={})}
    assert by_id[1].shown and "shows on its trigger (exit intent)" in by_id[1].text
    assert by_id[2].shown and "trigger" not in by_id[2].text
    assert (by_id[3].reason, by_id[3].holder_id) == (e.DISPLAY_SLOT_TAKEN, 2)
    assert "Slot taken by “M2”" in by_id[3].text


def test_a_slot_full_of_waiting_messages_says_so():
    waiting = [message(n, trigger=EXIT) for n in range(1, e.MESSAGES_PER_SLOT + 1)]
    decisions = e.decide(messages=[*waiting, message(9)], page=web_page("/pricing"), now=NOW)
    [refused] = [x for x in explain_all(decisions, states={}) if not x.shown]
    assert refused.holder_id == e.MESSAGES_PER_SLOT
    assert "is full" in refused.text and f"at most {e.MESSAGES_PER_SLOT}" in refused.text


# --- Outranking -------------------------------------------------------------------------------


def test_a_duplicate_is_outranked_on_every_page_it_shows_on():
    found = outranked_messages([message(1), message(2)], example_pages([PRICING, PRICING]), now=NOW)
    assert set(found) == {2}
    assert (found[2].rival.id, found[2].everywhere) == (1, True)
    assert found[2].blocked_on == ("/pricing",)


def test_a_lower_priority_number_wins_whatever_the_age():
    found = outranked_messages(
        [message(1, priority=5), message(2, priority=1)], example_pages([PRICING]), now=NOW
    )
    assert found[1].rival.id == 2


def test_other_pages_or_another_display_are_not_outranked():
    blog = (Rule(platform="web", operator="starts_with", value="/blog"),)
    messages = [
        message(1),
        message(2, rules=blog),
        message(3, display_type="banner", display_position="top"),
    ]
    assert outranked_messages(messages, example_pages([m.rules for m in messages]), now=NOW) == {}


def test_a_message_on_every_page_is_outranked_only_where_the_rival_shows():
    messages = [message(1), message(2, rules=())]
    found = outranked_messages(messages, example_pages([PRICING, ()], ["/about"]), now=NOW)
    assert found[2].blocked_on == ("/pricing",)
    assert set(found[2].shown_on) == {"/about", "/"}
    assert not found[2].everywhere


def test_a_paused_or_future_rival_takes_no_slot():
    rivals = [message(1, status="paused"), message(2, starts_at=NOW + timedelta(hours=1))]
    found = outranked_messages([*rivals, message(3)], example_pages([PRICING]), now=NOW)
    assert 3 not in found


def test_a_rival_waiting_for_its_trigger_outranks_nothing():
    found = outranked_messages(
        [message(1, trigger=EXIT), message(2)], example_pages([PRICING]), now=NOW
    )
    assert found == {}


def test_a_show_always_rival_keeps_the_slot_for_good():
    found = outranked_messages(
        [message(1, frequency_mode="always"), message(2)], example_pages([PRICING]), now=NOW
    )
    assert found[2].rival_keeps_slot


@pytest.mark.parametrize(
    ("rule", "page"),
    [
        (Rule("web", "is", "/pricing"), web_page("/pricing")),
        (Rule("web", "starts_with", "docs"), web_page("/docs")),
        (Rule("web", "contains", "?plan=pro"), web_page("/?plan=pro")),
        (Rule("web", "ends_with", "/checkout"), web_page("/checkout")),
        (Rule("web", "matches", "/blog/*"), web_page("/blog/example")),
        (Rule("ios", "is", "Paywall"), screen_page("ios", "Paywall")),
    ],
)
def test_each_inclusion_rule_gives_an_example_page_it_matches(rule, page):
    pages = example_pages([(rule,)])
    assert page in pages
    assert pages[-1] == web_page("/")


@pytest.mark.parametrize(
    "rule",
    [
        Rule("web", "regex", "^/a"),
        Rule("web", "is_not", "/a"),
        Rule("web", "not_contains", "a"),
        Rule("web", "is", "/a", exclude=True),
    ],
)
def test_rules_that_name_no_page_give_no_example(rule):
    assert example_pages([(rule,)]) == [web_page("/")]
