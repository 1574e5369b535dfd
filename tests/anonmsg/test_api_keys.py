"""The App API key: Bearer authorisation, rotation, and the plan gate of `api_key_required`."""

import pytest
from django.urls import reverse

from anonmsg.models import Plan

pytestmark = pytest.mark.urls("tests.anonmsg.urls_api")


def call_api(client, key: str | None):
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return client.get("/test-api/whoami", headers=headers)


def test_the_api_accepts_the_current_key(client, workspace):
    key = workspace.rotate_api_key()
    response = call_api(client, key)
    assert response.status_code == 200
    assert response.json() == {"workspace": workspace.pk}


def test_after_rotation_the_old_key_stops_working_and_the_new_one_works(owner_client, workspace):
    old_key = workspace.rotate_api_key()
    assert call_api(owner_client, old_key).status_code == 200

    response = owner_client.post(reverse("settings-rotate-api-key", args=[workspace.pk]))
    new_key = response.context["new_api_key"]

    rejected = call_api(owner_client, old_key)
    assert rejected.status_code == 401
    assert rejected.json() == {
        "error": "unauthorized",
        "message": "This App API key is not valid (it may have been rotated).",
    }
    assert call_api(owner_client, new_key).json() == {"workspace": workspace.pk}


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic abc", "sk_without_scheme"]
)
def test_a_request_without_a_bearer_key_gets_a_401_explaining_how_to_send_it(client, db, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/test-api/whoami", headers=headers)
    assert response.status_code == 401
    assert response.json()["message"] == (
        "Send the workspace's App API key as `Authorization: Bearer <key>`."
    )


def test_the_write_key_is_not_an_app_api_key(client, workspace):
    workspace.rotate_api_key()
    assert call_api(client, workspace.write_key).status_code == 401


def test_a_free_workspace_gets_a_403_plan_error(client, workspace):
    workspace.plan = Plan.FREE
    workspace.save()
    key = workspace.rotate_api_key()
    response = call_api(client, key)
    assert response.status_code == 403
    assert response.json()["error"] == "plan_required"
    assert "only available on our premium and enterprise plans" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "The request body is not valid JSON"),
        (b"\xff\xfe", "The request body is not valid JSON"),
        (b"[" * 50_000, "The request body is nested too deeply."),
        (b"1" * 1_000_001, "The request body is larger than 1000000 bytes."),
    ],
)
def test_a_malformed_json_body_is_a_400_naming_the_problem(client, workspace, body, message):
    key = workspace.rotate_api_key()
    response = client.post(
        "/test-api/echo",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_a_json_body_reaches_the_view(client, workspace):
    key = workspace.rotate_api_key()
    response = client.post(
        "/test-api/echo",
        b'{"name": "Welcome"}',
        content_type="text/plain",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.json() == {"received": {"name": "Welcome"}}
