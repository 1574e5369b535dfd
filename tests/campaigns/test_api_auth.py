"""App API: authorisation by App API key, plan gating, methods, CSRF."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from anonmsg.models import Plan
from campaigns.models import AnonymousMessage
from tests.campaigns.test_api_messages import LIST_URL, Api
from tests.factories import AnonymousMessageFactory, WorkspaceFactory

ENDPOINTS = [
    ("get", LIST_URL),
    ("post", LIST_URL),
    ("get", LIST_URL + "/{id}"),
    ("patch", LIST_URL + "/{id}"),
    ("post", LIST_URL + "/{id}/launch"),
    ("post", LIST_URL + "/{id}/pause"),
    ("post", LIST_URL + "/{id}/resume"),
    ("post", LIST_URL + "/{id}/end"),
]


def call(client, method, path, headers):
    if method in ("get", "head"):
        return getattr(client, method)(path, headers=headers)
    return getattr(client, method)(
        path, json.dumps({"name": "x"}), content_type="application/json", headers=headers
    )


@pytest.fixture
def message(workspace):
    return AnonymousMessageFactory(workspace=workspace, name="Secret plans")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer sk_not-a-real-key", "Basic c2tfeDo=", "sk_missing-scheme"],
)
def test_every_endpoint_needs_a_valid_app_api_key(
    client, workspace, message, method, path, authorization
):
    workspace.rotate_api_key()
    headers = {"Authorization": authorization} if authorization else {}

    response = call(client, method, path.format(id=message.id), headers)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert "Secret plans" not in response.content.decode()
    assert AnonymousMessage.objects.count() == 1


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic abc", "sk_without_scheme"]
)
def test_a_request_without_a_bearer_key_gets_a_401_explaining_how_to_send_it(client, db, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get(LIST_URL, headers=headers)
    assert response.status_code == 401
    assert response.json()["message"] == (
        "Send the workspace's App API key as `Authorization: Bearer <key>`."
    )


@pytest.mark.parametrize("has_api_key", [False, True])
def test_the_write_key_is_not_an_app_api_key(client, workspace, has_api_key):
    if has_api_key:
        workspace.rotate_api_key()
    response = client.get(LIST_URL, headers={"Authorization": f"Bearer {workspace.write_key}"})

    assert response.status_code == 401


def test_a_rotated_key_stops_working_at_once_and_the_new_one_works(client, workspace):
    old_key = workspace.rotate_api_key()
    assert Api(client, old_key).get(LIST_URL).status_code == 200

    new_key = workspace.rotate_api_key()

    assert Api(client, old_key).get(LIST_URL).status_code == 401
    assert Api(client, new_key).get(LIST_URL).status_code == 200


def test_rotating_the_key_on_the_settings_page_stops_the_old_one_with_a_clear_error(
    owner_client, workspace
):
    old_key = workspace.rotate_api_key()
    assert Api(owner_client, old_key).get(LIST_URL).status_code == 200

    response = owner_client.post(reverse("settings-rotate-api-key", args=[workspace.pk]))
    new_key = response.context["new_api_key"]

    rejected = Api(owner_client, old_key).get(LIST_URL)
    assert rejected.status_code == 401
    assert rejected.json() == {
        "error": "unauthorized",
        "message": "This App API key is not valid (it may have been rotated).",
    }
    assert Api(owner_client, new_key).get(LIST_URL).status_code == 200


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_free_workspace_gets_a_403_with_a_clear_json_error(client, db, method, path):
    free = WorkspaceFactory(plan=Plan.FREE)
    message = AnonymousMessageFactory(workspace=free)
    key = free.rotate_api_key()

    response = call(client, method, path.format(id=message.id), {"Authorization": f"Bearer {key}"})

    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "plan_required"
    assert "premium and enterprise" in body["message"]
    assert AnonymousMessage.objects.count() == 1


@pytest.mark.parametrize("plan", [Plan.PREMIUM, Plan.ENTERPRISE])
def test_premium_and_enterprise_workspaces_use_the_api(client, db, plan):
    key = WorkspaceFactory(plan=plan).rotate_api_key()

    assert Api(client, key).get(LIST_URL).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", LIST_URL, "GET, POST, HEAD"),
        ("put", LIST_URL, "GET, POST, HEAD"),
        ("delete", LIST_URL + "/{id}", "GET, PATCH, HEAD"),
        ("put", LIST_URL + "/{id}", "GET, PATCH, HEAD"),
        ("post", LIST_URL + "/{id}", "GET, PATCH, HEAD"),
        ("patch", LIST_URL + "/{id}/launch", "POST"),
    ],
)
def test_a_wrong_method_is_a_json_405_listing_the_allowed_ones(
    client, workspace, message, method, path, allowed
):
    key = workspace.rotate_api_key()

    response = call(client, method, path.format(id=message.id), {"Authorization": f"Bearer {key}"})

    assert response.status_code == 405
    assert response["Allow"] == allowed
    assert response.json()["error"] == "method_not_allowed"
    assert AnonymousMessage.objects.filter(pk=message.pk, name="Secret plans").exists()


@pytest.mark.parametrize("path", [LIST_URL, LIST_URL + "/{id}"])
def test_head_is_answered_like_get_and_changes_nothing(client, workspace, message, path):
    key = workspace.rotate_api_key()

    response = call(client, "head", path.format(id=message.id), {"Authorization": f"Bearer {key}"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert AnonymousMessage.objects.filter(pk=message.pk, name="Secret plans").exists()


def test_the_api_needs_no_csrf_token(workspace):
    client = Client(enforce_csrf_checks=True)
    key = workspace.rotate_api_key()

    response = client.post(
        LIST_URL,
        json.dumps({"name": "From a script"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 201


def test_a_logged_in_dashboard_session_is_not_an_api_credential(owner_client, workspace):
    response = owner_client.get(LIST_URL)

    assert response.status_code == 401


def test_responses_are_json(client, workspace, message):
    key = workspace.rotate_api_key()

    response = Api(client, key).get(f"{LIST_URL}/{message.id}")

    assert response["Content-Type"] == "application/json"
