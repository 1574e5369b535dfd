from datetime import timedelta

import pytest

from campaigns.models import GoalCondition, GoalTrigger
from delivery.models import Visitor
from metrics.conversions import attribute_conversions, reconcile_conversions
from metrics.models import Conversion, SegmentMembership
from tests.factories import (
    AnonymousMessageFactory,
    EventFactory,
    MessageEventFactory,
    ProfileFactory,
    SegmentFactory,
)
from tests.metrics.conftest import at

T = at(10, 12)
H = timedelta(hours=1)
WEEK = timedelta(days=7)


def person(workspace, *anonymous_ids, identified_at=None, user_id=None):
    """A profile with merged anonymous visitors (identified at `identified_at`, a time or a
    list of times, one per anonymous id)."""
    profile = ProfileFactory(workspace=workspace, **({"user_id": user_id} if user_id else {}))
    times = (
        identified_at if isinstance(identified_at, list) else [identified_at] * len(anonymous_ids)
    )
    for anonymous_id, when in zip(anonymous_ids, times, strict=True):
        # The visitor may already exist (its message events created it, as tracking does).
        Visitor.objects.update_or_create(
            workspace=workspace,
            anonymous_id=anonymous_id,
            defaults={"profile": profile, "identified_at": when},
            create_defaults={
                "profile": profile, "identified_at": when,
                "first_seen_at": T, "last_seen_at": T,
            },
        )  # fmt: skip
    return profile


def converted(message, profile) -> list[Conversion]:
    attribute_conversions(workspace_id=message.workspace_id, profile_ids=[profile.pk])
    return list(Conversion.objects.filter(message=message, profile=profile))


# --- The bar's attribution table, on stored data ----------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "action", "expected"),
    [
        (GoalTrigger.CLICK, "click", 1),
        (GoalTrigger.CLICK, "view", 0),
        (GoalTrigger.VIEW, "view", 1),
        (GoalTrigger.VIEW, "click", 0),
    ],
)
def test_the_goal_trigger_decides_which_message_event_counts(workspace, trigger, action, expected):
    message = AnonymousMessageFactory(workspace=workspace, goal_trigger=trigger)
    MessageEventFactory(
        message=message,
        anonymous_id="anon-1",
        timestamp=T,
        **({"click": True} if action == "click" else {}),
    )
    profile = person(workspace, "anon-1", identified_at=T + H)
    assert len(converted(message, profile)) == expected


@pytest.mark.parametrize(
    ("identified_after", "expected"),
    [
        (timedelta(0), 1),
        (H, 1),
        (WEEK, 1),
        (WEEK + timedelta(seconds=1), 0),
        (-H, 0),
    ],
    ids=["at-the-click", "inside", "at-the-window-end", "outside", "identified-before-the-click"],
)
def test_identify_must_fall_inside_the_window_after_the_trigger(
    workspace, identified_after, expected
):
    message = AnonymousMessageFactory(workspace=workspace, goal_window_hours=168)
    MessageEventFactory(message=message, anonymous_id="anon-1", timestamp=T, click=True)
    profile = person(workspace, "anon-1", identified_at=T + identified_after)
    assert len(converted(message, profile)) == expected


def test_two_anonymous_ids_merged_into_one_profile_are_one_conversion(workspace):
    message = AnonymousMessageFactory(workspace=workspace)
    MessageEventFactory(message=message, anonymous_id="phone", timestamp=T, click=True)
    MessageEventFactory(message=message, anonymous_id="laptop", timestamp=T + H, click=True)
    profile = person(workspace, "phone", "laptop", identified_at=[T + 2 * H, T + 3 * H])
    conversions = converted(message, profile)
    assert len(conversions) == 1
    assert conversions[0].anonymous_id == "phone"
    assert conversions[0].triggered_at == T


def test_repeated_clicks_are_one_conversion_recording_the_first_click(workspace):
    message = AnonymousMessageFactory(workspace=workspace)
    first = MessageEventFactory(message=message, anonymous_id="anon-1", timestamp=T, click=True)
    for minutes in (5, 10, 15):
        MessageEventFactory(
            message=message,
            anonymous_id="anon-1",
            timestamp=T + timedelta(minutes=minutes),
            click=True,
        )
    profile = person(workspace, "anon-1", identified_at=T + H)
    [conversion] = converted(message, profile)
    assert conversion.trigger == "click"
    assert conversion.trigger_event_id == first.pk
    assert conversion.triggered_at == T
    assert conversion.identified_at == T + H
    assert conversion.converted_at == T + H


@pytest.mark.parametrize(
    ("event_name", "event_at", "expected"),
    [
        ("Started Trial", T + 2 * H, 1),
        ("Started Trial", T + 30 * 60 * timedelta(seconds=1), 1),
        ("Viewed Pricing", T + 2 * H, 0),
        ("Started Trial", T + WEEK + H, 0),
        ("Started Trial", T - H, 0),
    ],
    ids=["met", "met-while-anonymous", "another-event", "after-the-window", "before-the-click"],
)
def test_event_condition_must_be_met_in_the_same_window(workspace, event_name, event_at, expected):
    message = AnonymousMessageFactory(
        workspace=workspace, goal_condition=GoalCondition.EVENT, goal_event="Started Trial"
    )
    MessageEventFactory(message=message, anonymous_id="anon-1", timestamp=T, click=True)
    profile = person(workspace, "anon-1", identified_at=T + H, user_id="u-1")
    if event_at < T + H:  # before identify: sent with the anonymous id only
        EventFactory(
            workspace=workspace, name=event_name, anonymous_id="anon-1", timestamp=event_at
        )
    else:
        EventFactory(
            workspace=workspace, name=event_name, anonymous_id="", user_id="u-1", timestamp=event_at
        )
    conversions = converted(message, profile)
    assert len(conversions) == expected
    if expected:
        assert conversions[0].condition_met_at == event_at
        assert conversions[0].converted_at == max(event_at, T + H)


