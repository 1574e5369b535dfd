"""Conversion attribution: apply the pure rule (metrics.attribution) to stored data.

`attribute_conversions` runs soon after identify / track / trait changes (a django-q2 task
enqueued on commit); `reconcile_conversions` runs periodically and catches up anything missed.
Both only ever add missing conversions (one per message and profile, enforced by a unique
constraint), so running them twice changes nothing.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from campaigns.models import AnonymousMessage, GoalCondition
from delivery.models import Event, Profile, Visitor
from metrics.attribution import Goal, Trigger, attribute
from metrics.experiment_rollup import record_identifications
from metrics.message_events import TRIGGER_OF_ACTION
from metrics.models import Conversion, SegmentMembership

CHUNK = 500
# The longest goal window the wizard allows (30 days), plus a day of slack for late data.
RECONCILE_LOOKBACK = timedelta(days=31)


def attribute_conversions(*, workspace_id: int, profile_ids: Iterable[int]) -> int:
    """Record the conversions these profiles have earned and not yet got; returns how many."""
    ids = sorted(set(profile_ids))
    # Exposure-based conversions of experiments read the identification from the exposures.
    record_identifications(workspace_id=workspace_id, profile_ids=ids)
    return sum(
        _attribute_chunk(workspace_id, ids[i : i + CHUNK]) for i in range(0, len(ids), CHUNK)
    )


def reconcile_conversions(*, since: datetime | None = None, now: datetime | None = None) -> int:
    """Re-attribute every profile with an anonymous id identified since `since` (default: the
    longest goal window ago). Returns how many conversions were missing and are now recorded.

    A conversion needs an identification after its trigger and within the window, so profiles
    identified before `since` cannot gain one unless their data arrived very late (then run
    the `reconcile_conversions` command with an older --since).
    """
    since = since or (now or timezone.now()) - RECONCILE_LOOKBACK
    by_workspace = defaultdict(set)
    rows = (
        Visitor.objects.filter(profile__isnull=False, identified_at__gte=since)
        .values_list("workspace_id", "profile_id")
        .distinct()
        .order_by()
    )
    for workspace_id, profile_id in rows.iterator(chunk_size=5000):
        by_workspace[workspace_id].add(profile_id)
    return sum(
        attribute_conversions(workspace_id=workspace_id, profile_ids=profile_ids)
        for workspace_id, profile_ids in sorted(by_workspace.items())
    )


def _attribute_chunk(workspace_id: int, profile_ids: list[int]) -> int:
    # A profile folded into another by an alias is not a person any more: its visitors moved
    # to the other profile, and a conversion it already has counts for that person.
    folded = dict(
        Profile.objects.filter(workspace_id=workspace_id, pk__in=profile_ids)
        .exclude(merged_into__isnull=True)
        .values_list("pk", "merged_into_id")
    )
    profile_ids = [pk for pk in profile_ids if pk not in folded]
    folded.update(
        Profile.objects.filter(
            workspace_id=workspace_id, merged_into_id__in=profile_ids
        ).values_list("pk", "merged_into_id")
    )
    visitors = list(
        Visitor.objects.filter(workspace_id=workspace_id, profile_id__in=profile_ids).values_list(
            "profile_id", "anonymous_id", "identified_at"
        )
    )
    if not visitors:
        return 0
    profile_of = {anonymous_id: profile_id for profile_id, anonymous_id, _ in visitors}
    identified_at = {anonymous_id: at for _, anonymous_id, at in visitors}

    triggers = defaultdict(list)  # (message_id, profile_id) -> [Trigger]
    rows = Event.objects.filter(
        workspace_id=workspace_id,
        anonymous_id__in=list(profile_of),
        content_id__isnull=False,
        action_type__in=list(TRIGGER_OF_ACTION),
    ).values_list("id", "content_id", "action_type", "anonymous_id", "timestamp")
    for event_id, message_id, action_type, anonymous_id, at in rows:
        triggers[message_id, profile_of[anonymous_id]].append(
            Trigger(
                kind=TRIGGER_OF_ACTION[action_type],
                at=at,
                anonymous_id=anonymous_id,
                event_id=event_id,
            )
        )
    if not triggers:
        return 0

    messages = {
        m["id"]: m
        for m in AnonymousMessage.objects.filter(
            workspace_id=workspace_id, pk__in={message_id for message_id, _ in triggers}
        ).values(
            "id", "goal_trigger", "goal_window_hours", "goal_condition", "goal_event",
            "goal_segment_id",
        )
    }  # fmt: skip
    already = {
        (message_id, folded.get(profile_id, profile_id))
        for message_id, profile_id in Conversion.objects.filter(
            message_id__in=list(messages), profile_id__in=[*profile_ids, *folded]
        ).values_list("message_id", "profile_id")
    }
    pending = [
        (message_id, profile_id)
        for (message_id, profile_id), found in sorted(triggers.items())
        if message_id in messages
        and (message_id, profile_id) not in already
        and any(t.kind == messages[message_id]["goal_trigger"] for t in found)
    ]
    if not pending:
        return 0

    times = condition_times(
        workspace_id=workspace_id,
        messages=[messages[message_id] for message_id in {m for m, _ in pending}],
        profile_ids=sorted({profile_id for _, profile_id in pending}),
        visitors=visitors,
    )
    conversions = []
    for message_id, profile_id in pending:
        message = messages[message_id]
        goal = Goal(
            trigger=message["goal_trigger"],
            window=timedelta(hours=message["goal_window_hours"]),
            condition=message["goal_condition"],
        )
        result = attribute(
            goal=goal,
            triggers=triggers[message_id, profile_id],
            identified_at=identified_at,
            condition_times=times.get((condition_key(message), profile_id), ()),
        )
        if result is None:
            continue
        conversions.append(
            Conversion(
                workspace_id=workspace_id,
                message_id=message_id,
                profile_id=profile_id,
                trigger=goal.trigger,
                triggered_at=result.trigger.at,
                trigger_event_id=result.trigger.event_id,
                anonymous_id=result.trigger.anonymous_id,
                identified_at=result.identified_at,
                condition_met_at=result.condition_met_at,
                converted_at=result.converted_at,
            )
        )
    # ignore_conflicts: a concurrent run may have recorded the same (message, profile) first.
    Conversion.objects.bulk_create(conversions, ignore_conflicts=True)
    return len(conversions)


def condition_key(message: dict):
    condition = message["goal_condition"]
    if condition == GoalCondition.EVENT:
        return (condition, message["goal_event"])
    if condition in (GoalCondition.SEGMENT_ENTERED, GoalCondition.SEGMENT_LEFT):
        return (condition, message["goal_segment_id"])
    return None


def condition_times(
    *, workspace_id: int, messages: list[dict], profile_ids: list[int], visitors: list[tuple]
) -> dict:
    """{((condition, event name | segment id), profile_id): [times the condition was met]}."""
    times = defaultdict(list)
    keys = {condition_key(m) for m in messages} - {None}
    event_names = {name for condition, name in keys if condition == GoalCondition.EVENT and name}
    segment_ids = {sid for condition, sid in keys if condition != GoalCondition.EVENT and sid}

    if event_names:
        # The profile performed the event: tracked with its user id or any merged anonymous id.
        # Events keep the userId they were sent with, also the one of a folded profile.
        profile_of_user = {
            user_id: merged_into or pk
            for user_id, pk, merged_into in Profile.objects.filter(
                Q(pk__in=profile_ids) | Q(merged_into_id__in=profile_ids)
            ).values_list("user_id", "pk", "merged_into_id")
        }
        profile_of_anonymous = {anon: pid for pid, anon, _ in visitors if pid in set(profile_ids)}
        rows = (
            Event.objects.filter(workspace_id=workspace_id, type="track", name__in=event_names)
            .filter(
                Q(user_id__in=list(profile_of_user))
                | Q(anonymous_id__in=list(profile_of_anonymous))
            )
            .values_list("name", "user_id", "anonymous_id", "timestamp")
        )
        for name, user_id, anonymous_id, at in rows:
            profile_id = profile_of_user.get(user_id) or profile_of_anonymous.get(anonymous_id)
            if profile_id is not None:
                times[(GoalCondition.EVENT, name), profile_id].append(at)

    if segment_ids:
        rows = SegmentMembership.objects.filter(
            segment_id__in=segment_ids, profile_id__in=profile_ids
        ).values_list("segment_id", "profile_id", "entered_at", "left_at")
        for segment_id, profile_id, entered_at, left_at in rows:
            times[(GoalCondition.SEGMENT_ENTERED, segment_id), profile_id].append(entered_at)
            if left_at is not None:
                times[(GoalCondition.SEGMENT_LEFT, segment_id), profile_id].append(left_at)
    return times
