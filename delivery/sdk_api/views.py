"""The SDK-facing delivery endpoints (HTTP).

- `delivery`: GET /api/v1/delivery — the messages a visitor gets on a page (docs/delivery-api.md).
- `sdk_script`: GET /v1/analytics-js/snippet/<writeKey>/analytics.min.js — the browser SDK.
"""

import gzip
import hashlib
import json
import re
from functools import cache, lru_cache, partial
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from anonmsg import rate_limits
from anonmsg.api import BadInput, allow_any_origin, cors, error
from campaigns.models import AnonymousMessage
from campaigns.rules import screen_page, web_page
from campaigns.triggers import PAGE_LOAD, describe_trigger
from delivery.preview.tokens import PreviewError, read_preview_token
from delivery.sdk_api import eligibility, visitor_state
from delivery.sdk_api.live_messages import (
    live_messages,
    message_payload,
    messages_body,
    page_candidates,
    stateless_body,
    to_live_message,
)
from delivery.sdk_api.visit_context import visit_from_query

MAX_ID_LENGTH = 255
MAX_URL_LENGTH = 2000
MOBILE_PLATFORMS = ("ios", "android")
SDK_PATH = settings.BASE_DIR / "static" / "delivery" / "sdk.js"
SDK_MAX_AGE = 300
MEMOISED_FIELD_LENGTH = 1000


# --- Delivery -------------------------------------------------------------------------------


@cors(
    methods=("GET",),
    not_allowed="Use GET.",
    expose_headers=("X-Poll-Interval", "Retry-After"),
)
def delivery(request):
    """`{"messages": [...], "pollInterval": s}`: the messages this visitor gets on this page."""
    try:
        params = _delivery_params(request)
    except BadInput as exc:
        return exc.response()
    # The rate check rides along the cached read: one Redis round trip for both.
    rate_check = rate_limits.prepare(request, "delivery", key=params["write_key"])
    workspace, visitor = visitor_state.workspace_and_visitor(
        params["write_key"], params["anonymous_id"], rate_check=rate_check, fresh=params["fresh"]
    )
    if rate_check is not None and rate_check.refusal:
        return rate_limits.too_many_requests(rate_check.refusal)
    if workspace is None:
        rate_limits.note_failed_auth(request)
        return error(
            401,
            "unknown_write_key",
            "No workspace has this write key: copy it again from Settings → In-app.",
        )
    if params["preview"]:
        return _preview_response(workspace, params["preview"])
    if not workspace.has_anonymous_messages:
        return _messages_response([], reason=eligibility.PLAN)
    if not workspace.inapp_enabled:
        return _messages_response([], reason=eligibility.INAPP_DISABLED)
    if params["user_id"] or visitor.identified:
        return _messages_response([], reason=eligibility.IDENTIFIED)

    pages = params["page"] if isinstance(params["page"], tuple) else (params["page"],)
    if not visitor.states:  # a new visitor, the common case: the page's answer, memoised
        return _body_response(
            stateless_body(
                workspace_id=workspace.pk,
                content_version=workspace.content_version,
                pages=pages,
                read_visit=params["read_visit"],
                anonymous_id=params["anonymous_id"],
            )
        )
    messages = live_messages(workspace_id=workspace.pk, content_version=workspace.content_version)
    if not messages:
        return _messages_response([])
    candidates = page_candidates(
        workspace_id=workspace.pk,
        content_version=workspace.content_version,
        messages=messages,
        pages=pages,
    )
    # The request's context is read only when a condition needs it.
    visit = (
        params["read_visit"]()
        if any(message.audience for message in candidates)
        else eligibility.NOTHING_KNOWN
    )
    chosen = eligibility.select_candidates(
        candidates,
        now=timezone.now(),
        states=visitor.states,
        visit=visit,
        anonymous_id=params["anonymous_id"],
    )
    return _messages_response(chosen)


