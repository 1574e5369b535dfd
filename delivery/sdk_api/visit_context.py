"""What a delivery request tells about the visit, for audience conditions (DESIGN.md §5).

Pure: the query's context parameters, the User-Agent and the page's host in; a
`campaigns.audience.Visit` out. Every parameter is optional and is ignored (left unknown)
when it is missing, oversized or malformed: a condition on an unknown value is false, and
the request is never refused for its context (docs/delivery-api.md).

The values come from the visitor's own browser: a visitor who fakes them changes only what
they themselves see.
"""

import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import urlsplit

from campaigns.audience import MAX_COUNT, MAX_VALUE, Visit, normalise_domain

# Longer values are ignored: a referrer is a URL (the delivery API's own limit for `url`).
MAX_REFERRER = 2000
MAX_LANGUAGE = 35  # BCP 47 tags in practice (RFC 5646 §4.4.1 suggests 35)
MAX_USER_AGENT = 1000

# A host name as browsers send it (letters of any script, digits, dots, hyphens).
_DOMAIN = re.compile(r"[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*")
_LANGUAGE = re.compile(r"[a-z]{1,8}(?:-[a-z0-9]{1,8})*")

DESKTOP, TABLET, PHONE = "desktop", "tablet", "phone"
# The usual heuristic (MDN, "Browser detection using the user agent"): tablets say so, or
# are iPads, or run Android without "Mobile"; phones say "Mobi" (Mobile, Mobile Safari…),
# or are iPhones, iPods or Android phones. Firefox and Chrome on Android both send
# "Mobile" on phones only.
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|nexus (?:7|9|10)\b", re.IGNORECASE)
_PHONE = re.compile(
    r"mobi|iphone|ipod|windows phone|blackberry|bb10|opera mini|\bphone\b", re.IGNORECASE
)
_ANDROID = re.compile(r"android", re.IGNORECASE)


def device_from_user_agent(user_agent: str) -> str | None:
    """desktop, tablet or phone; None when the User-Agent is not a browser's (a native app's
    HTTP client, a script, none at all): a device condition is then false.

    A heuristic, documented in docs/delivery-api.md: iPadOS 13 and later present themselves
    as a Mac ("Macintosh"), so their Safari counts as a desktop."""
    if not user_agent or len(user_agent) > MAX_USER_AGENT:
        return None  # checked before the memo, which must not keep huge strings
    return _device(user_agent)


@lru_cache(maxsize=4096)
def _device(user_agent: str) -> str | None:
    if _TABLET.search(user_agent):
        return TABLET
    android = _ANDROID.search(user_agent) is not None
    if android and "mobile" not in user_agent.lower():
        return TABLET
    if android or _PHONE.search(user_agent):
        return PHONE
    if user_agent.startswith("Mozilla/"):
        return DESKTOP
    return None


def referrer_domain(referrer: str | None, *, page_host: str | None) -> str | None:
    """The external referrer's domain: "" for a direct visit (an empty `referrer=`, or a
    referrer on the page's own site); None (unknown) when absent or not a URL."""
    if referrer is None or len(referrer) > MAX_REFERRER:
        return None  # checked before the memo, which must not keep huge strings
    return _referrer_domain(referrer, page_host)


@lru_cache(maxsize=4096)  # a session's landing referrer comes back with every request
def _referrer_domain(referrer: str, page_host: str | None) -> str | None:
    referrer = referrer.strip()
    if not referrer:
        return ""
    domain = normalise_domain(referrer)
    if not domain or not _DOMAIN.fullmatch(domain):
        return None
    if page_host is not None and domain == normalise_domain(page_host):
        return ""  # moved from page to page of the same site: not a traffic source
    return domain


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_VALUE or "\x00" in value:
        return None
    return value


def _language(value: str | None) -> str | None:
    if value is None or len(value) > MAX_LANGUAGE:
        return None
    return _language_tag(value)


@lru_cache(maxsize=1024)
def _language_tag(value: str) -> str | None:
    value = value.strip().lower().replace("_", "-")
    return value if _LANGUAGE.fullmatch(value) else None


def _count(value: str | None) -> int | None:
    """A count ≥ 1 in ASCII digits; anything else is unknown (capped: "sessions ≥ N" with a
    larger count holds all the same)."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > 12 or not (value.isascii() and value.isdigit()):
        return None
    count = int(value)
    return min(count, MAX_COUNT) if count >= 1 else None


def page_host(url: str, *, origin: str = "") -> str | None:
    """The host of the page (its URL, else the request's Origin header), to tell a referrer
    on the same site from an external one; None when neither names a host."""
    for candidate in (url, origin):
        if "//" not in candidate:
            continue
        try:
            host = urlsplit(candidate.strip()).hostname
        except ValueError:
            continue
        if host:
            return host
    return None


def visit_from_query(
    query: Mapping[str, str], *, user_agent: str, url: str = "", origin: str = ""
) -> Visit:
    """The visit described by a delivery request's query (docs/delivery-api.md).

    `url` is the page (its host tells internal referrers apart); `origin` the request's
    Origin header, used when `url` is only a path."""
    referrer = query.get("referrer")
    return Visit(
        referrer_domain=referrer_domain(
            referrer, page_host=page_host(url, origin=origin) if referrer else None
        ),
        utm_source=_text(query.get("utm_source")),
        utm_medium=_text(query.get("utm_medium")),
        utm_campaign=_text(query.get("utm_campaign")),
        device=device_from_user_agent(user_agent),
        language=_language(query.get("lang")),
        sessions=_count(query.get("sessions")),
        session_pageviews=_count(query.get("pageviews")),
    )
