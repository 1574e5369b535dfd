"""Per-arm numbers of an experiment: events in the database, counted by the rollup job into
the experiment tables, read back."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import GoalCondition
from metrics.experiment_arms import ArmNumbers, experiment_arms
from metrics.experiment_report import configured_arms, experiment_report
from metrics.experiment_rollup import arm_of
from metrics.models import ExperimentExposure, MessageStatsVersion, SegmentMembership
from tests.factories import EventFactory, SegmentFactory
from tests.metrics.conftest import at
from tests.metrics.experiment_helpers import arm_event, count_events, identify, make_experiment

CLICK = "clicked_content"
DISMISS = "dismissed_content"


def by_key(arms: list[ArmNumbers]) -> dict[str, ArmNumbers]:
    return {arm.key: arm for arm in arms}


def test_arms_count_exposures_views_clicks_and_dismissals(message):
    make_experiment(message, variants=("B",), holdout_percent=10)
    # Visitor a1 sees A twice and clicks; a2 sees B and dismisses; h1 is held out, reported
    # twice (counted once); h2 is held out once.
    arm_event(message, "a1", arm="A", at=at(2, 10))
    arm_event(message, "a1", arm="A", at=at(2, 11))
    arm_event(message, "a1", arm="A", at=at(2, 11), action=CLICK, action_name="signup")
    arm_event(message, "a2", arm="B", at=at(2, 10))
    arm_event(message, "a2", arm="B", at=at(2, 10), action=DISMISS)
    arm_event(message, "h1", arm="holdout", at=at(2, 10))
    arm_event(message, "h1", arm="holdout", at=at(3, 10))
    arm_event(message, "h2", arm="holdout", at=at(2, 12))

    count_events()
    arms = experiment_arms(message=message, configured=("A", "B", "holdout"))

    assert [arm.key for arm in arms] == ["A", "B", "holdout"]
    a, b, holdout = arms
    assert (a.exposed, a.views, a.clicks, a.clicks_by_action, a.dismissals) == (
        1, 2, 1, {"signup": 1}, 0,
    )  # fmt: skip
    assert (b.exposed, b.views, b.clicks, b.dismissals) == (1, 1, 0, 1)
    assert (holdout.exposed, holdout.views, holdout.clicks) == (2, 0, 0)


def test_untagged_and_foreign_events_are_not_counted(message, workspace):
    make_experiment(message)
    # A view from before the experiment (no variant), a view with a made-up arm, another
    # message's view, another workspace's event naming this message.
    arm_event(message, "old", arm="A", at=at(1)).__class__.objects.filter(
        anonymous_id="old"
    ).update(payload={"properties": {"actionType": "viewed_content"}})
    arm_event(message, "odd", arm="Z", at=at(2))
    other = type(message).objects.create(workspace=workspace, name="Other")
    arm_event(other, "x", arm="A", at=at(2))
    stranger = EventFactory(content_id=message.pk, action_type="viewed_content",
                            payload={"properties": {"variant": "A"}})  # fmt: skip
    assert stranger.workspace_id != workspace.pk

    count_events()
    arms = by_key(experiment_arms(message=message, configured=("A", "B")))
    assert arms["A"].exposed == arms["A"].views == 0
    assert arms["B"].exposed == 0
    assert set(arms) == {"A", "B"}


def test_a_visitor_stays_in_the_arm_of_their_first_exposure(message):
    make_experiment(message)
    arm_event(message, "v", arm="B", at=at(2, 10))
    arm_event(message, "v", arm="A", at=at(3, 10))  # moved by a weight change
    count_events()
    arms = by_key(experiment_arms(message=message, configured=("A", "B")))
    assert (arms["B"].exposed, arms["A"].exposed) == (1, 0)
    assert (arms["B"].views, arms["A"].views) == (1, 1)  # views follow their own tag


def test_exposure_based_conversion_is_identified_within_the_window_after_first_exposure(
    message, workspace
):
    make_experiment(message, holdout_percent=10)
    message.goal_window_hours = 24
    message.save()
    arm_event(message, "in-time", arm="A", at=at(2, 10))
    identify(workspace, "in-time", at=at(3, 10))  # exactly 24 hours later: included
    arm_event(message, "too-late", arm="A", at=at(2, 10))
    identify(workspace, "too-late", at=at(3, 11))
    arm_event(message, "before", arm="B", at=at(2, 10))
    identify(workspace, "before", at=at(2, 9))  # identified before the exposure
    arm_event(message, "held", arm="holdout", at=at(2, 10))
    identify(workspace, "held", at=at(2, 12))  # the holdout converts by the same rule
    arm_event(message, "clicker", arm="B", at=at(2, 10))
    identify(workspace, "clicker", at=at(2, 11))

    count_events()
    arms = by_key(experiment_arms(message=message, configured=("A", "B", "holdout")))
    assert {key: (arm.exposed, arm.converted) for key, arm in arms.items()} == {
        "A": (2, 1), "B": (2, 1), "holdout": (1, 1),
    }  # fmt: skip
    assert arms["A"].conversion_rate == 0.5


def test_the_goal_event_condition_applies_to_every_arm(message, workspace):
    make_experiment(message, holdout_percent=10)
    message.goal_condition = GoalCondition.EVENT
    message.goal_event = "Plan Chosen"
    message.save()
    for anonymous_id, arm in [("b1", "B"), ("b2", "B"), ("h1", "holdout")]:
        arm_event(message, anonymous_id, arm=arm, at=at(2, 10))
        profile = identify(workspace, anonymous_id, at=at(2, 11))
        if anonymous_id != "b2":
            EventFactory(workspace=workspace, name="Plan Chosen", user_id=profile.user_id,
                         anonymous_id="", timestamp=at(2, 12))  # fmt: skip
    count_events()
    arms = by_key(experiment_arms(message=message, configured=("A", "B", "holdout")))
    assert (arms["B"].converted, arms["holdout"].converted, arms["A"].converted) == (1, 1, 0)


def test_the_goal_segment_condition_applies(message, workspace):
    segment = SegmentFactory(workspace=workspace, conditions=[
        {"trait": "plan", "operator": "equals", "value": "pro"}])  # fmt: skip
    make_experiment(message)
    message.goal_condition = GoalCondition.SEGMENT_ENTERED
    message.goal_segment = segment
    message.save()
    arm_event(message, "b1", arm="B", at=at(2, 10))
    profile = identify(workspace, "b1", at=at(2, 11))
    SegmentMembership.objects.create(
        workspace=workspace, segment=segment, profile=profile, entered_at=at(2, 12)
    )
    arm_event(message, "b2", arm="B", at=at(2, 10))
    identify(workspace, "b2", at=at(2, 11))  # never entered the segment
    count_events()
    arms = by_key(experiment_arms(message=message, configured=("A", "B")))
    assert (arms["B"].exposed, arms["B"].converted) == (2, 1)


def test_arms_stop_counting_when_the_winner_was_chosen(message, owner):
    make_experiment(message)
    arm_event(message, "early", arm="B", at=at(2, 10))
    arm_event(message, "late", arm="B", at=at(4, 10))
    message.winner_key = "B"
    message.winner_chosen_at = at(3)
    message.save()
    count_events()
    report = experiment_report(message=message)
    assert by_key(report.arms)["B"].exposed == 1
    assert report.frozen_at == at(3)


def test_a_message_without_an_experiment_has_no_report(message, django_assert_num_queries):
    arm_event(message, "v", arm="A", at=at(2))
    with django_assert_num_queries(1):  # its variant keys
        assert experiment_report(message=message) is None


@pytest.mark.parametrize(
    ("holdout", "variants", "winner", "expected"),
    [
        (0, [], "", ()),
        (10, [], "", ("A", "holdout")),
        (0, ["C", "B"], "", ("A", "B", "C")),
        (5, ["B"], "", ("A", "B", "holdout")),
        (0, [], "A", ("A",)),
    ],
)
def test_configured_arms(holdout, variants, winner, expected):
    assert configured_arms(holdout_percent=holdout, variant_keys=variants, winner_key=winner) == (
        expected
    )


def test_the_report_is_cached_for_a_minute(message):
    make_experiment(message)
    arm_event(message, "v", arm="B", at=at(2))
    now = at(10, 10, 0)
    count_events()
    first = experiment_arms(message=message, configured=("A", "B"), version="v1", now=now)
    arm_event(message, "w", arm="B", at=at(2))
    count_events()  # same version passed below: the cached answer is the minute's
    with CaptureQueriesContext(connection) as queries:
        again = experiment_arms(
            message=message, configured=("A", "B"), version="v1", now=now + timedelta(seconds=30)
        )
    assert len(queries) == 0
    assert by_key(again)["B"].exposed == by_key(first)["B"].exposed == 1
    later = experiment_arms(
        message=message, configured=("A", "B"), version="v1", now=now + timedelta(seconds=61)
    )
    assert by_key(later)["B"].exposed == 2


@pytest.mark.parametrize(
    ("action_type", "variant", "arm"),
    [
        ("viewed_content", "B", "B"),
        ("clicked_content", "A", "A"),
        ("dismissed_content", "D", "D"),
        ("held_out", None, "holdout"),
        ("held_out", "B", "holdout"),
        ("viewed_content", None, None),
        ("viewed_content", "b", None),
        ("viewed_content", "E", None),
        ("viewed_content", 2, None),
    ],
)
def test_arm_of(action_type, variant, arm):
    assert arm_of(action_type, variant) == arm


def test_an_earlier_exposure_counted_later_replaces_the_first_one(message):
    make_experiment(message, holdout_percent=10)
    arm_event(message, "v", arm="B", at=at(3, 10))
    count_events()
    arm_event(message, "v", arm="holdout", at=at(2, 10))  # a late batch, from before
    count_events()
    exposure = ExperimentExposure.objects.get(message=message)
    assert (exposure.arm, exposure.exposed_at) == ("holdout", at(2, 10))
    arms = by_key(experiment_arms(message=message, configured=("A", "B", "holdout")))
    assert (arms["holdout"].exposed, arms["B"].exposed, arms["B"].views) == (1, 0, 1)


def test_each_event_is_counted_once_however_often_the_job_runs(message):
    make_experiment(message, holdout_percent=10)
    arm_event(message, "v", arm="B", at=at(2, 10))
    arm_event(message, "h", arm="holdout", at=at(2, 10))
    count_events()
    arm_event(message, "h", arm="holdout", at=at(2, 11))  # reported again
    count_events()
    count_events()
    arms = by_key(experiment_arms(message=message, configured=("A", "B", "holdout")))
    assert (arms["B"].exposed, arms["B"].views, arms["holdout"].exposed) == (1, 1, 1)


def test_new_experiment_rows_give_the_message_a_new_stats_version(message):
    make_experiment(message, holdout_percent=10)
    arm_event(message, "h", arm="holdout", at=at(2, 10))  # no view: no hourly rollup row
    count_events()
    assert MessageStatsVersion.objects.filter(message=message).exists()
