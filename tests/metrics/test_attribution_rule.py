from datetime import UTC, datetime, timedelta

import pytest

from metrics.attribution import Goal, Trigger, attribute

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
H = timedelta(hours=1)


def click(at=T, anonymous_id="a1", event_id=1):
    return Trigger(kind="click", at=at, anonymous_id=anonymous_id, event_id=event_id)


def view(at=T, anonymous_id="a1", event_id=1):
    return Trigger(kind="view", at=at, anonymous_id=anonymous_id, event_id=event_id)


@pytest.mark.parametrize(
    ("case", "goal", "triggers", "identified", "conditions", "converted_at"),
    [
        ("click goal, clicked then identified", Goal("click", WEEK), [click()], {"a1": T + H}, [], T + H),
        ("click goal, only viewed", Goal("click", WEEK), [view()], {"a1": T + H}, [], None),
        ("view goal, viewed then identified", Goal("view", WEEK), [view()], {"a1": T + H}, [], T + H),
        ("view goal, only clicked", Goal("view", WEEK), [click()], {"a1": T + H}, [], None),
        ("identified at the trigger", Goal("click", WEEK), [click()], {"a1": T}, [], T),
        ("identified at the window's end", Goal("click", WEEK), [click()], {"a1": T + WEEK}, [], T + WEEK),
        ("identified just after the window", Goal("click", WEEK), [click()], {"a1": T + WEEK + timedelta(seconds=1)}, [], None),
        ("identified before the trigger", Goal("click", WEEK), [click()], {"a1": T - H}, [], None),
        ("never identified", Goal("click", WEEK), [click()], {"a1": None}, [], None),
        ("a 1-hour window", Goal("click", H), [click()], {"a1": T + 2 * H}, [], None),
        ("event met in the window", Goal("click", WEEK, "event"), [click()], {"a1": T + H}, [T + 2 * H], T + 2 * H),
        ("event met before identify", Goal("click", WEEK, "event"), [click()], {"a1": T + 3 * H}, [T + H], T + 3 * H),
        ("event not met", Goal("click", WEEK, "event"), [click()], {"a1": T + H}, [], None),
        ("event met before the trigger", Goal("click", WEEK, "event"), [click()], {"a1": T + H}, [T - H], None),
        ("event met after the window", Goal("click", WEEK, "event"), [click()], {"a1": T + H}, [T + WEEK + H], None),
        ("segment entered in the window", Goal("click", WEEK, "segment_entered"), [click()], {"a1": T + H}, [T + 5 * H], T + 5 * H),
        ("segment left in the window", Goal("click", WEEK, "segment_left"), [click()], {"a1": T + H}, [T + 5 * H], T + 5 * H),
        ("no condition ignores condition times", Goal("click", WEEK), [click()], {"a1": T + H}, [T - WEEK], T + H),
    ],
)  # fmt: skip
def test_attribution_table(case, goal, triggers, identified, conditions, converted_at):
    result = attribute(
        goal=goal, triggers=triggers, identified_at=identified, condition_times=conditions
    )
    assert (result.converted_at if result else None) == converted_at, case


def test_the_earliest_qualifying_trigger_is_recorded():
    triggers = [click(T + 2 * H, event_id=9), click(T, event_id=5), click(T + H, event_id=7)]
    result = attribute(goal=Goal("click", WEEK), triggers=triggers, identified_at={"a1": T + 3 * H})
    assert result.trigger.event_id == 5
    assert result.trigger.at == T


def test_a_later_trigger_converts_when_the_first_one_is_out_of_window():
    triggers = [click(T, event_id=1), click(T + 10 * 24 * H, event_id=2)]
    identified = {"a1": T + 10 * 24 * H + H}
    result = attribute(goal=Goal("click", WEEK), triggers=triggers, identified_at=identified)
    assert result.trigger.event_id == 2


def test_the_trigger_of_any_merged_anonymous_id_counts():
    triggers = [
        click(T, anonymous_id="phone", event_id=1),
        click(T, anonymous_id="laptop", event_id=2),
    ]
    identified = {"phone": T - H, "laptop": T + H}
    result = attribute(goal=Goal("click", WEEK), triggers=triggers, identified_at=identified)
    assert result.trigger.anonymous_id == "laptop"
    assert result.identified_at == T + H
