from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics"

    def ready(self):
        from anonmsg.openapi import contribute
        from campaigns.models import Segment
        from campaigns.signals import message_list_numbers
        from delivery.signals import events_recorded, profile_traits_changed
        from metrics import openapi, receivers
        from metrics.schedules import ensure_schedules

        events_recorded.connect(receivers.on_events_recorded, dispatch_uid="metrics-events")
        profile_traits_changed.connect(receivers.on_traits_changed, dispatch_uid="metrics-traits")
        post_save.connect(
            receivers.on_segment_saved, sender=Segment, dispatch_uid="metrics-segment"
        )
        message_list_numbers.connect(receivers.on_message_list, dispatch_uid="metrics-list")
        contribute(openapi)
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="metrics-schedules")
