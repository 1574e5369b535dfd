from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery and identity"

    def ready(self):
        from delivery import checks, invalidation  # noqa: F401  (registers them)