def test_an_event_of_another_workspace_does_not_meet_the_condition(workspace):
    message = AnonymousMessageFactory(
        workspace=workspace, goal_condition=GoalCondition.EVENT, goal_event="Started Trial"
    )
    MessageEventFactory(message=message, anonymous_id="anon-1", timestamp=T, click=True)
    profile = person(workspace, "anon-1", identified_at=T + H, user_id="u-1")
    EventFactory(name="Started Trial", user_id="u-1", timestamp=T + 2 * H)  # another workspace
    assert converted(message, profile) == []


@pytest.mark.parametrize(
    ("condition", "entered", "left", "expected"),
    [
        (GoalCondition.SEGMENT_ENTERED, T + 2 * H, None, 1),
        (GoalCondition.SEGMENT_ENTERED, T - H, None, 0),
        (GoalCondition.SEGMENT_ENTERED, T + WEEK + H, None, 0),
        (GoalCondition.SEGMENT_LEFT, T - H, T + 2 * H, 1),
        (GoalCondition.SEGMENT_LEFT, T - H, None, 0),
        (GoalCondition.SEGMENT_LEFT, T - 2 * H, T - H, 0),
    ],
    ids=[
        "entered-in-window",
        "already-in-before-the-click",
        "entered-after-the-window",
        "left-in-window",
        "never-left",
        "left-before-the-click",
    ],
)
def test_segment_conditions_use_recorded_entries_and_exits(
    workspace, condition, entered, left, expected
):
    segment = SegmentFactory(workspace=workspace)
    message = AnonymousMessageFactory(
        workspace=workspace, goal_condition=condition, goal_segment=segment
    )
    MessageEventFactory(message=message, anonymous_id="anon-1", timestamp=T, click=True)
    profile = person(workspace, "anon-1", identified_at=T + H)
    SegmentMembership.objects.create(
        workspace=workspace, segment=segment, profile=profile, entered_at=entered, left_at=left
    )
    assert len(converted(message, profile)) == expected


def test_a_message_without_goal_condition_converts_on_identify_alone(workspace):
    message = AnonymousMessageFactory(workspace=workspace, goal_condition=GoalCondition.NONE)
    MessageEventFactory(message=message, anonymous_id="anon-1", timestamp=T, click=True)
    profile = person(workspace, "anon-1", identified_at=T + H)
    [conversion] = converted(message, profile)
    assert conversion.condition_met_at is None


# --- Idempotence, scoping and reconciliation ------------------------------------------------


def test_attributing_twice_changes_nothing(workspace):
    message = AnonymousMessageFactory(workspace=workspace)
    MessageEventFactory(message=message, anonymous_id="anon-1", timestamp=T, click=True)
    profile = person(workspace, "anon-1", identified_at=T + H)
    assert attribute_conversions(workspace_id=workspace.pk, profile_ids=[profile.pk]) == 1
    before = list(Conversion.objects.values())
    assert attribute_conversions(workspace_id=workspace.pk, profile_ids=[profile.pk]) == 0
    assert list(Conversion.objects.values()) == before


def test_a_message_event_naming_another_workspaces_message_converts_nothing(workspace):
    foreign = AnonymousMessageFactory()
    EventFactory(
        workspace=workspace,
        name="Report Content Event",
        anonymous_id="anon-1",
        timestamp=T,
        content_id=foreign.pk,
        action_type="clicked_content",
    )
    profile = person(workspace, "anon-1", identified_at=T + H)
    assert attribute_conversions(workspace_id=workspace.pk, profile_ids=[profile.pk]) == 0


def test_reconciliation_catches_up_recent_identifications_and_is_idempotent(workspace):
    message = AnonymousMessageFactory(workspace=workspace)
    now = T + 2 * H
    profiles = []
    for n in range(3):
        MessageEventFactory(message=message, anonymous_id=f"anon-{n}", timestamp=T, click=True)
        profiles.append(person(workspace, f"anon-{n}", identified_at=T + H))
    # Identified too long ago for the default look-back:
    MessageEventFactory(message=message, anonymous_id="old", timestamp=T - 60 * 24 * H, click=True)
    old = person(workspace, "old", identified_at=T - 60 * 24 * H + H)

    assert reconcile_conversions(now=now) == 3
    assert reconcile_conversions(now=now) == 0
    assert set(Conversion.objects.values_list("profile_id", flat=True)) == {p.pk for p in profiles}
    assert reconcile_conversions(since=T - 90 * 24 * H, now=now) == 1
    assert Conversion.objects.filter(profile=old).count() == 1
