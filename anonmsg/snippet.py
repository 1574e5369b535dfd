"""The browser snippet marketers paste into their site (same shape as Customer.io's)."""

from django.conf import settings
from django.template.loader import render_to_string


def public_base_url(request) -> str:
    """The URL SDKs reach this server at: PUBLIC_URL, or else the current request's origin."""
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL
    return request.build_absolute_uri("/").rstrip("/")


def sdk_script_url(base_url: str, write_key: str) -> str:
    return f"{base_url}/v1/analytics-js/snippet/{write_key}/analytics.min.js"


def render_snippet(
    *, base_url: str, write_key: str, anonymous_in_app: bool = True, nonce: str = ""
) -> str:
    """The snippet; `nonce` for a page of ours whose Content-Security-Policy has one (the demo
    site). The SDK passes it on to its message frames' bridge script (docs/sdk.md)."""
    return render_to_string(
        "anonmsg/_snippet.js",
        {
            "base_url": base_url,
            "write_key": write_key,
            "anonymous_in_app": "true" if anonymous_in_app else "false",
            "nonce": nonce,
        },
    ).strip()
