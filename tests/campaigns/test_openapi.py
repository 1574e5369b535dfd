"""The OpenAPI document: valid OpenAPI 3.1, covers every App API URL, matches real responses."""

import json
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

import anonmsg.api_urls
import campaigns.api_urls
from anonmsg import openapi, openapi_document
from tests.campaigns.test_api_messages import LIST_URL, Api, full_message
from tests.factories import AnonymousMessageFactory, PageRuleFactory, SegmentFactory

DOCUMENT_URL = "/api/v1/openapi.json"


def openapi_path(route: str) -> str:
    """`api/v1/anonymous-messages/<int:message_id>/launch` → `/api/v1/anonymous-messages/{id}/launch`."""
    return "/" + re.sub(r"<(?:\w+:)?\w+>", "{id}", route)


def schema_validator(name: str) -> Draft202012Validator:
    document = openapi_document.document()
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


def test_the_document_is_valid_openapi_3_1():
    document = openapi_document.document()

    validate(document)
    assert document["openapi"].startswith("3.1")


@pytest.mark.parametrize(
    "pattern",
    [*campaigns.api_urls.urlpatterns, *anonmsg.api_urls.urlpatterns],
    ids=lambda p: str(p.pattern),
)
def test_every_app_api_url_is_documented_with_exactly_its_methods(pattern):
    document = openapi_document.document()
    path = openapi_path(str(pattern.pattern))

    assert path in document["paths"]
    documented = {method.upper() for method in document["paths"][path] if method != "parameters"}
    assert documented == set(pattern.callback.allowed_methods)


def test_app_api_operations_require_the_app_api_key():
    document = openapi_document.document()

    for path, item in document["paths"].items():
        if path.startswith("/api/v1/anonymous-messages"):
            for method, operation in item.items():
                if method != "parameters":
                    assert operation["security"] == [{"appApiKey": []}], (path, method)


def test_app_api_operations_document_the_database_outage_answer():
    # anonmsg/unavailable.py answers 503 + Retry-After when the database is unreachable.
    for path, item in openapi_document.document()["paths"].items():
        if path.startswith("/api/v1/anonymous-messages"):
            for method, operation in item.items():
                if method != "parameters":
                    assert "503" in operation["responses"], (path, method)
                    assert "Retry-After" in operation["responses"]["503"]["headers"]


def test_the_document_is_served_without_a_key(client, db):
    response = client.get(DOCUMENT_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert json.loads(response.content) == openapi_document.document()


def test_a_path_defined_by_two_fragments_is_an_error():
    with pytest.raises(ValueError, match="already defined"):
        openapi._merge({"/x": {}}, {"/x": {}}, "path", "tests")


def test_a_full_message_request_matches_the_input_schema():
    validator = schema_validator("MessageInput")

    assert list(validator.iter_errors(full_message(3))) == []
    assert list(validator.iter_errors({"name": "Only a name"})) == []
    assert list(validator.iter_errors({**full_message(3), "colour": "red"}))
    assert list(
        validator.iter_errors({"name": "x", "pageRules": [{"operator": "like", "value": "/"}]})
    )


@pytest.fixture
def api(client, workspace):
    return Api(client, workspace.rotate_api_key())


def test_real_responses_match_the_documented_schemas(api, workspace):
    segment = SegmentFactory(workspace=workspace)
    created = api.post(LIST_URL, full_message(segment.id)).json()
    inline = AnonymousMessageFactory(
        workspace=workspace, display_type="inline", display_element_id="slot", launched=True
    )
    PageRuleFactory(message=inline)
    default = api.post(LIST_URL, {"name": "Defaults"}).json()

    message_schema = schema_validator("Message")
    for body in (created, default, api.get(f"{LIST_URL}/{inline.id}").json()):
        assert list(message_schema.iter_errors(body)) == []
    listed = api.get(LIST_URL).json()
    assert list(schema_validator("MessageList").iter_errors(listed)) == []
    assert len(listed["messages"]) == 3


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", LIST_URL, {"name": "x", "pageRules": [{"operator": "like", "value": "/"}]}),
        ("get", LIST_URL + "/999999", None),
        ("post", LIST_URL + "/{id}/resume", None),
        ("post", LIST_URL + "/{id}/launch", None),
    ],
)
def test_error_responses_match_the_error_schema(api, workspace, method, path, body):
    draft = AnonymousMessageFactory(workspace=workspace, content_html="")
    url = path.format(id=draft.id)

    response = api.get(url) if method == "get" else api.post(url, body)

    assert response.status_code >= 400
    assert list(schema_validator("Error").iter_errors(response.json())) == []
