"""The App API's `arms` and `lift` (DESIGN.md §5), with events sent to the tracking API."""

from datetime import timedelta

import pytest
from django.utils import timezone
from jsonschema import Draft202012Validator

from anonmsg.openapi_document import document as build_document
from tests.delivery.tracking_helpers import send
from tests.factories import AnonymousMessageFactory, WorkspaceFactory
from tests.metrics.experiment_helpers import (
    arm_event,
    bulk_arm,
    count_events,
    identify,
    make_experiment,
)
from tests.metrics.test_api import get


@pytest.fixture
def api_key(workspace):
    return workspace.rotate_api_key()


def view(client, workspace, message, anonymous_id, variant, *, at=None):
    """A view of `variant`, as the SDK reports it through the tracking API."""
    properties = {"actionType": "viewed_content", "contentId": message.pk,
                  "contentType": "in_app_content", "variant": variant}  # fmt: skip
    body = {"anonymousId": anonymous_id, "event": "Report Content Event",
            "properties": properties}  # fmt: skip
    if at is not None:
        body["timestamp"] = at.isoformat()
    response = send(client, "track", body, write_key=workspace.write_key)
    assert response.status_code == 200, response.content


def metrics_schema():
    document = build_document()
    return Draft202012Validator(
        {"$ref": "#/components/schemas/MessageMetrics", "components": document["components"]}
    )


def test_an_experiment_answers_arms_and_lift_over_the_holdout(client, workspace, message, api_key):
    make_experiment(message, variants=("B",), holdout_percent=10)
    now = timezone.now()
    view(client, workspace, message, "a1", "A")
    view(client, workspace, message, "a1", "A")
    view(client, workspace, message, "b1", "B")
    view(client, workspace, message, "b2", "B")
    arm_event(message, "h1", arm="holdout", at=now)
    arm_event(message, "h1", arm="holdout", at=now)  # reported twice: one exposure
    identify(workspace, "b1", at=timezone.now() + timedelta(seconds=1))

    count_events()
    response = get(client, message.pk, api_key)
    assert response.status_code == 200
    body = response.json()
    assert list(metrics_schema().iter_errors(body)) == []
    assert body["arms"] == [
        {"key": "A", "exposed": 1, "views": 2, "clicks": 0, "converted": 0, "conversionRate": 0.0},
        {"key": "B", "exposed": 2, "views": 2, "clicks": 0, "converted": 1, "conversionRate": 0.5},
        {"key": "holdout", "exposed": 1, "views": 0, "clicks": 0, "converted": 0,
         "conversionRate": 0.0},
    ]  # fmt: skip
    assert [(entry["key"], entry["versus"], entry["decision"]) for entry in body["lift"]] == [
        ("A", "holdout", "inconclusive"),
        ("B", "holdout", "inconclusive"),
    ]
    for entry in body["lift"]:
        assert entry["low"] <= entry["estimate"] <= entry["high"]


def test_without_a_holdout_b_is_compared_with_a_and_a_clear_winner_is_declared(
    client, message, api_key
):
    make_experiment(message, variants=("B",))
    when = timezone.now() - timedelta(days=2)
    bulk_arm(message, "A", exposed=1000, converted=50, at=when)
    bulk_arm(message, "B", exposed=1000, converted=120, at=when)
    count_events()
    body = get(client, message.pk, api_key).json()
    assert list(metrics_schema().iter_errors(body)) == []
    (entry,) = body["lift"]
    assert (entry["key"], entry["versus"], entry["decision"]) == ("B", "A", "winner")
    assert entry["estimate"] == pytest.approx(1.4)  # 12 % ÷ 5 % − 1
    assert 0 < entry["low"] < 1.4 < entry["high"]


def test_arms_cover_the_whole_experiment_whatever_the_range(client, message, api_key):
    make_experiment(message)
    bulk_arm(message, "B", exposed=3, converted=0, at=timezone.now() - timedelta(days=60))
    count_events()
    recent = get(client, message.pk, api_key, **{"from": str(timezone.now().date())}).json()
    assert recent["views"] == 0  # the range's rollups
    assert {arm["key"]: arm["exposed"] for arm in recent["arms"]} == {"A": 0, "B": 3}


def test_a_message_without_an_experiment_has_no_arms(client, message, api_key):
    arm_event(message, "v", arm="B", at=timezone.now())
    count_events()
    body = get(client, message.pk, api_key).json()
    assert "arms" not in body and "lift" not in body


def test_another_workspaces_experiment_is_a_404(client, api_key):
    other = AnonymousMessageFactory(workspace=WorkspaceFactory(), launched=True)
    make_experiment(other, holdout_percent=10)
    assert get(client, other.pk, api_key).status_code == 404


def test_the_openapi_example_and_schema_stay_valid():
    from openapi_spec_validator import validate

    validate(build_document())


def test_identify_through_the_tracking_api_converts_an_exposure_already_counted(
    client, workspace, message, api_key, sync_tasks, django_capture_on_commit_callbacks
):
    make_experiment(message, variants=("B",))
    view(client, workspace, message, "b1", "B")
    view(client, workspace, message, "b2", "B")
    count_events()  # the exposures are recorded before anyone identifies
    with django_capture_on_commit_callbacks(execute=True):  # the tasks it enqueues on commit
        response = send(
            client, "identify", {"anonymousId": "b1", "userId": "ann"},
            write_key=workspace.write_key,
        )  # fmt: skip
    assert response.status_code == 200
    body = get(client, message.pk, api_key).json()
    b = next(arm for arm in body["arms"] if arm["key"] == "B")
    assert (b["exposed"], b["converted"], b["conversionRate"]) == (2, 1, 0.5)
