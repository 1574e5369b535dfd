"""The delivery API's and the SDK script's part of the OpenAPI document (docs/delivery-api.md).

Collected into the delivery fragment by delivery/openapi.py.
"""

from anonmsg.openapi import (
    RETRY_AFTER_HEADER,
    UNAVAILABLE,
    URI_TOO_LONG,
    error_response,
    rate_limited_response,
)
from delivery.sdk_api import eligibility
from delivery.sdk_api.views import MAX_ID_LENGTH, MAX_URL_LENGTH


def _query(name: str, description: str, **schema) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


SCHEMAS = {
    "DeliveredMessage": {
        "type": "object",
        "required": ["id", "label", "priority", "display", "html", "actions"],
        "properties": {
            "id": {"type": "integer"},
            "label": {
                "type": "string",
                "description": "The message's accessible name for visitors: its content's first "
                "heading, else “Message”. The internal name is never sent.",
            },
            "priority": {"type": "integer", "description": "1 is shown first."},
            "display": {
                "type": "object",
                "required": ["type", "position"],
                "properties": {
                    "type": {"enum": ["modal", "overlay", "banner", "inline"]},
                    "position": {
                        "type": ["string", "null"],
                        "enum": [
                            "center",
                            "top",
                            "bottom",
                            "top-left",
                            "top-right",
                            "bottom-left",
                            "bottom-right",
                            None,
                        ],
                        "description": "null for inline messages.",
                    },
                    "elementId": {
                        "type": ["string", "null"],
                        "description": "The page element an inline message renders into.",
                    },
                    "closeOnBackdrop": {"type": "boolean"},
                },
            },
            "html": {
                "type": "string",
                "description": "Render in a sandboxed srcdoc iframe, never in the page's origin.",
            },
            "actions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "label"],
                    "properties": {
                        "name": {"type": "string"},
                        "label": {"type": "string"},
                        "url": {"type": ["string", "null"]},
                    },
                },
            },
            "frequency": {
                "type": "object",
                "description": "Enforced by the server; given for SDKs that speak gist's terms.",
                "properties": {
                    "mode": {"enum": ["until_dismissed", "times", "always"]},
                    "maxViews": {"type": "integer", "description": "0 = unlimited."},
                    "minIntervalSeconds": {"type": "integer"},
                    "dismissStops": {"type": "boolean"},
                },
            },
            "trigger": {
                "type": "object",
                "required": ["type"],
                "description": "When the SDK shows the message (the App API's `trigger`): it "
                "waits, and reports the view only once the message is displayed.",
                "properties": {
                    "type": {
                        "enum": [
                            "page_load",
                            "delay",
                            "scroll",
                            "exit_intent",
                            "inactivity",
                            "click",
                        ]
                    },
                    "seconds": {"type": "integer", "minimum": 1, "maximum": 600},
                    "percent": {"type": "integer", "minimum": 1, "maximum": 100},
                    "selector": {"type": "string", "maxLength": 200},
                    "fallbackSeconds": {"type": ["integer", "null"], "minimum": 1, "maximum": 600},
                },
            },
            "preview": {"type": "boolean"},
            "previewNotice": {
                "type": "string",
                "description": "Previews only, when the trigger is not on page load: the "
                "message is shown at once, and this says what visitors wait for.",
            },
            "variant": {
                "enum": ["A", "B", "C", "D"],
                "description": "In an experiment: the visitor's variant, whose content and "
                "display these are. The SDK sends it back in the message's events.",
            },
        },
    },
    "HeldOutEntry": {
        "type": "object",
        "required": ["id", "holdout"],
        "properties": {
            "id": {"type": "integer"},
            "holdout": {"const": True},
            "trigger": {"type": "object"},
        },
        "additionalProperties": False,
        "description": "In place of a message whose experiment holds this visitor out: nothing "
        "to show; report `Report Content Event` with `actionType: held_out` where it would "
        "have shown (docs/sdk.md).",
    },
    "Delivery": {
        "type": "object",
        "required": ["messages", "pollInterval"],
        "properties": {
            "messages": {
                "type": "array",
                "description": "Eligible now, for this visitor, on this page, in delivery order.",
                "items": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/DeliveredMessage"},
                        {"$ref": "#/components/schemas/HeldOutEntry"},
                    ]
                },
            },
            "pollInterval": {
                "type": "integer",
                "description": "Seconds after which a page that stays open may ask again.",
            },
            "reason": {
                "enum": [eligibility.PLAN, eligibility.INAPP_DISABLED, eligibility.IDENTIFIED],
                "description": "Why the whole list is empty, when it is for the workspace or "
                "the visitor.",
            },
            "preview": {"type": "boolean"},
        },
    },
}

