"""The client's IP address: one rule for the whole project (login protection, rate limits).

The connection's address (`REMOTE_ADDR`), unless `LOGIN_PROXY_COUNT` says how many reverse
proxies append to `X-Forwarded-For`: then the address the outermost proxy saw, the N-th entry
counted from the right, so a value a client sends itself is never used. A header too short, or
whose entry is not an IP address, falls back to the connection's address (the proxy's).
"""

import ipaddress

from django.conf import settings


def pick_client_ip(remote_addr: str, forwarded_for: str, proxy_count: int) -> str:
    if proxy_count <= 0 or not forwarded_for:
        return remote_addr
    entries = [entry.strip() for entry in forwarded_for.split(",")]
    if len(entries) < proxy_count:
        return remote_addr
    candidate = entries[-proxy_count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr


def client_ip(request) -> str:
    """The client's IP address (also django-axes' AXES_CLIENT_IP_CALLABLE)."""
    meta = request.META
    return pick_client_ip(
        meta.get("REMOTE_ADDR") or "",
        meta.get("HTTP_X_FORWARDED_FOR", ""),
        settings.LOGIN_PROXY_COUNT,
    )
