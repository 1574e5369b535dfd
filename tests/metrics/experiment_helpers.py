"""Events of an experiment's arms, stored as the tracking API stores them (DESIGN.md §5)."""

from datetime import timedelta

from django.utils import timezone

from campaigns.models import MessageVariant
from delivery.models import Event, Visitor
from metrics.conversions import attribute_conversions
from metrics.message_events import HELD_OUT, VIEWED
from metrics.rollups import roll_up
from tests.factories import MessageEventFactory, ProfileFactory


def arm_event(message, anonymous_id, *, arm, at, action=VIEWED, action_name=""):
    """A `Report Content Event` of `arm` ("A"–"D": tagged with `variant`; "holdout": the SDK's
    `held_out` report)."""
    properties = {"actionType": action, "contentId": message.pk, "contentType": "in_app_content"}
    if arm == "holdout":
        action = properties["actionType"] = HELD_OUT
    else:
        properties["variant"] = arm
    if action_name:
        properties["actionName"] = action_name
    return MessageEventFactory(
        message=message,
        anonymous_id=anonymous_id,
        action_type=action,
        action_name=action_name,
        timestamp=at,
        received_at=at,
        payload={
            "type": "track",
            "event": "Report Content Event",
            "anonymousId": anonymous_id,
            "properties": properties,
        },
    )


def identify(workspace, anonymous_id, *, at, profile=None):
    """Merge the visitor into a (new) profile at `at`, as identify does."""
    profile = profile or ProfileFactory(workspace=workspace, first_seen_at=at, last_seen_at=at)
    Visitor.objects.filter(workspace=workspace, anonymous_id=anonymous_id).update(
        profile=profile, identified_at=at
    )
    # What the task enqueued after identify runs (metrics.tasks.attribute_profiles).
    attribute_conversions(workspace_id=workspace.pk, profile_ids=[profile.pk])
    return profile


def make_experiment(message, *, variants=("B",), holdout_percent=0):
    weight = 100 // (len(variants) + 1)
    for key in variants:
        MessageVariant.objects.create(
            message=message, key=key, weight=weight, content_html=f"<h1>Variant {key}</h1>"
        )
    message.variant_a_weight = 100 - weight * len(variants)
    message.holdout_percent = holdout_percent
    message.experiment_seed = "seed"
    message.save()
    return message


def bulk_arm(message, arm, *, exposed, converted, at, prefix=None):
    """`exposed` visitors of `arm` (one exposure each), the first `converted` of them
    identified an hour later: many events in two bulk inserts."""
    prefix = prefix or f"{arm}-"
    workspace = message.workspace
    ids = [f"{prefix}{n}" for n in range(exposed)]
    Visitor.objects.bulk_create(
        Visitor(workspace=workspace, anonymous_id=anonymous_id, first_seen_at=at, last_seen_at=at)
        for anonymous_id in ids
    )
    action = HELD_OUT if arm == "holdout" else VIEWED
    properties = {"actionType": action, "contentId": message.pk}
    if arm != "holdout":
        properties["variant"] = arm
    Event.objects.bulk_create(
        Event(
            workspace=workspace,
            message_id=f"m-{anonymous_id}",
            type="track",
            name="Report Content Event",
            anonymous_id=anonymous_id,
            timestamp=at,
            received_at=at,
            content_id=message.pk,
            action_type=action,
            payload={"type": "track", "anonymousId": anonymous_id, "properties": properties},
        )
        for anonymous_id in ids
    )
    for anonymous_id in ids[:converted]:
        identify(workspace, anonymous_id, at=at + timedelta(hours=1))


def count_events():
    """Run the rollup job, which adds message events to the experiment tables."""
    return roll_up(now=timezone.now() + timedelta(minutes=1))
