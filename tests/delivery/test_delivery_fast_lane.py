"""The delivery API's short middleware path (delivery/sdk_api/fast_lane.py): what the full
stack would have done for it still happens, and the dashboard keeps the full stack."""

import pytest

from tests.delivery.test_delivery_cache import URL, ids, launched

pytestmark = pytest.mark.django_db


def ask(client, workspace, **extra):
    query = {"writeKey": workspace.write_key, "anonymousId": "a-1", "url": "/pricing"}
    return client.get(URL, query, **extra)


def test_the_answer_keeps_the_security_headers_and_gets_the_strictest_policy(client, workspace):
    message = launched(workspace)
    response = ask(client, workspace)
    assert response.status_code == 200
    assert ids(response.json()) == [message.pk]
    # SecurityMiddleware still runs before the fast lane.
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    # A JSON document loads nothing and is framed by no one.
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies  # no session, no CSRF cookie


def test_the_dashboard_still_goes_through_the_whole_stack(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "default-src 'none'" not in response["Content-Security-Policy"]
    assert "csrftoken" in response.cookies


def test_a_host_that_is_not_allowed_is_refused_as_on_any_other_path(client, workspace):
    response = ask(client, workspace, HTTP_HOST="evil.example.com")
    assert response.status_code == 400


def test_other_methods_and_the_preflight_are_answered_as_before(client, workspace):
    preflight = client.options(URL, HTTP_ORIGIN="https://shop.example.com")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    posted = client.post(URL, {"writeKey": workspace.write_key})
    assert posted.status_code == 405
    assert posted.json()["error"] == "method_not_allowed"


def test_bad_input_is_still_a_json_400_naming_the_field(client, workspace):
    response = client.get(URL, {"writeKey": workspace.write_key, "url": "/"})
    assert response.status_code == 400
    assert response.json()["field"] == "anonymousId"


def test_a_bug_in_the_view_is_django_s_500_not_a_crash(client, workspace, monkeypatch):
    from delivery.sdk_api import fast_lane

    def broken(request):
        raise RuntimeError("boom")

    monkeypatch.setitem(fast_lane.VIEWS, URL, broken)
    client.raise_request_exception = False
    response = ask(client, workspace)
    assert response.status_code == 500
