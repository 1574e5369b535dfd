"""The client IP rule shared by login protection and rate limits (anonmsg/client_ip.py)."""

import pytest
from django.test import RequestFactory

from anonmsg.client_ip import client_ip, pick_client_ip


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "192.0.2.50", "10.0.0.3"),  # no proxies: the header is the client's own words
        (1, "", "10.0.0.3"),
        (1, "192.0.2.50", "192.0.2.50"),
        (1, "6.6.6.6, 192.0.2.50", "192.0.2.50"),  # what the client prepended is ignored
        (2, "6.6.6.6, 192.0.2.50, 10.0.0.2", "192.0.2.50"),
        (2, "192.0.2.50", "10.0.0.3"),  # shorter than the proxies: the connection's address
        (1, "6.6.6.6, not-an-ip", "10.0.0.3"),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, " 2001:DB8:0::1 ", "2001:db8::1"),
    ],
)
def test_the_client_ip_is_the_outermost_proxys_view(proxies, forwarded_for, expected):
    assert pick_client_ip("10.0.0.3", forwarded_for, proxies) == expected


def test_login_protection_and_rate_limits_read_the_same_client_ip(settings):
    from axes.helpers import get_client_ip_address

    settings.LOGIN_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.3", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.50"
    )
    assert client_ip(request) == get_client_ip_address(request) == "192.0.2.50"
