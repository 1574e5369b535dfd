"""django-q2 tasks of delivery: thin wrappers around idempotent functions."""

from django.utils import timezone

from delivery.partitions import ensure_event_partitions
from delivery.retention import purge_anonymous_data as purge
from delivery.sdk_api import known_visitors
from delivery.tracking.message_ids import prune_message_ids


def purge_anonymous_data() -> dict:
    """Run daily by the "Purge anonymous data" schedule (delivery/migrations/0003)."""
    purged = purge()
    return {"visitors": purged.visitors, "events": purged.events}


def maintain_event_partitions() -> dict:
    """Run hourly by the "Maintain event partitions" schedule (delivery/migrations/0006):
    the next days' event partitions, and the idle messageId generation emptied."""
    now = timezone.now()
    return {
        "created": ensure_event_partitions(now=now),
        "emptied_generation": prune_message_ids(now=now),
    }


def maintain_visitor_filters() -> dict:
    """Run hourly by the "Maintain visitor filters" schedule (delivery/migrations/0012): each
    workspace's filter of visitors with state, built where missing, a day old or full."""
    return known_visitors.maintain(now=timezone.now())
