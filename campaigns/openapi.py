"""The campaigns fragment of the OpenAPI document: the App API for anonymous messages.

Also documents GET /api/v1/openapi.json itself (the `Meta` tag), as it has since the first
release. The shared parts (security schemes, error answers) and the builder are in
anonmsg/openapi.py; the app contributes this fragment from its ready() (anonmsg/openapi.py). See docs/app-api.md.
"""

from anonmsg.dates import RANGE_TEXT
from anonmsg.openapi import UNAVAILABLE, URI_TOO_LONG, error_response, rate_limited_response
from campaigns import audience, triggers
from campaigns.models import (
    DisplayType,
    FrequencyMode,
    GoalCondition,
    GoalTrigger,
    Position,
    State,
)
from campaigns.rules import MAX_REGEX_LENGTH, MAX_VALUE_LENGTH, OPERATORS, PLATFORMS
from campaigns.serializers import (
    MAX_DESCRIPTION,
    MAX_ELEMENT_ID,
    MAX_EVENT_NAME,
    MAX_INTERVAL_SECONDS,
    MAX_NAME,
    MAX_PRIORITY,
    MAX_RULES,
    MAX_TIMES,
    MAX_WINDOW_HOURS,
    MIN_PRIORITY,
    MIN_WINDOW_HOURS,
)
from campaigns.validation import MAX_HOLDOUT_PERCENT, MAX_VARIANTS, VARIANT_KEYS


