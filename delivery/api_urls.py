"""Public/API URLs of delivery, mounted at the site root (full paths here)."""

from django.conf import settings
from django.urls import path, re_path

from delivery import demo_site
from delivery.sdk_api import views as sdk_api_views
from delivery.tracking import views as tracking_views

urlpatterns = [
    # Tracking API (docs/tracking-api.md): /v1/track … /v1/batch and the one-letter forms.
    re_path(
        r"^v1/(?P<route>track|page|screen|identify|alias|group|batch|t|p|s|i|a|g|b)$",
        tracking_views.tracking_endpoint,
        name="tracking",
    ),
    # The browser SDK's sampled metrics: answered like Customer.io's CDP API, not stored.
    path("v1/m", tracking_views.sdk_metrics, name="tracking-sdk-metrics"),
    # Delivery (docs/delivery-api.md) and the browser SDK (docs/sdk.md).
    path("api/v1/delivery", sdk_api_views.delivery, name="delivery-api"),
    path(
        "v1/analytics-js/snippet/<str:write_key>/analytics.min.js",
        sdk_api_views.sdk_script,
        name="sdk-script",
    ),
    # The demo website, carrying the demo workspace's snippet (delivery/demo_site.py).
    path("demo/", demo_site.home, name="demo-home"),
    path("demo/pricing/", demo_site.pricing, name="demo-pricing"),
    path("demo/blog/<slug:slug>/", demo_site.blog_post, name="demo-blog-post"),
    path("demo/signup/", demo_site.signup, name="demo-signup"),
]

if settings.ANONMSG_BENCH:
    urlpatterns.append(path("bench/noop", tracking_views.bench_noop, name="bench-noop"))
