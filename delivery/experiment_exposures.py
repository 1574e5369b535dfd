"""Delivery's answer to campaigns' `experiment_exposures` signal: the arms of a message that
already have exposed visitors (delivery.models.VisitorMessageState.arm, set by tracking)."""

from django.db.models import Count
from django.dispatch import receiver

from campaigns.signals import experiment_exposures
from delivery.models import VisitorMessageState


def exposed_arms(message_id: int) -> set[str]:
    return set(
        VisitorMessageState.objects.filter(message_id=message_id)
        .exclude(arm="")
        .values_list("arm", flat=True)
        .distinct()
    )


def exposed_visitors_by_arm(message_id: int) -> dict[str, int]:
    """{arm: exposed visitors}: one exposure per visitor and message, whatever was reported."""
    rows = (
        VisitorMessageState.objects.filter(message_id=message_id)
        .exclude(arm="")
        .values_list("arm")
        .annotate(visitors=Count("id"))
    )
    return dict(rows)


@receiver(experiment_exposures)
def _exposed_arms(sender, message, **kwargs) -> set[str]:
    return exposed_arms(message.pk)
