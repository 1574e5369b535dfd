"""Events of an experiment's arms, stored as the tracking API stores them (DESIGN.md §5)."""

from campaigns.models import MessageVariant
from delivery.models import Visitor
from metrics.message_events import HELD_OUT, VIEWED
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
