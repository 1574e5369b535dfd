"""System checks for delivery's configuration."""

from django.conf import settings
from django.core import checks

from delivery.sdk_api import CACHE_ALIAS

PER_PROCESS_BACKENDS = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@checks.register(checks.Tags.caches)
def state_cache_is_shared(app_configs=None, **kwargs):
    backend = settings.CACHES.get(CACHE_ALIAS, {}).get("BACKEND", "")
    if settings.DELIVERY_STATE_CACHE and backend in PER_PROCESS_BACKENDS:
        return [
            checks.Warning(
                "DELIVERY_STATE_CACHE is on but the cache is not shared between processes "
                f"({backend.rsplit('.', 1)[-1]}): with more than one web process, a visitor "
                "could see a message again after dismissing it.",
                hint="Set REDIS_URL (it turns the state cache on), or unset DELIVERY_STATE_CACHE.",
                id="anonmsg.W001",
            )
        ]
    return []
