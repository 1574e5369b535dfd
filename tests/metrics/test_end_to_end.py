"""Through the real tracking API: click, identify, traits, alias → conversions and metrics."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import GoalCondition
from metrics.conversions import reconcile_conversions
from metrics.models import Conversion, SegmentMembership
from metrics.rollups import roll_up
from tests.delivery.tracking_helpers import send
from tests.factories import AnonymousMessageFactory, SegmentFactory


@pytest.fixture
def track(client, workspace, django_capture_on_commit_callbacks):
    """Send tracking calls as an SDK would; the signals and django-q2 tasks run on commit."""

    def track(route, body):
        with django_capture_on_commit_callbacks(execute=True):
            response = send(client, route, body, write_key=workspace.write_key)
        assert response.status_code == 200, response.content

    return track


def click(message, anonymous_id, *, action="signup", minutes_ago=60):
    return {
        "anonymousId": anonymous_id,
        "event": "Report Content Event",
        "timestamp": (timezone.now() - timedelta(minutes=minutes_ago)).isoformat(),
        "properties": {
            "actionType": "clicked_content",
            "contentId": message.pk,
            "contentType": "in_app_content",
            "actionName": action,
        },
    }


def test_click_then_identify_converts_once_across_two_devices(client, workspace, track, sync_tasks):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    track("track", click(message, "phone", minutes_ago=90))
    track("identify", {"userId": "ann", "anonymousId": "phone", "traits": {"plan": "free"}})
    [conversion] = Conversion.objects.all()
    assert (conversion.message, conversion.profile.user_id) == (message, "ann")
    assert conversion.anonymous_id == "phone"

    # The same person clicks again on a second device and identifies there too.
    track("track", click(message, "laptop", minutes_ago=10))
    track("identify", {"userId": "ann", "anonymousId": "laptop"})
    assert Conversion.objects.count() == 1

    roll_up(now=timezone.now() + timedelta(minutes=1))
    api_key = workspace.rotate_api_key()
    body = client.get(
        reverse("metrics-api", args=[message.pk]), HTTP_AUTHORIZATION=f"Bearer {api_key}"
    ).json()
    assert body["clicks"] == {"total": 2, "byAction": {"signup": 2}}
    assert body["conversions"] == 1


def test_identify_before_the_click_does_not_convert(workspace, track, sync_tasks):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    track("identify", {"userId": "bob", "anonymousId": "anon-b"})
    track("track", click(message, "anon-b", minutes_ago=0) | {"userId": "bob"})
    track("identify", {"userId": "bob", "anonymousId": "anon-b"})
    assert not Conversion.objects.exists()


def test_a_trait_change_enters_the_goal_segment_and_converts(workspace, track, sync_tasks):
    segment = SegmentFactory(
        workspace=workspace, conditions=[{"trait": "plan", "operator": "equals", "value": "pro"}]
    )
    message = AnonymousMessageFactory(
        workspace=workspace,
        launched=True,
        goal_condition=GoalCondition.SEGMENT_ENTERED,
        goal_segment=segment,
    )
    track("track", click(message, "anon-c"))
    track("identify", {"userId": "cy", "anonymousId": "anon-c", "traits": {"plan": "free"}})
    assert not Conversion.objects.exists()
    assert not SegmentMembership.objects.exists()

    track("identify", {"userId": "cy", "traits": {"plan": "pro"}})
    [stay] = SegmentMembership.objects.all()
    assert (stay.segment, stay.profile.user_id, stay.left_at) == (segment, "cy", None)
    [conversion] = Conversion.objects.all()
    assert conversion.condition_met_at == stay.entered_at

    track("identify", {"userId": "cy", "traits": {"plan": "free"}})
    stay.refresh_from_db()
    assert stay.left_at is not None
    assert Conversion.objects.count() == 1


def test_a_goal_event_after_identify_converts(workspace, track, sync_tasks):
    message = AnonymousMessageFactory(
        workspace=workspace, launched=True, goal_condition=GoalCondition.EVENT,
        goal_event="Started Trial",
    )  # fmt: skip
    track("track", click(message, "anon-d"))
    track("identify", {"userId": "dee", "anonymousId": "anon-d"})
    assert not Conversion.objects.exists()
    track("track", {"userId": "dee", "event": "Started Trial"})
    assert Conversion.objects.get().condition_met_at is not None


def test_a_conversion_made_before_an_alias_fold_still_counts_once_for_the_person(
    workspace, track, sync_tasks
):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    track("track", click(message, "anon-e1", minutes_ago=50))
    track("identify", {"userId": "old-id", "anonymousId": "anon-e1"})
    track("identify", {"userId": "new-id", "anonymousId": "anon-e2"})
    [conversion] = Conversion.objects.all()
    assert conversion.profile.user_id == "old-id"

    # old-id's visitors (with the converting click) move to new-id:
    track("alias", {"userId": "new-id", "previousId": "old-id"})
    assert reconcile_conversions() == 0
    assert list(Conversion.objects.all()) == [conversion]