def _delivery_params(request) -> dict:
    """The query string, checked; BadInput (400) names the first problem."""
    query = _query(request)
    write_key = query.get("writeKey", "").strip()
    if not write_key:
        # A 400, not a 401, since the first release (docs/delivery-api.md): SDKs rely on it.
        raise BadInput(
            "Pass the workspace's write key as ?writeKey=… (Settings → In-app).",
            field="writeKey",
            code="missing_write_key",
        )
    anonymous_id = query.get("anonymousId", "").strip()
    user_id = query.get("userId", "").strip()
    if not anonymous_id and not user_id:
        raise BadInput(
            "Pass the visitor's anonymous ID as ?anonymousId=… (the SDK's UUID).",
            field="anonymousId",
            code="missing_anonymous_id",
        )
    for field, value in (("anonymousId", anonymous_id), ("userId", user_id)):
        if len(value) > MAX_ID_LENGTH:
            raise BadInput(f"{field} is longer than {MAX_ID_LENGTH} characters.", field=field)
    for field, value in (
        ("writeKey", write_key),
        ("anonymousId", anonymous_id),
        ("userId", user_id),
    ):
        if "\x00" in value:  # PostgreSQL text cannot hold NUL: refuse it here, not with a 500
            raise BadInput(f"{field} contains a NUL character.", field=field)
    # META, not request.headers: building the whole headers mapping costs more than the rest
    # of a warm request's parsing.
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    return {
        "write_key": write_key,
        "anonymous_id": anonymous_id,
        "user_id": user_id,
        "page": _page(query, user_agent),
        # The context parameters and the User-Agent, for audience conditions, read when a
        # condition needs them (never a 400: malformed values are unknown).
        "read_visit": partial(
            visit_from_query,
            query,
            user_agent=user_agent,
            url=query.get("url", ""),
            origin=request.META.get("HTTP_ORIGIN", ""),
        ),
        "preview": query.get("preview", "").strip(),
        # The SDK has reported nothing for this id yet (docs/delivery-api.md): any other
        # value, or none, means "not known to be fresh".
        "fresh": query.get("fresh") == "1",
    }


def _query(request) -> dict[str, str]:
    """The query string as {name: its last value}, which is what `request.GET.get()` answers,
    for a fraction of its cost: a QueryDict keeps a list of values per name, and building it
    was a tenth of a warm request's CPU. Decoded as Django decodes it (UTF-8, else Latin-1;
    `+` and %-escapes as `parse_qsl` reads them, which only runs on the fields that have any).
    """
    raw = request.META.get("QUERY_STRING", "")
    try:
        text = raw.encode("iso-8859-1").decode()
    except UnicodeError:
        text = raw  # not UTF-8: the WSGI string is already its Latin-1 reading
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if limit is not None and text.count("&") >= limit:
        raise BadInput(
            "Too many query parameters: send writeKey, anonymousId and url (or screen).",
            code="too_many_parameters",
        )
    query = {}
    for field in text.split("&"):
        if not field:
            continue
        if "%" in field or "+" in field:
            name, value = (
                _decoded_field(field) if len(field) <= MEMOISED_FIELD_LENGTH else _decode(field)
            )
        else:
            name, _, value = field.partition("=")
        query[name] = value
    return query


def _decode(field: str) -> tuple[str, str]:
    """A `name=value` field with %-escapes or `+`, decoded as `parse_qsl` decodes it."""
    ((name, value),) = parse_qsl(field, keep_blank_values=True)
    return name, value


# Memoised: the same page URLs come back request after request, and decoding one cost more
# than the rest of the query string. Longer fields than page URLs usually are get decoded
# each time, which bounds the memo (client input) at a few megabytes per process.
_decoded_field = lru_cache(maxsize=2048)(_decode)


def _page(query, user_agent: str):
    """The page (web URL) or screen(s) (mobile) the request is about."""
    url = query.get("url", "").strip()
    screen = query.get("screen", "").strip()
    platform = query.get("platform", "").strip().lower()
    if platform and platform not in ("web", *MOBILE_PLATFORMS):
        raise BadInput(
            f"Unknown platform “{platform[:20]}”: use web, ios or android.", field="platform"
        )
    for name, value in (("url", url), ("screen", screen)):
        if len(value) > MAX_URL_LENGTH:
            raise BadInput(f"{name} is longer than {MAX_URL_LENGTH} characters.", field=name)
    if screen and (platform in MOBILE_PLATFORMS or not url):
        if platform in MOBILE_PLATFORMS:
            return screen_page(platform, screen)
        guessed = _platform_from_user_agent(user_agent)
        if guessed:
            return screen_page(guessed, screen)
        # Unknown mobile platform: shows if the rules allow it on either.
        return tuple(screen_page(name, screen) for name in MOBILE_PLATFORMS)
    if url:
        try:
            return web_page(url)
        except ValueError:
            raise BadInput("url is not a URL a browser could be on.", field="url") from None
    raise BadInput(
        "Pass the page as ?url=… (web) or the screen as ?screen=…&platform=ios|android (mobile).",
        field="url" if platform in ("", "web") else "screen",
        code="missing_page",
    )


_ANDROID = re.compile(r"android|okhttp", re.IGNORECASE)
_IOS = re.compile(r"iphone|ipad|ipod|\bios\b|cfnetwork|darwin", re.IGNORECASE)


def _platform_from_user_agent(user_agent: str) -> str:
    if _ANDROID.search(user_agent):
        return "android"
    if _IOS.search(user_agent):
        return "ios"
    return ""


