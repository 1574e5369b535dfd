"""The delivery app's fragment of the OpenAPI document (contributed from the app's ready(); anonmsg/openapi.py).

Each SDK-facing API documents itself in its own module and is collected here: the tracking
API in delivery/tracking/openapi.py, delivery and the SDK script in delivery/sdk_api/openapi.py.
"""

from delivery.sdk_api import openapi as sdk_api_openapi
from delivery.tracking import openapi as tracking_openapi

TAGS: list[dict] = []
PATHS = {**tracking_openapi.PATHS, **sdk_api_openapi.PATHS}
SCHEMAS = {**tracking_openapi.SCHEMAS, **sdk_api_openapi.SCHEMAS}
