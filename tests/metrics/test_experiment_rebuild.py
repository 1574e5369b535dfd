"""`rebuild_rollups` rebuilds the experiment tables too (ExperimentExposure, ExperimentArmHour)
from the raw events, as the rollup job filled them."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from metrics.experiment_arms import experiment_arms
from metrics.models import ExperimentArmHour, ExperimentExposure
from metrics.rollups import rebuild_rollups
from tests.metrics.experiment_helpers import arm_event, count_events, identify, make_experiment

pytestmark = pytest.mark.django_db
ARMS = ("A", "B", "holdout")


def figures(message):
    cache.clear()
    return experiment_arms(message=message, configured=ARMS)


def tables(message):
    return (
        sorted(
            ExperimentExposure.objects.filter(message=message).values_list(
                "visitor__anonymous_id", "arm", "exposed_at", "identified_at"
            )
        ),
        sorted(
            ExperimentArmHour.objects.filter(message=message).values_list(
                "arm", "hour", "views", "clicks", "clicks_by_action", "dismissals"
            ),
            key=str,
        ),
    )


@pytest.fixture
def experiment(message, workspace):
    """Three arms' exposures, views, clicks, dismissals and a conversion over the last days,
    one exposure counted before an earlier one arrived; counted by the job."""
    make_experiment(message, variants=("B",), holdout_percent=10)
    now = timezone.now().replace(microsecond=0)
    early = now - timedelta(days=3)
    arm_event(message, "a1", arm="A", at=early)
    arm_event(message, "a1", arm="A", at=early + timedelta(hours=1), action="clicked_content", action_name="take")  # fmt: skip
    arm_event(message, "a2", arm="A", at=now - timedelta(hours=5))
    arm_event(message, "b1", arm="B", at=now - timedelta(hours=4))
    arm_event(message, "b1", arm="B", at=now - timedelta(hours=4), action="dismissed_content")
    arm_event(message, "h1", arm="holdout", at=now - timedelta(hours=3))
    arm_event(message, "late", arm="B", at=now - timedelta(hours=2))
    count_events()
    arm_event(message, "late", arm="holdout", at=now - timedelta(hours=6))  # from before
    identify(workspace, "a1", at=early + timedelta(hours=2))
    count_events()
    return message


def test_wiping_the_experiment_tables_and_rebuilding_gives_the_same_figures(experiment):
    before, rows = figures(experiment), tables(experiment)
    assert {arm.key: (arm.exposed, arm.views, arm.converted) for arm in before} == {
        "A": (2, 2, 1),
        "B": (1, 2, 0),
        "holdout": (2, 0, 0),
    }
    ExperimentExposure.objects.all().delete()
    ExperimentArmHour.objects.all().delete()
    assert figures(experiment) != before

    call_command("rebuild_rollups", "--from", f"{timezone.now() - timedelta(days=4):%Y-%m-%d}")

    assert figures(experiment) == before
    assert tables(experiment) == rows


def test_a_rebuild_keeps_what_came_before_its_range_and_changes_nothing_else(experiment):
    before, rows = figures(experiment), tables(experiment)
    now = timezone.now()
    # A damaged range (the last 2 days): hours and exposures lost, one exposure wrong.
    ExperimentArmHour.objects.filter(hour__gte=now - timedelta(days=1)).delete()
    ExperimentExposure.objects.filter(visitor__anonymous_id="b1").delete()
    ExperimentExposure.objects.filter(visitor__anonymous_id="late").update(arm="B")

    rebuild_rollups(start=now - timedelta(days=2), end=now)

    assert figures(experiment) == before
    assert tables(experiment) == rows  # a1's exposure, 3 days ago, stayed as it was


def test_an_exposure_before_the_range_stays_first(experiment):
    now = timezone.now()
    arm_event(experiment, "a1", arm="B", at=now - timedelta(hours=1))  # a1 was exposed to A
    count_events()
    rebuild_rollups(start=now - timedelta(days=2), end=now)
    assert ExperimentExposure.objects.get(visitor__anonymous_id="a1").arm == "A"
