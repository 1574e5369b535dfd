"""Preview on the real page: signed, short-lived tokens that force one message on.

A marketer opens `delivery:preview` from the dashboard; it checks the target URL belongs to
the workspace's site (its allowed origins, or this server's demo site for the demo workspace)
and redirects there with `?anonmsg_preview=<token>`. The SDK on that page sees the parameter
and sends it to the delivery view as `preview=<token>`, which answers with that message alone,
whatever its state, page rules, frequency or the visitor's identity.

The token is `django.core.signing` (HMAC with SECRET_KEY, a salt of its own, a timestamp):
it names the workspace and the message, cannot be forged or altered, and expires after
PREVIEW_MAX_AGE seconds. It grants nothing but showing that one message's content, which the
visitor of a page with the snippet could see anyway once it is launched.
"""

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core import signing

SALT = "anonmsg.delivery.preview"
PREVIEW_MAX_AGE = 60 * 60
QUERY_PARAMETER = "anonmsg_preview"
MAX_URL_LENGTH = 2000


class PreviewError(ValueError):
    def __init__(self, message: str, *, code: str = "invalid_preview"):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class PreviewGrant:
    workspace_id: int
    message_id: int


def make_preview_token(*, workspace_id: int, message_id: int) -> str:
    return signing.dumps({"w": workspace_id, "m": message_id}, salt=SALT)


def read_preview_token(token: str, *, max_age: int | None = None) -> PreviewGrant:
    """The grant in a token, or PreviewError saying what is wrong with it."""
    try:
        data = signing.loads(
            token, salt=SALT, max_age=PREVIEW_MAX_AGE if max_age is None else max_age
        )
    except signing.SignatureExpired:
        raise PreviewError(
            "This preview link has expired: open a new preview from the dashboard.",
            code="preview_expired",
        ) from None
    except signing.BadSignature:
        raise PreviewError("This preview token is not valid.") from None
    try:
        return PreviewGrant(workspace_id=int(data["w"]), message_id=int(data["m"]))
    except (KeyError, TypeError, ValueError):
        raise PreviewError("This preview token is not valid.") from None


def origin_of(url: str) -> str:
    """`scheme://host[:port]`, lower-case, default ports dropped; "" if not an http(s) URL."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    default = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def target_problem(url: str, *, allowed_origins: list[str], demo_prefix: str = "") -> str | None:
    """Why `url` cannot be previewed, or None.

    Allowed: an absolute http(s) URL on one of `allowed_origins`, or one that starts with
    `demo_prefix` (this server's demo site, absolute; only passed for the demo workspace).
    """
    url = (url or "").strip()
    if not url:
        return "Enter the address of a page of your site."
    if len(url) > MAX_URL_LENGTH:
        return f"The address is longer than {MAX_URL_LENGTH} characters."
    origin = origin_of(url)
    if not origin:
        return "Enter a full address starting with https:// (or http://)."
    if demo_prefix and url.startswith(demo_prefix):
        return None
    allowed = {origin_of(item) for item in allowed_origins} - {""}
    if origin in allowed:
        return None
    if not allowed:
        return (
            f"{origin} is not one of this workspace's allowed origins, and none are set yet: "
            "add your site's origin under Settings → Allowed origins."
        )
    return (
        f"{origin} is not one of this workspace's allowed origins "
        f"({', '.join(sorted(allowed))}): add it under Settings → Allowed origins."
    )


def preview_url(url: str, *, token: str) -> str:
    """The target with `anonmsg_preview=<token>` added to its query (replacing an old one)."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query = [(k, v) for k, v in query if k != QUERY_PARAMETER]
    query.append((QUERY_PARAMETER, token))
    return urlunsplit(parts._replace(query=urlencode(query)))
