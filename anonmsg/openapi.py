"""The toolkit for the OpenAPI 3.1 document of the public APIs (GET /api/v1/openapi.json).

Each app documents its own endpoints in its own fragment module:

    <app>/openapi.py  →  TAGS = [{"name", "description"}], PATHS = {"/path": {...}},
                         SCHEMAS = {"Name": {...}}   (each optional)

This module holds what every fragment shares (the security schemes `appApiKey`, `writeKeyBasic`
and `writeKeyQuery`, the section tags, the error, 429, 503 and 414 answers) and the builder.
It imports no app: each app contributes its fragment from its AppConfig.ready()
(`contribute`), so the document lists them in INSTALLED_APPS order, the published order; the
view is anonmsg/openapi_document.py. A path or schema defined twice is an error (tests catch
it). See docs/app-api.md.
"""

import copy

_fragments: list = []


def contribute(fragment) -> None:
    """Add an app's fragment module to the document (called from the app's ready())."""
    if fragment not in _fragments:
        _fragments.append(fragment)


def contributed_fragments() -> tuple:
    return tuple(_fragments)


SECURITY_SCHEMES = {
    "appApiKey": {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "The workspace's secret App API key (Settings → In-app → App API key), sent as "
            "`Authorization: Bearer sk_…`. Server-side only: never put it in a web page or an "
            "app. Rotating the key invalidates the previous one at once."
        ),
    },
    "writeKeyBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "The public write key as the user name, empty password (SDKs).",
    },
    "writeKeyQuery": {
        "type": "apiKey",
        "in": "query",
        "name": "writeKey",
        "description": "The public write key in the query string (delivery).",
    },
}

# One tag per section, so that each app's endpoints group together; fragments use these.
BASE_TAGS = [
    {
        "name": "Anonymous messages",
        "description": "App API: create, read, update, launch, pause, resume and end messages.",
    },
    {"name": "Metrics", "description": "App API: a message's metrics."},
    {"name": "Tracking", "description": "SDK-facing tracking API (Segment HTTP spec)."},
    {"name": "Delivery", "description": "SDK-facing delivery of eligible messages."},
    {"name": "Meta", "description": "This document."},
]


def error_response(description: str, example: dict) -> dict:
    """A JSON error answer in an operation's `responses` (every fragment uses it)."""
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "example": example,
            }
        },
    }


RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Whole seconds to wait before sending the same request again.",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def rate_limited_response(limits: str) -> dict:
    """The 429 of a rate-limited operation (docs/configuration.md, "Rate limits")."""
    return {
        **error_response(
            f"Rate limited: too many requests {limits}. Nothing was done; send the same "
            "request again after `Retry-After` seconds.",
            {
                "error": "rate_limited",
                "message": "Too many requests for this key. Retry after 3 s (the Retry-After "
                "header); nothing was stored.",
            },
        ),
        "headers": RETRY_AFTER_HEADER,
    }


# The database cannot be reached (anonmsg/unavailable.py): every operation that reads it.
UNAVAILABLE = {
    **error_response(
        "The database cannot be reached (down, restarting, connection cut). Nothing was "
        "changed; retry after `Retry-After` seconds.",
        {"error": "unavailable", "message": "The database is unavailable. Nothing was changed…"},
    ),
    "headers": RETRY_AFTER_HEADER,
}
# Answered by the HTTP server itself (gunicorn: a request line over 8,190 bytes, the Procfile's --limit-request-line), as HTML.
URI_TOO_LONG = {
    "description": "The URL is too long for the HTTP server (gunicorn as the Procfile runs it: "
    "8,190 bytes for the request line). Send shorter parameters.",
    "content": {"text/html": {"schema": {"type": "string"}}},
}


def _merge(target: dict, additions: dict, what: str, origin: str) -> None:
    for name, value in additions.items():
        if name in target:
            raise ValueError(f"OpenAPI {what} {name!r} from {origin} is already defined.")
        target[name] = copy.deepcopy(value)


def build_document(fragments) -> dict:
    """The document made of these fragment modules, in this order (plain values: a new copy)."""
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "anonmsg API",
            "version": "1.0.0",
            "summary": "Anonymous in-app messages: App API, tracking and delivery.",
            "description": (
                'Errors are JSON: `{"error": code, "message": what to do, "field": '
                "dotted path (input errors)}`. See docs/app-api.md for examples."
            ),
        },
        "tags": copy.deepcopy(BASE_TAGS),
        "paths": {},
        "components": {"securitySchemes": copy.deepcopy(SECURITY_SCHEMES), "schemas": {}},
    }
    known_tags = {tag["name"] for tag in document["tags"]}
    for module in fragments:
        module_name = module.__name__
        for tag in getattr(module, "TAGS", []):
            if tag["name"] not in known_tags:
                document["tags"].append(copy.deepcopy(tag))
                known_tags.add(tag["name"])
        _merge(document["paths"], getattr(module, "PATHS", {}), "path", module_name)
        _merge(
            document["components"]["schemas"], getattr(module, "SCHEMAS", {}), "schema", module_name
        )
    return document
