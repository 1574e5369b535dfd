"""App API: the `trigger` and `audience` fields (DESIGN.md §5, issue 14): read and write,
PATCH semantics, 400s naming the field, the launch checklist, and the OpenAPI schemas."""

import pytest
from jsonschema import Draft202012Validator

from anonmsg import openapi_document
from campaigns.models import AnonymousMessage, Status
from tests.campaigns.test_api_messages import LIST_URL, Api
from tests.factories import AnonymousMessageFactory, WorkspaceFactory


@pytest.fixture
def api(client, workspace):
    return Api(client, workspace.rotate_api_key())


def url(message_id):
    return f"{LIST_URL}/{message_id}"


def schema(name):
    document = openapi_document.document()
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


def test_trigger_and_audience_are_stored_and_read_back(api):
    response = api.post(
        LIST_URL,
        {
            "name": "Who and when",
            "trigger": {"type": "delay", "seconds": 5},
            "audience": [
                {"attribute": "referrer", "operator": "is", "value": "https://www.Google.com/x"},
                {"attribute": "language", "value": "DE"},
                {"attribute": "visitor", "operator": "is", "value": "Returning"},
                {"attribute": "session_pageviews", "operator": "gte", "value": "3"},
            ],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    # Stored in one shape: the domain of a URL, lower case, numbers as numbers, the
    # attribute's default operator.
    assert body["trigger"] == {"type": "delay", "seconds": 5}
    assert body["audience"] == [
        {"attribute": "referrer", "operator": "is", "value": "google.com"},
        {"attribute": "language", "operator": "starts_with", "value": "de"},
        {"attribute": "visitor", "operator": "is", "value": "returning"},
        {"attribute": "session_pageviews", "operator": "gte", "value": 3},
    ]
    message = AnonymousMessage.objects.get(pk=body["id"])
    assert message.trigger == {"type": "delay", "seconds": 5}
    assert message.audience == body["audience"]
    assert api.get(url(message.pk)).json() == body
    assert list(schema("Message").iter_errors(body)) == []


@pytest.mark.parametrize(
    "trigger",
    [
        {"type": "page_load"},
        {"type": "delay", "seconds": 600},
        {"type": "scroll", "percent": 1},
        {"type": "exit_intent", "fallbackSeconds": None},
        {"type": "exit_intent", "fallbackSeconds": 8},
        {"type": "inactivity", "seconds": 30},
        {"type": "click", "selector": "#signup, .cta > a[href^='/s']"},
    ],
)
def test_every_trigger_type_round_trips(api, trigger):
    response = api.post(LIST_URL, {"name": "Trigger", "trigger": trigger})
    assert response.status_code == 201, response.json()
    assert response.json()["trigger"] == trigger
    assert list(schema("Message").iter_errors(response.json())) == []


def test_keys_the_trigger_type_does_not_use_are_dropped(api):
    response = api.post(
        LIST_URL, {"name": "T", "trigger": {"type": "scroll", "percent": 40, "seconds": 5}}
    )
    assert response.json()["trigger"] == {"type": "scroll", "percent": 40}
    response = api.post(LIST_URL, {"name": "T", "trigger": {"type": "exit_intent"}})
    assert response.json()["trigger"] == {"type": "exit_intent", "fallbackSeconds": None}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"trigger": "delay"}, "trigger"),
        ({"trigger": {"type": "hover"}}, "trigger.type"),
        ({"trigger": {"type": ["delay"]}}, "trigger.type"),
        ({"trigger": {"type": "delay"}}, "trigger.seconds"),
        ({"trigger": {"type": "delay", "seconds": 0}}, "trigger.seconds"),
        ({"trigger": {"type": "delay", "seconds": 601}}, "trigger.seconds"),
        ({"trigger": {"type": "delay", "seconds": "5"}}, "trigger.seconds"),
        ({"trigger": {"type": "delay", "seconds": 2.5}}, "trigger.seconds"),
        ({"trigger": {"type": "delay", "seconds": True}}, "trigger.seconds"),
        ({"trigger": {"type": "page_load", "seconds": -1}}, "trigger.seconds"),
        ({"trigger": {"type": "scroll"}}, "trigger.percent"),
        ({"trigger": {"type": "scroll", "percent": 101}}, "trigger.percent"),
        ({"trigger": {"type": "exit_intent", "fallbackSeconds": 0}}, "trigger.fallbackSeconds"),
        ({"trigger": {"type": "exit_intent", "fallbackSeconds": ""}}, "trigger.fallbackSeconds"),
        ({"trigger": {"type": "click"}}, "trigger.selector"),
        ({"trigger": {"type": "click", "selector": "div >"}}, "trigger.selector"),
        ({"trigger": {"type": "click", "selector": "  "}}, "trigger.selector"),
        ({"trigger": {"type": "click", "selector": "#" + "a" * 200}}, "trigger.selector"),
        ({"trigger": {"type": "click", "selector": "#a\u0000"}}, "trigger.selector"),
        ({"trigger": {"type": "page_load", "selector": ""}}, "trigger.selector"),
        ({"trigger": {"type": "delay", "seconds": 5, "colour": "red"}}, "trigger.colour"),
        ({"audience": {"attribute": "device"}}, "audience"),
        ({"audience": ["device"]}, "audience[0]"),
        ({"audience": [{"operator": "is", "value": "x"}]}, "audience[0].attribute"),
        ({"audience": [{"attribute": "shoe_size", "value": "44"}]}, "audience[0].attribute"),
        ({"audience": [{"attribute": ["device"], "value": "phone"}]}, "audience[0].attribute"),
        ({"audience": [{"attribute": "device", "operator": "like", "value": "phone"}]},
         "audience[0].operator"),
        ({"audience": [{"attribute": "device", "operator": None, "value": "phone"}]},
         "audience[0].operator"),
        ({"audience": [{"attribute": "device", "value": "phone"},
                       {"attribute": "device", "operator": "contains", "value": "p"}]},
         "audience[1].operator"),
        ({"audience": [{"attribute": "sessions", "operator": "is", "value": 2}]},
         "audience[0].operator"),
        ({"audience": [{"attribute": "device", "value": "watch"}]}, "audience[0].value"),
        ({"audience": [{"attribute": "device"}]}, "audience[0].value"),
        ({"audience": [{"attribute": "utm_source", "value": "  "}]}, "audience[0].value"),
        ({"audience": [{"attribute": "utm_source", "value": 3}]}, "audience[0].value"),
        ({"audience": [{"attribute": "utm_source", "value": "x" * 201}]}, "audience[0].value"),
        ({"audience": [{"attribute": "utm_source", "value": "a\u0000"}]}, "audience[0].value"),
        ({"audience": [{"attribute": "sessions", "operator": "gte", "value": 0}]},
         "audience[0].value"),
        ({"audience": [{"attribute": "sessions", "operator": "gte", "value": 10_001}]},
         "audience[0].value"),
        ({"audience": [{"attribute": "sessions", "operator": "gte", "value": True}]},
         "audience[0].value"),
        ({"audience": [{"attribute": "sessions", "operator": "gte", "value": 1.5}]},
         "audience[0].value"),
        ({"audience": [{"attribute": "referrer", "value": "https://"}]}, "audience[0].value"),
        ({"audience": [{"attribute": "device", "value": "phone", "x": 1}]}, "audience[0].x"),
        ({"audience": [{"attribute": "device", "value": "phone"}] * 11}, "audience"),
    ],
)  # fmt: skip
def test_bad_triggers_and_audiences_are_a_400_naming_the_field(api, body, field):
    response = api.post(LIST_URL, {"name": "Bad", **body})
    assert response.status_code == 400, response.json()
    assert response.json()["field"] == field
    assert response.json()["message"]
    assert not AnonymousMessage.objects.exists()


