"""The delivery API and the SDK script in the served OpenAPI document, checked against real answers."""

import pytest

from anonmsg import openapi_document
from anonmsg.models import Plan
from tests.campaigns.test_openapi import schema_validator
from tests.factories import AnonymousMessageFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def delivery_body(client, workspace, **params):
    query = {"writeKey": workspace.write_key, "anonymousId": "a-1", "url": "/pricing", **params}
    response = client.get("/api/v1/delivery", query)
    assert response.status_code == 200, response.content
    return response.json()


def test_delivery_and_the_sdk_script_are_documented():
    paths = openapi_document.document()["paths"]

    assert set(paths["/api/v1/delivery"]) == {"get"}
    assert paths["/api/v1/delivery"]["get"]["security"] == [{"writeKeyQuery": []}]
    assert set(paths["/v1/analytics-js/snippet/{writeKey}/analytics.min.js"]) == {"get"}


def test_delivery_documents_the_outage_and_the_http_server_url_limit():
    # Found by fuzzing (issue 10, finding 12): gunicorn answers 414 for a long request line.
    responses = openapi_document.document()["paths"]["/api/v1/delivery"]["get"]["responses"]
    assert {"200", "400", "401", "405", "414", "503"} <= set(responses)
    assert set(responses["414"]["content"]) == {"text/html"}


@pytest.mark.parametrize("display_type", ["modal", "overlay", "banner", "inline"])
def test_a_delivery_answer_matches_its_schema(client, workspace, display_type):
    AnonymousMessageFactory(
        workspace=workspace,
        launched=True,
        display_type=display_type,
        display_element_id="slot" if display_type == "inline" else "",
        content_html='<button data-action="claim" data-url="/signup">Claim</button>',
    )
    body = delivery_body(client, workspace)

    assert len(body["messages"]) == 1
    assert list(schema_validator("Delivery").iter_errors(body)) == []


def test_empty_answers_with_a_reason_match_the_schema(client, db):
    free = WorkspaceFactory(plan=Plan.FREE)
    body = delivery_body(client, free)

    assert body["reason"] == "plan"
    assert list(schema_validator("Delivery").iter_errors(body)) == []
    assert list(schema_validator("Delivery").iter_errors({"messages": [{"id": "x"}]}))
