"""Public/API URLs of delivery, mounted at the site root (full paths here)."""

from django.conf import settings
from django.urls import path, re_path

from delivery import tracking_views

urlpatterns = [
    # Tracking API (docs/tracking-api.md): /v1/track … /v1/batch and the one-letter forms.
    re_path(
        r"^v1/(?P<route>track|page|screen|identify|alias|group|batch|t|p|s|i|a|g|b)$",
        tracking_views.tracking_endpoint,
        name="tracking",
    ),
]

if settings.ANONMSG_BENCH:
    urlpatterns.append(path("bench/noop", tracking_views.bench_noop, name="bench-noop"))
