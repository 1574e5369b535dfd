from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery and identity"

    def ready(self):
        from anonmsg.openapi import contribute
        from delivery import checks, invalidation, openapi  # noqa: F401  (registers them)
        from delivery.troubleshooting import warnings  # noqa: F401  (signal receivers)

        contribute(openapi)
