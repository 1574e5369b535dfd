"""The tracking API in the served OpenAPI document."""

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from anonmsg import openapi_document
from delivery.tracking.parsing import ROUTE_TYPES


def validator(name: str) -> Draft202012Validator:
    document = openapi_document.document()
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


def test_the_document_with_the_tracking_api_is_valid_openapi():
    validate(openapi_document.document())


@pytest.mark.parametrize("route", sorted(ROUTE_TYPES))
def test_every_tracking_route_is_documented_as_a_post(route):
    item = openapi_document.document()["paths"][f"/v1/{route}"]
    assert set(item) == {"post"}
    assert set(item["post"]["requestBody"]["content"]) == {"application/json", "text/plain"}
    assert {"200", "400", "401", "405", "413", "415", "503"} <= set(item["post"]["responses"])


def test_the_sdk_metrics_route_is_documented_as_an_empty_answer():
    operation = openapi_document.document()["paths"]["/v1/m"]["post"]
    assert set(operation["responses"]) == {"200", "405"}
    assert operation["responses"]["200"]["content"]["application/json"]["example"] == {}


@pytest.mark.parametrize(
    ("schema", "body", "valid"),
    [
        ("TrackCall", {"type": "track", "anonymousId": "a", "event": "Signed Up"}, True),
        ("TrackCall", {"type": "track", "anonymousId": "a"}, False),
        ("TrackCall", {"type": "track", "event": "Signed Up"}, False),
        # The server refuses empty required strings and treats null or "" ids as absent.
        ("TrackCall", {"type": "track", "anonymousId": "a", "event": ""}, False),
        ("TrackCall", {"type": "track", "anonymousId": "", "event": "x"}, False),
        ("TrackCall", {"type": "track", "userId": None, "event": "x"}, False),
        ("TrackCall", {"type": "track", "userId": None, "anonymousId": "a", "event": "x"}, True),
        # Lenient where the server is: null objects and timestamps.
        (
            "TrackCall",
            {"anonymousId": "a", "event": "x", "properties": None, "context": None},
            True,
        ),
        ("TrackCall", {"anonymousId": "a", "event": "x", "timestamp": None}, True),
        ("GroupCall", {"type": "group", "anonymousId": "a", "groupId": ""}, False),
        ("AliasCall", {"type": "alias", "userId": "u", "previousId": ""}, False),
        ("AliasCall", {"type": "alias", "userId": "", "previousId": "a"}, False),
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
        # In a batch each call names its kind; on its own endpoint the endpoint decides.
        ("TrackingBatch", {"batch": [{"anonymousId": "a", "name": "Home"}]}, False),
        ("TrackingBatch", {"batch": [{"type": "view", "anonymousId": "a"}]}, False),
        ("PageCall", {"type": {}, "anonymousId": "a"}, True),
        # What the fuzzer found accepted (issue 10, finding 12): integer names, any category,
        # and a body writeKey of any type when the key comes as HTTP Basic.
        ("ScreenCall", {"anonymousId": "a", "name": 7}, True),
        ("PageCall", {"anonymousId": "a", "category": {"any": "value"}}, True),
        ("TrackCall", {"anonymousId": "a", "event": "x", "writeKey": 0}, True),
        ("TrackCall", {"anonymousId": "a", "event": "x", "traits": 5}, False),
        ("TrackingSuccess", {"success": True}, True),
    ],
)
def test_the_schemas_describe_what_the_api_accepts(schema, body, valid):
    assert validator(schema).is_valid(body) is valid
