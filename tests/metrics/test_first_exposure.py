"""One rule for a visitor's first exposure (delivery.first_exposure): delivery's
VisitorMessageState.arm (tracking) and metrics' ExperimentExposure (the rollup) keep the same
one, the earliest by timestamp (same instant: the lower arm key), whatever order the batches
arrive in."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from delivery.first_exposure import earlier
from delivery.models import VisitorMessageState
from metrics.models import ExperimentExposure
from tests.delivery.tracking_helpers import send
from tests.metrics.experiment_helpers import count_events, make_experiment

pytestmark = pytest.mark.django_db(transaction=True)

VISITOR = "anon-out-of-order"
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "new", "first"),
    [
        (None, (NOON, "B"), (NOON, "B")),
        (
            (NOON, "B"),
            (NOON - timedelta(seconds=1), "holdout"),
            (NOON - timedelta(seconds=1), "holdout"),
        ),  # fmt: skip
        ((NOON, "B"), (NOON + timedelta(seconds=1), "A"), (NOON, "B")),
        ((NOON, "B"), (NOON, "A"), (NOON, "A")),  # same instant: the lower arm key
        ((NOON, "A"), (NOON, "holdout"), (NOON, "A")),
    ],
)
def test_the_first_exposure_is_the_earliest_then_the_lower_arm(current, new, first):
    assert earlier(current, new) == first


def exposure(message, arm, at, anonymous_id=VISITOR) -> dict:
    properties = {"contentId": message.pk, "contentType": "in_app_content"}
    if arm == "holdout":
        properties["actionType"] = "held_out"
    else:
        properties.update(actionType="viewed_content", variant=arm)
    return {
        "type": "track",
        "event": "Report Content Event",
        "anonymousId": anonymous_id,
        "timestamp": at.isoformat(),
        "properties": properties,
    }


def send_batch(client, workspace, calls, *, with_person):
    if with_person:  # a call naming a person: recorded by recording.py, not one_statement.py
        calls = [*calls, {"type": "identify", "userId": "someone", "anonymousId": "another"}]
    response = send(client, "batch", {"batch": calls}, write_key=workspace.write_key)
    assert response.status_code == 200, response.content


def arms(message) -> tuple[tuple, tuple]:
    """(delivery's arm and time, metrics' arm and time) of VISITOR's exposure."""
    state = VisitorMessageState.objects.get(message=message, visitor__anonymous_id=VISITOR)
    metrics = ExperimentExposure.objects.get(message=message, visitor_id=state.visitor_id)
    return (state.arm, state.exposed_at), (metrics.arm, metrics.exposed_at)


@pytest.mark.parametrize("with_person", [False, True], ids=["anonymous", "with a person"])
@pytest.mark.parametrize("roll_up_between", [False, True], ids=["one rollup", "two rollups"])
def test_batches_out_of_order_leave_delivery_and_metrics_with_the_same_arm(
    client, message, with_person, roll_up_between
):
    make_experiment(message, variants=("B",), holdout_percent=10)
    now = timezone.now().replace(microsecond=0)
    # Received first: a view of B an hour ago. Received next: a held-out report from two hours
    # ago (a phone that was offline), then a later view of A (the split changed meanwhile).
    send_batch(client, message.workspace, [exposure(message, "B", now - timedelta(hours=1))], with_person=with_person)  # fmt: skip
    if roll_up_between:
        count_events()
    send_batch(
        client,
        message.workspace,
        [
            exposure(message, "A", now - timedelta(minutes=5)),
            exposure(message, "holdout", now - timedelta(hours=2)),
        ],
        with_person=with_person,
    )
    count_events()
    delivery_arm, metrics_arm = arms(message)
    assert delivery_arm == metrics_arm == ("holdout", now - timedelta(hours=2))
    state = VisitorMessageState.objects.get(message=message, visitor__anonymous_id=VISITOR)
    assert state.views == 3  # frequency still counts every exposure


@pytest.mark.parametrize("with_person", [False, True], ids=["anonymous", "with a person"])
def test_exposures_at_the_same_instant_keep_the_lower_arm_in_both_whatever_the_order(
    client, message, with_person
):
    make_experiment(message, variants=("B",), holdout_percent=10)
    moment = timezone.now().replace(microsecond=0) - timedelta(minutes=30)
    send_batch(client, message.workspace, [exposure(message, "holdout", moment)], with_person=with_person)  # fmt: skip
    count_events()
    send_batch(
        client,
        message.workspace,
        [exposure(message, "B", moment), exposure(message, "A", moment)],
        with_person=with_person,
    )
    count_events()
    delivery_arm, metrics_arm = arms(message)
    assert delivery_arm == metrics_arm == ("A", moment)