def test_the_error_explains_the_allowed_operators(api):
    response = api.post(
        LIST_URL,
        {
            "name": "Bad",
            "audience": [{"attribute": "utm_medium", "operator": "is_not", "value": "x"}],
        },
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid",
        "message": "“utm_medium” takes the operators is, contains.",
        "field": "audience[0].operator",
    }


def test_a_patch_merges_the_trigger_key_by_key(api, workspace):
    message = AnonymousMessageFactory(workspace=workspace, trigger={"type": "delay", "seconds": 5})

    response = api.patch(url(message.pk), {"trigger": {"seconds": 9}})
    assert response.status_code == 200, response.json()
    assert response.json()["trigger"] == {"type": "delay", "seconds": 9}

    response = api.patch(url(message.pk), {"trigger": {"type": "scroll"}})
    assert response.status_code == 400
    assert response.json()["field"] == "trigger.percent"

    response = api.patch(url(message.pk), {"trigger": {"type": "scroll", "percent": 30}})
    assert response.json()["trigger"] == {"type": "scroll", "percent": 30}
    message.refresh_from_db()
    assert message.trigger == {"type": "scroll", "percent": 30}

    response = api.patch(url(message.pk), {"trigger": None})
    assert response.json()["trigger"] == {"type": "page_load"}


