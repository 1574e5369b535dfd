"""delivery.sdk_api.eligibility: which messages a visitor gets, and the reason for the others."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.rules import Page, Rule, screen_page, web_page
from delivery.sdk_api.eligibility import (
    MESSAGES_PER_SLOT,
    LiveMessage,
    MessageState,
    allowed_by_rules,
    decide,
    delivered,
    delivery_order,
    select_candidates,
)

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
PRICING = web_page("https://shop.example.com/pricing/?plan=pro#faq")


def message(**fields) -> LiveMessage:
    return LiveMessage(**{"id": 1, "name": "Offer", **fields})


def hot_path(*, messages, page, now, states=None) -> list[LiveMessage]:
    """The delivery view's selection for an anonymous visitor of an open workspace: the live
    messages (in delivery order) whose page rules allow the page, then `select_candidates`."""
    pages = (page,) if isinstance(page, Page) else tuple(page)
    allowed = allowed_by_rules(messages, pages)
    candidates = [m for m in delivery_order(messages) if m.id in allowed]
    return select_candidates(candidates, now=now, states=states or {})


def ago(**delta) -> datetime:
    return NOW - timedelta(**delta)


def later(**delta) -> datetime:
    return NOW + timedelta(**delta)


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def new_york(*args) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


WEB_PRICING = Rule("web", "is", "/pricing")

# (case, message fields, visitor state, extra decide() arguments, expected reason)
CASES = [
    ("launched without rules or state", {}, None, {}, "eligible"),
    ("draft", {"status": "draft"}, None, {}, "draft"),
    ("paused", {"status": "paused"}, None, {}, "paused"),
    ("ended by the marketer", {"status": "ended"}, None, {}, "ended"),
    ("archived", {"status": "archived"}, None, {}, "archived"),
    ("end equal to now has ended", {"ends_at": NOW}, None, {}, "ended"),
    ("end one second ahead", {"ends_at": later(seconds=1)}, None, {}, "eligible"),
    ("start equal to now has started", {"starts_at": NOW}, None, {}, "eligible"),
    ("start one second ahead", {"starts_at": later(seconds=1)}, None, {}, "not_started"),
    ("paused past its end is ended", {"status": "paused", "ends_at": ago(days=1)}, None, {}, "ended"),
    # Schedule edges in the workspace's time zone (DST starts in Paris on 2025-03-30 at 02:00).
    (
        "Paris 09:00 start, a second before",
        {"starts_at": paris(2025, 3, 30, 9, 0)},
        None,
        {"now": datetime(2025, 3, 30, 6, 59, 59, tzinfo=UTC), "time_zone": "Europe/Paris"},
        "not_started",
    ),
    (
        "Paris 09:00 start, at 07:00 UTC (summer time)",
        {"starts_at": paris(2025, 3, 30, 9, 0)},
        None,
        {"now": datetime(2025, 3, 30, 7, 0, tzinfo=UTC), "time_zone": "Europe/Paris"},
        "eligible",
    ),
    (
        "New York midnight start, already new year in UTC",
        {"starts_at": new_york(2025, 1, 1, 0, 0)},
        None,
        {"now": datetime(2025, 1, 1, 4, 59, tzinfo=UTC), "time_zone": "America/New_York"},
        "not_started",
    ),
    (
        "New York midnight end, reached at 05:00 UTC",
        {"ends_at": new_york(2025, 1, 1, 0, 0)},
        None,
        {"now": datetime(2025, 1, 1, 5, 0, tzinfo=UTC), "time_zone": "America/New_York"},
        "ended",
    ),
    # Frequency: until dismissed.
    ("until dismissed, dismissed", {}, MessageState(views=1, dismissed_at=ago(days=1)), {}, "frequency_dismissed"),
    ("until dismissed, clicked an action", {}, MessageState(views=1, responded_at=ago(hours=1)), {}, "frequency_responded"),
    ("until dismissed, seen 10 times", {}, MessageState(views=10, last_viewed_at=ago(minutes=1)), {}, "eligible"),
    # Frequency: N times.
    ("times 2, seen once", {"frequency_mode": "times", "frequency_times": 2}, MessageState(views=1), {}, "eligible"),
    ("times 2, seen twice", {"frequency_mode": "times", "frequency_times": 2}, MessageState(views=2), {}, "frequency_max_views"),
    ("times 2, dismissed unseen", {"frequency_mode": "times", "frequency_times": 2}, MessageState(dismissed_at=ago(hours=1)), {}, "frequency_dismissed"),
    ("times 2, clicked after one view", {"frequency_mode": "times", "frequency_times": 2}, MessageState(views=1, responded_at=ago(hours=1)), {}, "eligible"),
    ("times 1, never seen", {"frequency_mode": "times", "frequency_times": 1}, None, {}, "eligible"),
    # Frequency: always.
    ("always, dismissed", {"frequency_mode": "always"}, MessageState(views=3, dismissed_at=ago(minutes=1)), {}, "eligible"),
    ("always, clicked and seen 100 times", {"frequency_mode": "always"}, MessageState(views=100, responded_at=ago(minutes=1)), {}, "eligible"),
    # Minimum interval between two views (every mode).
    ("interval 60 s, seen 59 s ago", {"min_interval_seconds": 60}, MessageState(views=1, last_viewed_at=ago(seconds=59)), {}, "min_interval"),
    ("interval 60 s, seen 60 s ago", {"min_interval_seconds": 60}, MessageState(views=1, last_viewed_at=ago(seconds=60)), {}, "eligible"),
    ("always with 1 h interval, seen 10 min ago", {"frequency_mode": "always", "min_interval_seconds": 3600}, MessageState(views=5, last_viewed_at=ago(minutes=10)), {}, "min_interval"),
    ("times 3 with interval, seen 2 h ago", {"frequency_mode": "times", "frequency_times": 3, "min_interval_seconds": 3600}, MessageState(views=2, last_viewed_at=ago(hours=2)), {}, "eligible"),
    ("no interval, seen a moment ago", {"frequency_mode": "always"}, MessageState(views=1, last_viewed_at=NOW), {}, "eligible"),
    # Page rules per platform.
    ("web rule on its page (slash, query, fragment ignored)", {"rules": (WEB_PRICING,)}, None, {}, "eligible"),
    ("web rule on another page", {"rules": (WEB_PRICING,)}, None, {"page": web_page("/blog/post")}, "page_rule"),
    ("web exclusion matches", {"rules": (Rule("web", "contains", "plan=pro", exclude=True),)}, None, {}, "page_rule"),
    ("web-only rules on an iOS screen", {"rules": (WEB_PRICING,)}, None, {"page": screen_page("ios", "Pricing")}, "page_rule"),
    ("iOS rule on its screen", {"rules": (Rule("ios", "is", "Checkout"),)}, None, {"page": screen_page("ios", "checkout")}, "eligible"),
    ("Android rule on an iOS screen", {"rules": (Rule("android", "is", "Checkout"),)}, None, {"page": screen_page("ios", "Checkout")}, "page_rule"),
    (
        "Android rule, screen of unknown mobile platform",
        {"rules": (Rule("android", "is", "Checkout"),)},
        None,
        {"page": (screen_page("ios", "Checkout"), screen_page("android", "Checkout"))},
        "eligible",
    ),
    ("no rules shows on mobile too", {}, None, {"page": screen_page("android", "Home")}, "eligible"),
    # Visitor and workspace gates come first.
    ("identified visitor", {}, None, {"identified": True}, "identified"),
    ("identified visitor, message a draft", {"status": "draft"}, None, {"identified": True}, "identified"),
    ("in-app messages disabled", {}, None, {"inapp_enabled": False}, "inapp_disabled"),
    ("free plan", {}, None, {"plan_allows": False}, "plan"),
    ("schedule checked before frequency", {"status": "paused"}, MessageState(dismissed_at=ago(days=1)), {}, "paused"),
    ("page rule checked before frequency", {"rules": (WEB_PRICING,)}, MessageState(dismissed_at=ago(days=1)), {"page": web_page("/blog")}, "page_rule"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "state", "arguments", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_eligibility_table(fields, state, arguments, expected):
    arguments = {"page": PRICING, "now": NOW, **arguments}
    states = {1: state} if state is not None else {}
    [decision] = decide(messages=[message(**fields)], states=states, **arguments)
    assert decision.reason == expected
    assert decision.deliver is (expected == "eligible")
    assert decision.detail


def test_the_table_has_at_least_thirty_cases():
    assert len(CASES) >= 30


def test_not_started_detail_gives_the_start_in_the_workspace_time_zone():
    [decision] = decide(
        messages=[message(starts_at=paris(2025, 3, 30, 9, 0))],
        page=PRICING,
        now=datetime(2025, 3, 30, 6, 0, tzinfo=UTC),
        time_zone="Europe/Paris",
    )
    assert decision.detail == "The message starts on 2025-03-30 09:00 (Europe/Paris)."


def test_messages_come_in_priority_order_with_ties_broken_by_the_older_message():
    messages = [
        message(id=7, priority=2, display_type="banner", display_position="top"),
        message(id=5, priority=1, display_type="overlay", display_position="bottom-left"),
        message(id=3, priority=2, display_type="inline", display_element_id="hero"),
        message(id=9, priority=1, display_type="modal"),
    ]
    decisions = decide(messages=messages, page=PRICING, now=NOW)
    assert [d.message.id for d in decisions] == [5, 9, 3, 7]
    assert all(d.deliver for d in decisions)


def test_at_most_one_modal_whatever_its_position():
    messages = [
        message(id=1, priority=3, display_type="modal", display_position="top"),
        message(id=2, priority=1, display_type="modal", display_position="center"),
        message(id=3, priority=2, display_type="modal", display_position="bottom"),
    ]
    decisions = decide(messages=messages, page=PRICING, now=NOW)
    assert [(d.message.id, d.reason) for d in decisions] == [
        (2, "eligible"),
        (3, "display_slot_taken"),
        (1, "display_slot_taken"),
    ]
    assert "Message 2" in decisions[1].detail


def test_one_message_per_corner_banner_edge_and_inline_element():
    messages = [
        message(id=1, display_type="overlay", display_position="bottom-right"),
        message(id=2, display_type="overlay", display_position="bottom-right"),
        message(id=3, display_type="overlay", display_position="top-left"),
        message(id=4, display_type="banner", display_position="top"),
        message(id=5, display_type="banner", display_position="bottom"),
        message(id=6, display_type="banner", display_position="top"),
        message(id=7, display_type="inline", display_element_id="sidebar"),
        message(id=8, display_type="inline", display_element_id="sidebar"),
        message(id=9, display_type="inline", display_element_id="footer"),
    ]
    decisions = decide(messages=messages, page=PRICING, now=NOW)
    assert [m.id for m in delivered(decisions)] == [1, 3, 4, 5, 7, 9]
    assert {d.message.id for d in decisions if d.reason == "display_slot_taken"} == {2, 6, 8}


def test_a_message_left_out_for_another_reason_does_not_take_its_slot():
    messages = [
        message(id=1, priority=1, display_type="modal"),
        message(id=2, priority=2, display_type="modal"),
    ]
    states = {1: MessageState(views=1, dismissed_at=ago(minutes=5))}
    decisions = decide(messages=messages, states=states, page=PRICING, now=NOW)
    assert [(d.message.id, d.reason) for d in decisions] == [
        (1, "frequency_dismissed"),
        (2, "eligible"),
    ]


EXIT = {"type": "exit_intent"}
TRIGGERS = [
    None,
    {"type": "page_load"},
    EXIT,
    {"type": "delay", "seconds": 5},
    {"type": "scroll", "percent": 50},
    {"type": "inactivity", "seconds": 30},
    {"type": "click", "selector": "#cta"},
]


@pytest.mark.parametrize("trigger", TRIGGERS[2:], ids=lambda t: t["type"])
def test_a_message_waiting_for_its_trigger_leaves_its_slot_to_the_next_one(trigger):
    messages = [
        message(id=1, priority=1, trigger=trigger),
        message(id=2, priority=2),
        message(id=3, priority=3),
    ]
    decisions = decide(messages=messages, page=PRICING, now=NOW)
    assert [(d.message.id, d.reason) for d in decisions] == [
        (1, "eligible"),
        (2, "eligible"),
        (3, "display_slot_taken"),
    ]
    assert decisions[2].holder.id == 2
    assert "Message 2" in decisions[2].detail


@pytest.mark.parametrize("trigger", TRIGGERS[:2], ids=["none", "page_load"])
def test_a_page_load_message_keeps_its_slot_even_from_a_waiting_one(trigger):
    messages = [message(id=1, priority=1, trigger=trigger), message(id=2, priority=2, trigger=EXIT)]
    decisions = decide(messages=messages, page=PRICING, now=NOW)
    assert [(d.message.id, d.reason) for d in decisions] == [
        (1, "eligible"),
        (2, "display_slot_taken"),
    ]


def test_a_slot_carries_at_most_a_few_waiting_messages():
    waiting = [message(id=n, priority=n, trigger=EXIT) for n in range(1, 6)]
    decisions = decide(messages=[*waiting, message(id=9, priority=9)], page=PRICING, now=NOW)
    assert [m.id for m in delivered(decisions)] == list(range(1, MESSAGES_PER_SLOT + 1))
    refused = decisions[MESSAGES_PER_SLOT]
    assert refused.reason == "display_slot_taken"
    assert refused.holder.id == MESSAGES_PER_SLOT
    assert f"at most {MESSAGES_PER_SLOT}" in refused.detail


def test_a_waiting_message_does_not_take_another_slot():
    messages = [
        message(id=1, priority=1, display_type="banner", display_position="top", trigger=EXIT),
        message(id=2, priority=2, display_type="banner", display_position="top"),
        message(id=3, priority=3, display_type="modal", trigger=EXIT),
        message(id=4, priority=4, display_type="banner", display_position="top"),
    ]
    decisions = decide(messages=messages, page=PRICING, now=NOW)
    assert [m.id for m in delivered(decisions)] == [1, 2, 3]


def test_state_of_one_message_does_not_affect_another():
    messages = [message(id=1, display_type="banner"), message(id=2, display_type="modal")]
    states = {2: MessageState(views=1, dismissed_at=ago(minutes=5))}
    decisions = decide(messages=messages, states=states, page=PRICING, now=NOW)
    assert [m.id for m in delivered(decisions)] == [1]


RULE_SETS = [
    (),
    (Rule("web", "is", "/pricing"),),
    (Rule("web", "is", "/pricing"), Rule("web", "contains", "plan=pro", exclude=True)),
    (Rule("web", "contains", "plan=pro", exclude=True),),
    (Rule("web", "matches", "/blog/*"), Rule("web", "starts_with", "/docs")),
    (Rule("web", "regex", "^/(pricing|plans)"), Rule("ios", "is", "Paywall")),
    (Rule("ios", "is", "Paywall"),),
    (Rule("android", "contains", "check", case_sensitive=True),),
    (Rule("web", "no_such_operator", "/pricing"),),
    (Rule("web", "is_not", "/login"), Rule("web", "ends_with", "/admin", exclude=True)),
]
PAGES = [
    PRICING,
    web_page("/pricing?plan=basic"),
    web_page("/blog"),
    web_page("/blog/launch"),
    web_page("/docs/setup"),
    web_page("/team/admin"),
    web_page("/login/"),
    screen_page("ios", "Paywall"),
    screen_page("android", "Checkout"),
    screen_page("android", "checkout"),
]


@pytest.mark.parametrize("rules", RULE_SETS, ids=[repr(r)[:60] for r in RULE_SETS])
def test_the_memoised_rule_check_agrees_with_campaigns_evaluate(rules):
    from campaigns.rules import evaluate
    from delivery.sdk_api.eligibility import rules_allow

    for page in PAGES:
        assert rules_allow(rules, page) == evaluate(rules, page).shows, page


GATES = ("identified", "inapp_enabled", "plan_allows")


@pytest.mark.parametrize(
    ("fields", "state", "arguments", "expected"),
    [case[1:] for case in CASES if not set(case[3]) & set(GATES)],
    ids=[case[0] for case in CASES if not set(case[3]) & set(GATES)],
)
def test_the_hot_path_selection_agrees_with_the_table(fields, state, arguments, expected):
    arguments = {"page": PRICING, "now": NOW, **arguments}
    arguments.pop("time_zone", None)
    states = {1: state} if state is not None else {}
    chosen = hot_path(messages=[message(**fields)], states=states, **arguments)
    assert [m.id for m in chosen] == ([1] if expected == "eligible" else [])


def test_the_hot_path_selection_agrees_with_decide_on_random_workspaces():
    import random

    rng = random.Random(7)
    displays = [
        ("modal", "center", ""),
        ("modal", "top", ""),
        ("overlay", "top-left", ""),
        ("overlay", "bottom-right", ""),
        ("banner", "top", ""),
        ("inline", "center", "a"),
        ("inline", "center", "b"),
    ]
    for _ in range(300):
        messages, states = [], {}
        for number in range(1, rng.randint(1, 12)):
            kind, position, element = rng.choice(displays)
            messages.append(
                message(
                    id=number,
                    priority=rng.randint(1, 4),
                    status=rng.choice(["launched"] * 5 + ["paused", "draft", "ended"]),
                    starts_at=rng.choice([None, None, ago(hours=1), later(hours=1)]),
                    ends_at=rng.choice([None, None, ago(minutes=1), later(days=1)]),
                    frequency_mode=rng.choice(["until_dismissed", "times", "always"]),
                    frequency_times=rng.randint(1, 3),
                    min_interval_seconds=rng.choice([0, 0, 60, 3600]),
                    display_type=kind,
                    display_position=position,
                    display_element_id=element,
                    rules=rng.choice(RULE_SETS),
                    trigger=rng.choice(TRIGGERS),
                )
            )
            if rng.random() < 0.5:
                states[number] = MessageState(
                    views=rng.randint(0, 4),
                    last_viewed_at=rng.choice([None, ago(seconds=30), ago(hours=2)]),
                    dismissed_at=rng.choice([None, None, ago(hours=1)]),
                    responded_at=rng.choice([None, None, ago(hours=1)]),
                )
        page = rng.choice(PAGES)
        expected = [
            m.id for m in delivered(decide(messages=messages, states=states, page=page, now=NOW))
        ]
        chosen = hot_path(messages=messages, states=states, page=page, now=NOW)
        assert [m.id for m in chosen] == expected
