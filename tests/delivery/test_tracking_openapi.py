"""The tracking API in the served OpenAPI document."""

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from campaigns import openapi
from delivery.ingest import ROUTE_TYPES


def validator(name: str) -> Draft202012Validator:
    document = openapi.build_document()
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


def test_the_document_with_the_tracking_api_is_valid_openapi():
    validate(openapi.build_document())


@pytest.mark.parametrize("route", sorted(ROUTE_TYPES))
def test_every_tracking_route_is_documented_as_a_post(route):
    item = openapi.build_document()["paths"][f"/v1/{route}"]
    assert set(item) == {"post"}
    assert set(item["post"]["requestBody"]["content"]) == {"application/json", "text/plain"}
    assert {"200", "400", "401", "413", "503"} <= set(item["post"]["responses"])


@pytest.mark.parametrize(
    ("schema", "body", "valid"),
    [
        ("TrackCall", {"type": "track", "anonymousId": "a", "event": "Signed Up"}, True),
        ("TrackCall", {"type": "track", "anonymousId": "a"}, False),
        ("TrackCall", {"type": "track", "event": "Signed Up"}, False),
        ("PageCall", {"type": "page", "userId": 42, "properties": {"path": "/"}}, True),
        ("AliasCall", {"type": "alias", "userId": "u", "previousId": "a"}, True),
        ("AliasCall", {"type": "alias", "userId": "u"}, False),
        (
            "TrackingBatch",
            {
                "writeKey": "wk_x",
                "batch": [
                    {"type": "identify", "anonymousId": "a", "userId": "u", "traits": {}},
                    {"type": "screen", "anonymousId": "a", "name": "Home"},
                ],
            },
            True,
        ),
        ("TrackingBatch", {"batch": []}, False),
        ("TrackingSuccess", {"success": True}, True),
    ],
)
def test_the_schemas_describe_what_the_api_accepts(schema, body, valid):
    assert validator(schema).is_valid(body) is valid
