"""The metrics fragment of the OpenAPI document (contributed from the app's ready(); anonmsg/openapi.py)."""

from anonmsg.openapi import URI_TOO_LONG, error_response
from campaigns.openapi import APP_API_ERRORS

_COUNT = {"type": "integer", "minimum": 0}

SCHEMAS = {
    "MessageMetrics": {
        "type": "object",
        "description": (
            "A message's metrics over [from, to), read from hourly rollups (refreshed every "
            "minute). Conversions are counted at the time they happened (the identify, or the "
            "goal condition if later)."
        ),
        "properties": {
            "views": {**_COUNT, "description": "Times the message was displayed."},
            "uniqueViewers": {
                **_COUNT,
                "description": "Distinct anonymous visitors who saw it at least once.",
            },
            "clicks": {
                "type": "object",
                "properties": {
                    "total": {**_COUNT, "description": "Clicks on its tracked actions."},
                    "byAction": {
                        "type": "object",
                        "additionalProperties": _COUNT,
                        "description": (
                            "Clicks per tracked action name (`data-action`). Beyond 50 names "
                            "in an hour, the least clicked add up under `(other)`."
                        ),
                    },
                },
                "required": ["total", "byAction"],
                "additionalProperties": False,
            },
            "dismissals": {**_COUNT, "description": "Times a visitor closed it."},
            "conversions": {
                **_COUNT,
                "description": "Distinct people who met the goal (one per message and person).",
            },
            "conversionRate": {
                "type": "number",
                "minimum": 0,
                "description": "conversions ÷ uniqueViewers, rounded to 4 decimals (0 if none).",
            },
            "arms": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ExperimentArm"},
                "description": (
                    "Only for a message in an experiment: each arm (A–D, holdout) over the "
                    "whole experiment, whatever the range (until a winner was chosen)."
                ),
            },
            "lift": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ExperimentLift"},
                "description": (
                    "Only for a message in an experiment: each variant over the holdout, or "
                    "(without a holdout) each of B–D over A."
                ),
            },
        },
        "required": [
            "views",
            "uniqueViewers",
            "clicks",
            "dismissals",
            "conversions",
            "conversionRate",
        ],
        "additionalProperties": False,
    },  # fmt: skip
    "ExperimentArm": {
        "type": "object",
        "properties": {
            "key": {"type": "string", "enum": ["A", "B", "C", "D", "holdout"]},
            "exposed": {
                **_COUNT,
                "description": (
                    "Distinct visitors exposed: a variant's first view, or the holdout's "
                    "`held_out` report (once per visitor). A visitor stays in the arm of their "
                    "first exposure."
                ),
            },
            "views": {**_COUNT, "description": "Views tagged with this variant."},
            "clicks": {**_COUNT, "description": "Clicks tagged with this variant."},
            "converted": {
                **_COUNT,
                "description": (
                    "Exposure-based conversions: exposed visitors identified within the goal "
                    "window after their first exposure (and meeting the goal's condition, if "
                    "any, in that window). The same rule for every arm."
                ),
            },
            "conversionRate": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "converted ÷ exposed, rounded to 4 decimals (0 if none).",
            },
        },
        "required": ["key", "exposed", "views", "clicks", "converted", "conversionRate"],
        "additionalProperties": False,
    },
    "ExperimentLift": {
        "type": "object",
        "description": (
            "Relative lift of the conversion rate of `key` over `versus` (0.12 = +12 %), "
            "with a 95 % confidence interval that stays valid however often it is looked at "
            "(mixture sequential probability ratio test, Johari et al. 2022; docs/metrics.md). "
            "Null while an arm has no exposed visitor."
        ),
        "properties": {
            "key": {"type": "string", "enum": ["A", "B", "C", "D"]},
            "versus": {"type": "string", "enum": ["holdout", "A"]},
            "estimate": {"type": ["number", "null"], "minimum": -1},
            "low": {"type": ["number", "null"], "minimum": -1},
            "high": {"type": ["number", "null"], "minimum": -1},
            "decision": {
                "type": "string",
                "enum": ["winner", "loser", "inconclusive"],
                "description": (
                    "winner: the interval is above 0; loser: below 0; else inconclusive "
                    "(also before 100 exposed visitors per arm and 10 conversions)."
                ),
            },
        },
        "required": ["key", "versus", "estimate", "low", "high", "decision"],
        "additionalProperties": False,
    },
}

# What a bound looks like (the parser also takes a few other ISO-8601 spellings); empty: the
# default.
_BOUND_PATTERN = (
    r"^$|^(20\d{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?)?$"
)
_BOUND = (
    "A date (`2026-03-01`, a whole day in the workspace's time zone; `to` is then included) or "
    "an ISO-8601 date-time (without an offset: the workspace's time zone). Widened to whole "
    "hours. Between 2000-01-01 and 2100-12-31."
)

PATHS = {
    "/api/v1/anonymous-messages/{id}/metrics": {
        "get": {
            "operationId": "getAnonymousMessageMetrics",
            "summary": "A message's metrics for a date range",
            "tags": ["Metrics"],
            "security": [{"appApiKey": []}],
            "parameters": [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                    "description": "The message's id.",
                },
                {
                    "name": "from",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "pattern": _BOUND_PATTERN},
                    "description": f"Start of the range. {_BOUND} Default: 30 days before `to`.",
                },
                {
                    "name": "to",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "pattern": _BOUND_PATTERN},
                    "description": f"End of the range. {_BOUND} Default: now. At most 366 days.",
                },
            ],
            "responses": {
                "200": {
                    "description": "The metrics.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/MessageMetrics"},
                            "example": {
                                "views": 1520,
                                "uniqueViewers": 1210,
                                "clicks": {"total": 96, "byAction": {"signup": 80, "pricing": 16}},
                                "dismissals": 430,
                                "conversions": 31,
                                "conversionRate": 0.0256,
                            },
                        }
                    },
                },
                "400": error_response(
                    "`from` or `to` is not a date, or not between 2000-01-01 and 2100-12-31, "
                    "`from` is not before `to`, or the range is longer than 366 days; `field` "
                    "names the parameter.",
                    {"error": "invalid", "message": "`from` must be before `to`.", "field": "from"},
                ),
                **APP_API_ERRORS,
                "414": URI_TOO_LONG,
                "404": error_response(
                    "No such message in this workspace.",
                    {"error": "not_found", "message": "No anonymous message 12 in this workspace."},
                ),
            },
        }
    }
}