def test_a_patch_replaces_the_audience_and_leaves_it_when_omitted(api, workspace):
    message = AnonymousMessageFactory(
        workspace=workspace, audience=[{"attribute": "device", "operator": "is", "value": "phone"}]
    )
    assert api.patch(url(message.pk), {"name": "Renamed"}).json()["audience"] == [
        {"attribute": "device", "operator": "is", "value": "phone"}
    ]
    replaced = api.patch(url(message.pk), {"audience": [{"attribute": "visitor", "value": "new"}]})
    assert replaced.json()["audience"] == [
        {"attribute": "visitor", "operator": "is", "value": "new"}
    ]
    assert api.patch(url(message.pk), {"audience": None}).json()["audience"] == []
    message.refresh_from_db()
    assert message.audience == []


def test_a_bad_patch_changes_nothing(api, workspace):
    message = AnonymousMessageFactory(
        workspace=workspace,
        name="Kept",
        trigger={"type": "delay", "seconds": 5},
        audience=[{"attribute": "device", "operator": "is", "value": "phone"}],
    )
    response = api.patch(
        url(message.pk),
        {"name": "Changed", "trigger": {"seconds": 9}, "audience": [{"attribute": "device"}]},
    )
    assert response.status_code == 400
    message.refresh_from_db()
    assert (message.name, message.trigger, message.audience) == (
        "Kept",
        {"type": "delay", "seconds": 5},
        [{"attribute": "device", "operator": "is", "value": "phone"}],
    )


def test_a_live_message_audience_change_reaches_delivery(api, client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    api.patch(url(message.pk), {"audience": [{"attribute": "device", "value": "phone"}]})
    answer = client.get(
        "/api/v1/delivery",
        {"writeKey": workspace.write_key, "anonymousId": "a-1", "url": "/"},
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    )
    assert answer.json()["messages"] == []


def test_another_workspaces_message_is_a_404(api):
    other = AnonymousMessageFactory(workspace=WorkspaceFactory())
    response = api.patch(url(other.pk), {"audience": []})
    assert response.status_code == 404
    other.refresh_from_db()


def test_a_draft_whose_stored_audience_or_trigger_is_wrong_is_not_ready(api, workspace):
    """Stored by other means than the API (e.g. an older release, or the database)."""
    draft = AnonymousMessageFactory(
        workspace=workspace,
        trigger={"type": "delay", "seconds": 0},
        audience=[{"attribute": "device", "operator": "is", "value": "watch"}],
    )
    response = api.post(f"{url(draft.pk)}/launch")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "not_ready"
    assert body["problems"] == [
        "Display trigger: Enter seconds from 1 to 600.",
        "Audience condition 1: Use one of desktop, tablet, phone.",
    ]
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_the_input_schemas_refuse_what_the_api_refuses():
    for name in ("MessageInput", "MessagePatch"):
        validator = schema(name)
        assert list(validator.iter_errors({"name": "x", "trigger": None, "audience": None})) == []
        assert list(validator.iter_errors({"name": "x", "trigger": {"type": "hover"}}))
        assert list(validator.iter_errors({"name": "x", "trigger": {"seconds": 0}}))
        assert list(validator.iter_errors({"name": "x", "trigger": {"type": "click", "x": 1}}))
        assert list(validator.iter_errors({"name": "x", "audience": [{"attribute": "device"}]}))
        assert list(
            validator.iter_errors({"name": "x", "audience": [{"attribute": "a", "value": "b"}]})
        )
        too_many = [{"attribute": "device", "value": "phone"}] * 11
        assert list(validator.iter_errors({"name": "x", "audience": too_many}))