def _messages_response(messages, *, reason: str | None = None, preview=False) -> HttpResponse:
    if preview or not all(message.payload_json for message in messages):
        payloads = [message.payload or message_payload(message) for message in messages]
        body = {"messages": payloads, "pollInterval": settings.ANONMSG_POLL_INTERVAL}
        if preview:
            # The SDK shows a preview but never reports its views or clicks.
            body["preview"] = True
            body["messages"] = [
                {**payload, "preview": True, **preview_notice(payload.get("trigger"))}
                for payload in payloads
            ]
        if reason is not None:
            body["reason"] = reason
        return _body_response(json.dumps(body))
    return _body_response(messages_body(messages, reason=reason))


def preview_notice(trigger: dict | None) -> dict:
    """A preview shows its message at once; this tells the marketer what visitors wait for
    (`previewNotice`, shown by the SDK above the message). Nothing for a page-load trigger."""
    if not trigger or trigger.get("type", PAGE_LOAD) == PAGE_LOAD:
        return {}
    when = describe_trigger(trigger)
    return {
        "previewNotice": f"Preview, shown at once. Visitors see it {when[0].lower()}{when[1:]}."
    }


def _body_response(content: str) -> HttpResponse:
    # Encoded here: given a str, HttpResponse looks its charset up in the Content-Type header
    # (a regex) on every answer, which cost more than encoding 17 KB of JSON. UTF-8 is what
    # it would find (DEFAULT_CHARSET; JSON has no charset parameter).
    response = HttpResponse(content.encode(), content_type="application/json")
    response["X-Poll-Interval"] = str(settings.ANONMSG_POLL_INTERVAL)
    response["Cache-Control"] = "no-store"
    return response


def _preview_response(workspace, token: str) -> JsonResponse:
    """The previewed message alone, whatever its state, rules, frequency or the visitor."""
    try:
        grant = read_preview_token(token)
    except PreviewError as exc:
        return error(400, exc.code, exc.message, field="preview")
    if grant.workspace_id != workspace.pk:
        return error(
            400, "invalid_preview", "This preview link is for another workspace.", field="preview"
        )
    if not workspace.has_anonymous_messages:
        return _messages_response([], reason=eligibility.PLAN)
    message = AnonymousMessage.objects.filter(
        workspace_id=workspace.pk, pk=grant.message_id
    ).first()
    if message is None:
        return error(
            400, "invalid_preview", "The previewed message no longer exists.", field="preview"
        )
    return _messages_response([to_live_message(message)], preview=True)


# --- The browser SDK ------------------------------------------------------------------------


# A line that is only a `//` comment, and a line's indentation. sdk.js has no string or
# template literal spanning lines, so neither is ever inside a literal (a JavaScript minifier
# that rewrote the code broke the lead form's frame bridge, which is sent as its own source
# text); tests/delivery/test_sdk.py checks the served script has the source's very tokens.
_COMMENT_LINE = re.compile(r"^[ \t]*//[^\n]*\n", re.MULTILINE)
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


def sdk_source() -> bytes:
    """What analytics.min.js serves: sdk.js without its comment lines and indentation (a fifth
    of the gzipped bytes); the file in the repository stays commented."""
    source = _COMMENT_LINE.sub("", SDK_PATH.read_text(encoding="utf-8"))
    return _INDENT.sub("", source).encode()


@cache
def _sdk_bundle() -> tuple[bytes, bytes, str]:
    source = sdk_source()
    etag = '"' + hashlib.sha256(source).hexdigest()[:32] + '"'
    return source, gzip.compress(source, compresslevel=9, mtime=0), etag


@csrf_exempt  # no cookies are read; any other method must get the 405, not the CSRF page
@require_safe
def sdk_script(request, write_key):
    """The SDK source, the same for every write key (the snippet passes the key to load())."""
    if refusal := rate_limits.check(request, "sdk_script"):
        return rate_limits.too_many_requests_text(refusal)
    source, compressed, etag = _sdk_bundle() if not settings.DEBUG else _read_sdk_fresh()
    gzipped = accepts_gzip(request.headers.get("Accept-Encoding", ""))
    # Each representation has its own validator (RFC 9110: a strong ETag names one body).
    etag = f'{etag[:-1]}-gz"' if gzipped else etag
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    elif gzipped:
        response = HttpResponse(compressed, content_type="text/javascript; charset=utf-8")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={SDK_MAX_AGE}"
    response["Vary"] = "Accept-Encoding"
    return allow_any_origin(response)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header accepts gzip: `gzip` (or else `*`) with a q above 0."""
    qualities = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        quality = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            qualities[coding.strip()] = float(quality)
        except ValueError:
            qualities[coding.strip()] = 0.0
    quality = qualities.get("gzip", qualities.get("x-gzip", qualities.get("*", 0.0)))
    return quality > 0


def _read_sdk_fresh():
    # In development the file is re-read on every request, so edits show up at once.
    _sdk_bundle.cache_clear()
    return _sdk_bundle()
