from datetime import timedelta

from django.utils import timezone
from django_q.models import OrmQ

from campaigns.models import GoalCondition
from delivery.models import Visitor
from delivery.signals import events_recorded, profile_traits_changed
from metrics.memberships import refresh_profile_memberships
from metrics.models import Conversion, SegmentMembership
from tests.factories import (
    AnonymousMessageFactory,
    MessageEventFactory,
    ProfileFactory,
    SegmentFactory,
)
from tests.metrics.conftest import at

PRO = [{"trait": "plan", "operator": "equals", "value": "pro"}]


def change_traits(profile, traits, *, old=None):
    """What the tracking API does on identify: save the traits, send the signal on commit."""
    old = profile.traits if old is None else old
    profile.traits = traits
    profile.save()
    profile_traits_changed.send(
        sender=None,
        workspace_id=profile.workspace_id,
        profile_id=profile.pk,
        old_traits=old,
        new_traits=traits,
    )


def stays(profile):
    return list(
        SegmentMembership.objects.filter(profile=profile)
        .order_by("entered_at")
        .values_list("segment_id", "entered_at", "left_at")
    )


def test_entering_and_leaving_are_recorded_with_their_times(workspace):
    segment = SegmentFactory(workspace=workspace, conditions=PRO)
    profile = ProfileFactory(workspace=workspace, traits={"plan": "pro"})
    refresh_profile_memberships(profile_id=profile.pk, at=at(1))
    profile.traits = {"plan": "free"}
    profile.save()
    refresh_profile_memberships(profile_id=profile.pk, at=at(2))
    profile.traits = {"plan": "pro"}
    profile.save()
    refresh_profile_memberships(profile_id=profile.pk, at=at(3))

    assert stays(profile) == [(segment.pk, at(1), at(2)), (segment.pk, at(3), None)]
    assert SegmentMembership.objects.current().filter(profile=profile).count() == 1


def test_evaluating_the_same_traits_again_changes_nothing(workspace):
    SegmentFactory(workspace=workspace, conditions=PRO)
    profile = ProfileFactory(workspace=workspace, traits={"plan": "pro"})
    assert refresh_profile_memberships(profile_id=profile.pk, at=at(1)) == 1
    assert refresh_profile_memberships(profile_id=profile.pk, at=at(2)) == 0
    assert [entered for _, entered, _ in stays(profile)] == [at(1)]


def test_segments_of_other_workspaces_are_not_evaluated(workspace):
    SegmentFactory(conditions=PRO)  # another workspace
    profile = ProfileFactory(workspace=workspace, traits={"plan": "pro"})
    assert refresh_profile_memberships(profile_id=profile.pk, at=at(1)) == 0


def test_a_trait_change_signal_enqueues_a_task_on_commit(
    workspace, django_capture_on_commit_callbacks
):
    SegmentFactory(workspace=workspace, conditions=PRO)
    profile = ProfileFactory(workspace=workspace)
    queued = OrmQ.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        change_traits(profile, {"plan": "pro"})
        assert OrmQ.objects.count() == queued  # nothing before the commit
    assert OrmQ.objects.count() == queued + 1
    assert stays(profile) == []  # a worker has not run it yet


def test_a_trait_change_records_the_entry_at_the_time_of_the_change(
    workspace, sync_tasks, django_capture_on_commit_callbacks
):
    segment = SegmentFactory(workspace=workspace, conditions=PRO)
    profile = ProfileFactory(workspace=workspace)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        change_traits(profile, {"plan": "pro"})
    [(segment_id, entered_at, left_at)] = stays(profile)
    assert segment_id == segment.pk
    assert before <= entered_at <= timezone.now()
    assert left_at is None


def test_entering_the_goal_segment_completes_a_waiting_conversion(
    workspace, sync_tasks, django_capture_on_commit_callbacks
):
    segment = SegmentFactory(workspace=workspace, conditions=PRO)
    message = AnonymousMessageFactory(
        workspace=workspace, goal_condition=GoalCondition.SEGMENT_ENTERED, goal_segment=segment
    )
    now = timezone.now()
    MessageEventFactory(
        message=message, anonymous_id="anon-1", timestamp=now - timedelta(hours=2), click=True
    )
    profile = ProfileFactory(workspace=workspace, traits={"plan": "free"})
    Visitor.objects.filter(workspace=workspace, anonymous_id="anon-1").update(
        profile=profile, identified_at=now - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        events_recorded.send(
            sender=None, workspace_id=workspace.pk, event_ids=[], profile_ids={profile.pk},
            message_ids=set(),
        )  # fmt: skip
    assert not Conversion.objects.exists()  # identified, but not in the segment yet

    with django_capture_on_commit_callbacks(execute=True):
        change_traits(profile, {"plan": "pro"})
    [conversion] = Conversion.objects.all()
    assert conversion.profile == profile
    assert conversion.condition_met_at == stays(profile)[0][1]


def test_editing_a_segment_reevaluates_every_profile_of_its_workspace(
    workspace, sync_tasks, django_capture_on_commit_callbacks
):
    pro = ProfileFactory(workspace=workspace, traits={"plan": "pro"})
    free = ProfileFactory(workspace=workspace, traits={"plan": "free"})
    with django_capture_on_commit_callbacks(execute=True):
        segment = SegmentFactory(workspace=workspace, conditions=PRO)
    assert [s for s, _, left in stays(pro) if left is None] == [segment.pk]
    assert stays(free) == []

    with django_capture_on_commit_callbacks(execute=True):
        segment.conditions = [{"trait": "plan", "operator": "equals", "value": "free"}]
        segment.save()
    assert [left is not None for _, _, left in stays(pro)] == [True]
    assert [left is None for _, _, left in stays(free)] == [True]
