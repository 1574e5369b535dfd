"""django-q2 tasks of delivery: thin wrappers around idempotent functions."""

from delivery.retention import purge_anonymous_data as purge


def purge_anonymous_data() -> dict:
    """Run daily by the "Purge anonymous data" schedule (delivery/migrations/0003)."""
    purged = purge()
    return {"visitors": purged.visitors, "events": purged.events}
