from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery and identity"

    def ready(self):
        from anonmsg.openapi import contribute
        from delivery import (  # noqa: F401  (registers them)
            checks,
            experiment_exposures,
            invalidation,
            openapi,
        )
        from delivery.troubleshooting import warnings  # noqa: F401  (signal receivers)

        contribute(openapi)
        post_migrate.connect(_ensure_event_partitions, sender=self)


def _ensure_event_partitions(**kwargs):
    """A fresh install (and one whose task did not run for a while) gets today's and the next
    days' event partitions from `migrate` itself (delivery/partitions.py)."""
    from delivery.partitions import ensure_event_partitions

    ensure_event_partitions()
