"""The delivery app's fragment of the OpenAPI document (assembled by anonmsg/openapi_document.py).

Each SDK-facing API documents itself in its own module and is collected here: the tracking
API in delivery/tracking_openapi.py, delivery and the SDK script in delivery/delivery_openapi.py.
"""

from delivery import delivery_openapi, tracking_openapi

TAGS: list[dict] = []
PATHS = {**tracking_openapi.PATHS, **delivery_openapi.PATHS}
SCHEMAS = {**tracking_openapi.SCHEMAS, **delivery_openapi.SCHEMAS}