_DELIVERY = {
    "tags": ["Delivery"],
    "summary": "The messages this anonymous visitor gets on this page",
    "operationId": "delivery",
    "description": (
        "Web: `url`; mobile: `screen` (+ `platform`). CORS: any origin, no credentials; "
        "`OPTIONS` answers 204. See docs/delivery-api.md."
    ),
    "security": [{"writeKeyQuery": []}],
    "parameters": [
        _query(
            "anonymousId",
            "The SDK's anonymous id (required unless userId).",
            maxLength=MAX_ID_LENGTH,
        ),
        _query("userId", "An identified visitor gets an empty list.", maxLength=MAX_ID_LENGTH),
        _query("url", "Web: the page's URL or path.", maxLength=MAX_URL_LENGTH),
        _query("screen", "Mobile: the screen name.", maxLength=MAX_URL_LENGTH),
        _query("platform", "With `screen`.", enum=["web", "ios", "android"]),
        _query("preview", "A preview token from the dashboard's preview link."),
        _query(
            "fresh",
            "`1`: the SDK made this anonymous id and has reported nothing for it but page "
            "views, so the answer is the page's for a visitor without state, unless the server "
            "knows someone wrote state for the id. Other values are ignored.",
        ),
        # The visit context (audience conditions): plain strings on purpose, since a value
        # that is too long or malformed is ignored (unknown), never refused.
        _query(
            "referrer",
            "The session's landing referrer URL; empty: a direct visit. Read as its domain. "
            "Ignored (unknown) over 2,000 characters or when not a URL.",
        ),
        _query("utm_source", "The session's landing page's utm_source (≤ 200 characters)."),
        _query("utm_medium", "The session's landing page's utm_medium (≤ 200 characters)."),
        _query("utm_campaign", "The session's landing page's utm_campaign (≤ 200 characters)."),
        _query("lang", "The browser's preferred language, e.g. `de-CH`."),
        _query(
            "sessions",
            "This visitor's session count, a whole number ≥ 1 (1: a new visitor). Other "
            "values are ignored.",
        ),
        _query(
            "pageviews",
            "Page views in this session, a whole number ≥ 1. Other values are ignored.",
        ),
    ],
    "responses": {
        "200": {
            "description": "The eligible messages (possibly none, with a `reason`).",
            "headers": {
                "X-Poll-Interval": {
                    "description": "Same as `pollInterval`.",
                    "schema": {"type": "integer"},
                }
            },
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Delivery"}}},
        },
        "400": error_response(
            "A missing or invalid parameter, named in `field` (a missing `writeKey` too: "
            "`missing_write_key`).",
            {"error": "missing_anonymous_id", "message": "…", "field": "anonymousId"},
        ),
        "401": error_response(
            "No workspace has this write key.", {"error": "unknown_write_key", "message": "…"}
        ),
        "405": error_response(
            "Not GET, HEAD or OPTIONS.", {"error": "method_not_allowed", "message": "…"}
        ),
        "429": rate_limited_response(
            "for this write key or from this client IP, or with unknown write keys from this IP"
        ),
        "414": URI_TOO_LONG,
        "503": {
            **UNAVAILABLE,
            "description": "The database cannot be reached and the answer is not cached; retry "
            "after `Retry-After` seconds.",
        },
    },
}

PATHS = {
    "/api/v1/delivery": {"get": _DELIVERY},
    "/v1/analytics-js/snippet/{writeKey}/analytics.min.js": {
        "get": {
            "tags": ["Delivery"],
            "summary": "The browser SDK (the snippet on Settings → In-app loads it)",
            "operationId": "sdkScript",
            "parameters": [
                {"name": "writeKey", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {
                    "description": "Plain JavaScript, the same for every write key; gzip when "
                    "accepted, ETag, cacheable for 5 minutes.",
                    "content": {"text/javascript": {"schema": {"type": "string"}}},
                },
                "304": {"description": "Not modified (If-None-Match)."},
                "429": {
                    "description": "Rate limited: too many requests for the SDK script from "
                    "this IP address; retry after `Retry-After` seconds.",
                    "headers": RETRY_AFTER_HEADER,
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
            },
        }
    },
}