def _nullable(schema: dict) -> dict:
    schema = dict(schema)
    schema["type"] = [schema["type"], "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema


def _object(properties: dict, *, output: bool) -> dict:
    """An object schema: in a response every field is present; in a request any may be left out
    (it then takes its default) and unknown fields are refused."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if output:
        schema["required"] = list(properties)
    return schema


def _message_schema(*, output: bool) -> dict:
    when = (
        "ISO-8601. Responses use the workspace's time zone with its offset. In requests, a "
        "date-time without an offset (or a bare date) is read in the workspace's time zone; "
        f"it must fall {RANGE_TEXT}."
    )
    date_time = {"type": ["string", "null"]}
    if output:
        date_time["format"] = "date-time"
    else:
        # RFC 3339 `date-time` requires an offset; requests may leave it out, or send a date.
        date_time["pattern"] = (
            r"^(20\d{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
            r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?)?$"
        )
    rule = _object(
        {
            "platform": {"type": "string", "enum": list(PLATFORMS), "default": "web"},
            "operator": {
                "type": "string",
                "enum": list(OPERATORS),
                "default": "is",
                "description": (
                    "Web: `is`/`is_not` compare the path (query ignored); `contains`, "
                    "`not_contains`, `starts_with`, `ends_with` the path and query; `matches` "
                    "is a wildcard pattern (`*`); `regex` a regular expression of at most "
                    f"{MAX_REGEX_LENGTH} characters. Mobile: the screen name."
                ),
            },
            "value": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_VALUE_LENGTH,
                "pattern": r"\S",
            },
            "exclude": {"type": "boolean", "default": False},
            "caseSensitive": {"type": "boolean", "default": False},
        },
        output=output,
    )
    if not output:
        rule["required"] = ["value"]
    properties = {
        "id": {"type": "integer", "readOnly": True},
        "state": {
            "type": "string",
            "enum": list(State.values),
            "readOnly": True,
            "description": (
                "Derived from the lifecycle and the schedule. Read-only: change it with the "
                "launch, pause, resume and end operations."
            ),
        },
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": r"\S"},
        "description": {"type": "string", "maxLength": MAX_DESCRIPTION, "default": ""},
        "priority": {
            "type": "integer",
            "minimum": MIN_PRIORITY,
            "maximum": MAX_PRIORITY,
            "default": 1,
            "description": "Lower numbers show first.",
        },
        "pageRules": {
            "type": "array",
            "maxItems": MAX_RULES,
            "items": rule,
            "default": [],
            "description": (
                "No rules: every page of every platform. In a PATCH, the list replaces the "
                "current rules."
            ),
        },
        "frequency": _object(
            {
                "mode": {
                    "type": "string",
                    "enum": list(FrequencyMode.values),
                    "default": "until_dismissed",
                },
                "times": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "maximum": MAX_TIMES,
                    "description": "Maximum views when mode is `times` (default 1); else null.",
                },
                "minIntervalSeconds": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": MAX_INTERVAL_SECONDS,
                    "default": 0,
                },
            },
            output=output,
        ),
        "goal": _object(
            {
                "trigger": {"type": "string", "enum": list(GoalTrigger.values), "default": "click"},
                "windowHours": {
                    "type": "integer",
                    "minimum": MIN_WINDOW_HOURS,
                    "maximum": MAX_WINDOW_HOURS,
                    "default": 168,
                },
                "condition": _object(
                    {
                        "type": {
                            "type": "string",
                            "enum": list(GoalCondition.values),
                            "default": "none",
                        },
                        "event": {
                            "type": ["string", "null"],
                            "maxLength": MAX_EVENT_NAME,
                            "description": "The event's name; required when type is `event`.",
                        },
                        "segmentId": {
                            "type": ["integer", "null"],
                            "description": (
                                "A segment of this workspace; required when type is "
                                "`segment_entered` or `segment_left`."
                            ),
                        },
                    },
                    output=output,
                ),
            },
            output=output,
        ),
        "content": _object(
            {
                "html": {
                    "type": "string",
                    "description": (
                        "The message's HTML, at most 64 KB. Tracked actions are elements with "
                        '`data-action="name"`; `data-dismiss` closes. Liquid (`{{ }}`, `{% %}`) '
                        "is refused: visitors are anonymous. A draft may have none yet."
                    ),
                    "default": "",
                }
            },
            output=output,
        ),
        "display": _object(
            {
                "type": {"type": "string", "enum": list(DisplayType.values), "default": "modal"},
                "position": _nullable(
                    {
                        "type": "string",
                        "enum": list(Position.values),
                        "description": (
                            "modal: center (default), top, bottom. overlay: bottom-right "
                            "(default), bottom-left, top-right, top-left. banner: top (default), "
                            "bottom. inline: null."
                        ),
                    }
                ),
                "elementId": {
                    "type": ["string", "null"],
                    "maxLength": MAX_ELEMENT_ID,
                    "description": "inline only (required there): the id of the page element.",
                },
            },
            output=output,
        ),
        "schedule": _object(
            {
                "startsAt": {**date_time, "description": "null: as soon as launched. " + when},
                "endsAt": {**date_time, "description": "null: never. After startsAt. " + when},
            },
            output=output,
        ),
        "experiment": _experiment_schema(output=output),
    }
    properties["trigger"] = _trigger_schema(output=output)
    properties["audience"] = _audience_schema(output=output)
    schema = _object(properties, output=output)
    if not output:
        schema["description"] = (
            "POST: omitted fields take their defaults. PATCH: omitted fields keep their values; "
            "nested objects merge field by field; `pageRules` replaces the list. `id` and `state` "
            "may be sent back unchanged and are otherwise refused."
        )
    return schema


def _trigger_schema(*, output: bool) -> dict:
    seconds = {"type": "integer", "minimum": triggers.MIN_SECONDS, "maximum": triggers.MAX_SECONDS}
    schema = {
        "type": "object",
        "properties": {
            "type": {
                "type": "string",
                "enum": list(triggers.TYPES),
                "default": triggers.PAGE_LOAD,
                "description": "; ".join(f"`{k}`: {text}" for k, text in triggers.TYPES.items()),
            },
            "seconds": {**seconds, "description": "delay and inactivity (required there)."},
            "percent": {
                "type": "integer",
                "minimum": triggers.MIN_PERCENT,
                "maximum": triggers.MAX_PERCENT,
                "description": "scroll (required there): how far down the page, in percent.",
            },
            "selector": {
                "type": "string",
                "minLength": 1,
                "maxLength": triggers.MAX_SELECTOR,
                "description": "click (required there): a CSS selector of host-page elements.",
            },
            "fallbackSeconds": {
                **seconds,
                "type": ["integer", "null"],
                "description": "exit_intent: on touch devices, show after this many seconds "
                "instead (null: never on touch devices).",
            },
        },
        "additionalProperties": False,
        "description": (
            "When the SDK shows the message once delivery chose it: only the keys its type "
            "uses (others are dropped). A PATCH merges key by key over the current trigger; "
            "`null` is `page_load`."
        ),
    }
    if output:
        schema["required"] = ["type"]
    else:
        schema["type"] = ["object", "null"]
    return schema


def _audience_schema(*, output: bool) -> dict:
    attributes = list(audience.OPERATORS)
    operators = list(audience.OPERATOR_LABELS)
    condition = {
        "type": "object",
        "properties": {
            "attribute": {"type": "string", "enum": attributes},
            "operator": {
                "type": "string",
                "enum": operators,
                "description": (
                    "referrer: is, contains, is_not; utm_source, utm_medium, utm_campaign: is, "
                    "contains; device: is, is_not; language: starts_with, is; visitor: is; "
                    "sessions, session_pageviews: gte. Default: the attribute's first."
                ),
            },
            "value": {
                "type": ["string", "integer"],
                "maxLength": audience.MAX_VALUE,
                "minimum": 1,
                "maximum": audience.MAX_COUNT,
                "description": (
                    "referrer: a domain (a URL is reduced to its domain, without www.); device: "
                    "desktop, tablet or phone; visitor: new or returning; sessions and "
                    "session_pageviews: a whole number; otherwise text (compared without case)."
                ),
            },
        },
        "required": ["attribute", "operator", "value"] if output else ["attribute", "value"],
        "additionalProperties": False,
    }
    return {
        "type": "array" if output else ["array", "null"],
        "maxItems": audience.MAX_CONDITIONS,
        "items": condition,
        "default": [],
        "description": (
            "Who may get the message: all conditions must hold, on what the delivery request "
            "tells about the visit (docs/delivery-api.md). A condition on something the "
            "request does not tell is false. In a PATCH, the list replaces the current one; "
            "`null` or `[]`: everyone."
        ),
    }


def _experiment_schema(*, output: bool) -> dict:
    """DESIGN.md §5; docs/campaigns.md "Experiments"."""
    display = {
        "type": ["object", "null"],
        "properties": {
            "type": {"type": "string", "enum": list(DisplayType.values)},
            "position": _nullable({"type": "string", "enum": list(Position.values)}),
            "elementId": {"type": ["string", "null"], "maxLength": MAX_ELEMENT_ID},
        },
        "additionalProperties": False,
        "required": ["type"] if not output else ["type", "position", "elementId"],
        "description": "Variants B–D only; null: as variant A (the message's `display`).",
    }
    variant = {
        "type": "object",
        "properties": {
            "key": {"type": "string", "enum": list(VARIANT_KEYS)},
            "weight": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "description": "Share of the non-held-out visitors, in percent; the weights "
                "sum to 100. Leave every weight out for an equal split.",
            },
            "content": {
                "type": "object",
                "properties": {"html": {"type": "string", "minLength": 1, "pattern": r"\S"}},
                "required": ["html"],
                "additionalProperties": False,
                "description": "Variants B–D only (A is the message's own `content`). On a "
                "PATCH, left out: the variant keeps its content.",
            },
            "display": display,
        },
        "required": ["key", "weight"] if output else ["key"],
        "additionalProperties": False,
    }
    winner = {
        "type": ["object", "null"],
        "readOnly": True,
        "description": "Set by the choose-winner operation: the variant that got all traffic, "
        "when, and by whom (null: through the App API).",
    }
    if output:
        winner["properties"] = {
            "key": {"type": "string", "enum": list(VARIANT_KEYS)},
            "chosenAt": {"type": "string", "format": "date-time"},
            "chosenBy": {"type": ["string", "null"]},
        }
        winner["required"] = ["key", "chosenAt", "chosenBy"]
    schema = {
        "type": ["object", "null"],
        "properties": {
            "variants": {
                "type": "array",
                "items": variant,
                "minItems": 1,
                "maxItems": MAX_VARIANTS,
                "description": "A, then B, C, D in order. Variant A is the message's own "
                "content and display.",
            },
            "holdoutPercent": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_HOLDOUT_PERCENT,
                "default": 0,
                "description": "Eligible visitors shown nothing, for comparison.",
            },
            "winner": winner,
        },
        "additionalProperties": False,
        "description": "null: no experiment (sending null removes it). Visitors are assigned "
        "by a hash of (message, experiment seed, anonymousId): sticky, no storage.",
    }
    if output:
        schema["required"] = ["variants", "holdoutPercent", "winner"]
    return schema


SCHEMAS = {
    "Message": _message_schema(output=True),
    "MessageInput": {**_message_schema(output=False), "required": ["name"]},
    "MessagePatch": _message_schema(output=False),
    "MessageList": {
        "type": "object",
        "properties": {
            "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}
        },
        "required": ["messages"],
    },
    "Error": {
        "type": "object",
        "properties": {
            "error": {"type": "string", "description": "A stable code, e.g. `invalid`."},
            "message": {"type": "string", "description": "What went wrong and what to do."},
            "field": {
                "type": ["string", "null"],
                "description": "For input errors: the dotted path, e.g. `pageRules[0].operator`.",
            },
            "problems": {"type": "array", "items": {"type": "string"}},
            "state": {"type": "string"},
        },
        "required": ["error", "message"],
    },
}

_MESSAGE = {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}
_APP_API = [{"appApiKey": []}]
_TAGS = ["Anonymous messages"]
# The answers every App API operation may give (the metrics fragment uses them too).
APP_API_ERRORS = {
    "401": error_response(
        "The App API key is missing or not valid (it may have been rotated).",
        {"error": "unauthorized", "message": "This App API key is not valid."},
    ),
    "403": error_response(
        "The workspace's plan has no anonymous messages (free plan).",
        {"error": "plan_required", "message": "This feature is only available on…"},
    ),
    "429": rate_limited_response(
        "with this App API key, or with unknown keys from this IP address"
    ),
    "503": UNAVAILABLE,
}
_NOT_FOUND = error_response(
    "No such message in this workspace (another workspace's message is not found either).",
    {"error": "not_found", "message": "There is no anonymous message 12 in this workspace."},
)
_BAD_INPUT = error_response(
    "Invalid input; `field` names it.",
    {
        "error": "invalid",
        "message": "Unknown pageRules[0].operator “like”: use one of is, is_not, …",
        "field": "pageRules[0].operator",
    },
)
_MESSAGE_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
    "description": "The message's id.",
}


def _transition(verb: str, summary: str, allowed: str) -> dict:
    responses = {
        "200": {"description": f"The message, {verb}.", "content": _MESSAGE},
        **APP_API_ERRORS,
        "404": _NOT_FOUND,
        "409": error_response(
            f"The transition is not allowed: {allowed}."
            + (
                " Or the draft is not ready (`problems` lists what to fix)."
                if verb == "launched"
                else ""
            ),
            {
                "error": "invalid_transition",
                "message": "Only paused messages can be resumed; this one is active.",
                "state": "active",
            },
        ),
    }
    return {
        "post": {
            "operationId": f"{summary.split()[0].lower()}AnonymousMessage",
            "summary": summary,
            "tags": _TAGS,
            "security": _APP_API,
            "parameters": [_MESSAGE_ID],
            "responses": responses,
        }
    }


PATHS = {
    "/api/v1/anonymous-messages": {
        "get": {
            "operationId": "listAnonymousMessages",
            "summary": "List the workspace's messages, newest first",
            "tags": _TAGS,
            "security": _APP_API,
            "parameters": [
                {
                    "name": "state",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": list(State.values)},
                    "description": "Only messages in this (derived) state.",
                }
            ],
            "responses": {
                "200": {
                    "description": "The messages.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/MessageList"}}
                    },
                },
                "400": _BAD_INPUT,
                **APP_API_ERRORS,
                "414": URI_TOO_LONG,
            },
        },
        "post": {
            "operationId": "createAnonymousMessage",
            "summary": "Create a draft message",
            "tags": _TAGS,
            "security": _APP_API,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/MessageInput"}}
                },
            },
            "responses": {
                "201": {
                    "description": "The new draft.",
                    "headers": {
                        "Location": {
                            "schema": {"type": "string"},
                            "description": "The message's URL.",
                        }
                    },
                    "content": _MESSAGE,
                },
                "400": _BAD_INPUT,
                **APP_API_ERRORS,
            },
        },
    },
    "/api/v1/anonymous-messages/{id}": {
        "parameters": [_MESSAGE_ID],
        "get": {
            "operationId": "getAnonymousMessage",
            "summary": "Get a message",
            "tags": _TAGS,
            "security": _APP_API,
            "responses": {
                "200": {"description": "The message.", "content": _MESSAGE},
                **APP_API_ERRORS,
                "404": _NOT_FOUND,
            },
        },
        "patch": {
            "operationId": "updateAnonymousMessage",
            "summary": "Change some of a message's fields (live messages too)",
            "description": (
                "Changes reach SDKs on their next request. Omitted fields keep their values; "
                "`pageRules` replaces the list."
            ),
            "tags": _TAGS,
            "security": _APP_API,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/MessagePatch"}}
                },
            },
            "responses": {
                "200": {"description": "The updated message.", "content": _MESSAGE},
                "400": _BAD_INPUT,
                **APP_API_ERRORS,
                "404": _NOT_FOUND,
                "409": error_response(
                    "Ended and archived messages are kept as they ran and cannot be changed.",
                    {
                        "error": "not_editable",
                        "message": "This message is ended: ended and archived messages are …",
                        "state": "ended",
                    },
                ),
            },
        },
    },
    "/api/v1/anonymous-messages/{id}/launch": _transition(
        "launched", "Launch a draft", "only drafts can be launched"
    ),
    "/api/v1/anonymous-messages/{id}/pause": _transition(
        "paused", "Pause a message", "only active or scheduled messages can be paused"
    ),
    "/api/v1/anonymous-messages/{id}/resume": _transition(
        "resumed", "Resume a paused message", "only paused messages can be resumed"
    ),
    "/api/v1/anonymous-messages/{id}/end": _transition(
        "ended", "End a message now", "only active, scheduled or paused messages can be ended"
    ),
    "/api/v1/anonymous-messages/{id}/choose-winner": {
        "post": {
            "operationId": "chooseExperimentWinner",
            "summary": "End a message's experiment: all traffic to one variant",
            "description": (
                "The winner's weight becomes 100 and the others' 0 (the variants are kept, "
                "so their metrics stay); `holdoutPercent` keeps a holdout (default 0). "
                "Recorded with when (and, from the dashboard, who) in `experiment.winner`."
            ),
            "tags": _TAGS,
            "security": _APP_API,
            "parameters": [_MESSAGE_ID],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "variant": {"type": "string", "enum": list(VARIANT_KEYS)},
                                "holdoutPercent": {
                                    "type": "integer",
                                    "minimum": 0,
                                    "maximum": MAX_HOLDOUT_PERCENT,
                                    "default": 0,
                                },
                            },
                            "required": ["variant"],
                            "additionalProperties": False,
                        }
                    }
                },
            },
            "responses": {
                "200": {"description": "The message, its winner chosen.", "content": _MESSAGE},
                "400": _BAD_INPUT,
                **APP_API_ERRORS,
                "404": _NOT_FOUND,
                "409": error_response(
                    "Ended and archived messages are kept as they ran and cannot be changed.",
                    {
                        "error": "not_editable",
                        "message": "This message is ended: its experiment can no longer change.",
                        "state": "ended",
                    },
                ),
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "getOpenApiDocument",
            "summary": "This OpenAPI document",
            "tags": ["Meta"],
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}
