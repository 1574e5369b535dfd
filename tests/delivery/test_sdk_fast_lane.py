"""The SDK's short middleware path (delivery/fast_lane.py): the delivery and tracking APIs skip
the dashboard's middleware, what that middleware would have done for them still happens, and
the dashboard keeps the full stack."""

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import resolve

from delivery import fast_lane
from delivery.models import Event
from tests.delivery.test_delivery_cache import URL, ids, launched
from tests.delivery.tracking_helpers import send

pytestmark = pytest.mark.django_db

STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'"
TRACKING_PATHS = [path for path in fast_lane.VIEWS if path.startswith("/v1/")]


def ask(client, workspace, **extra):
    query = {"writeKey": workspace.write_key, "anonymousId": "a-1", "url": "/pricing"}
    return client.get(URL, query, **extra)


def assert_fast_lane_headers(response):
    # SecurityMiddleware still runs before the fast lane.
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    # A JSON document loads nothing and is framed by no one.
    assert response["Content-Security-Policy"] == STRICT_POLICY
    assert response["X-Frame-Options"] == "DENY"
    # As CommonMiddleware sets it: gunicorn would otherwise send the answer in chunks.
    assert response["Content-Length"] == str(len(response.content))
    assert not response.cookies  # no session, no CSRF cookie


# --- The short path is taken, and only for the SDK's paths ----------------------------------


class Tripwire:
    """A middleware placed after the fast lane: it answers 418 to every request it sees."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return HttpResponse("went down the full stack", status=418)


@pytest.fixture
def tripwired(settings):
    """A client whose stack has the tripwire right after the fast lane."""
    lane = settings.MIDDLEWARE.index("delivery.fast_lane.SdkFastLaneMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[: lane + 1],
        f"{__name__}.Tripwire",
        *settings.MIDDLEWARE[lane + 1 :],
    ]
    return Client()


def test_the_sdk_paths_skip_the_rest_of_the_stack(tripwired, workspace):
    assert ask(tripwired, workspace).status_code == 200
    assert (
        send(
            tripwired, "t", {"anonymousId": "a-1", "event": "E"}, write_key=workspace.write_key
        ).status_code
        == 200
    )
    assert tripwired.post("/v1/m", "{}", content_type="text/plain").status_code == 200
    for path in TRACKING_PATHS:
        assert tripwired.options(path).status_code == 204, path
    assert Event.objects.count() == 1


def test_other_paths_still_go_down_the_whole_stack(tripwired):
    for path in ("/accounts/login/", "/v1/track/", "/v1/tracks", "/api/v1/anonymous-messages"):
        assert tripwired.get(path).status_code == 418, path


def test_each_path_goes_to_the_view_the_urlconf_routes_it_to():
    assert len(TRACKING_PATHS) == 15  # 7 calls, their one-letter forms, the SDK's metrics
    for path, view in fast_lane.VIEWS.items():
        match = resolve(path)
        assert match.func == getattr(view, "func", view), path
        assert match.kwargs == getattr(view, "keywords", {}), path


# --- Delivery -------------------------------------------------------------------------------


def test_the_answer_keeps_the_security_headers_and_gets_the_strictest_policy(client, workspace):
    message = launched(workspace)
    response = ask(client, workspace)
    assert response.status_code == 200
    assert ids(response.json()) == [message.pk]
    assert_fast_lane_headers(response)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "no-store"


def test_the_dashboard_still_goes_through_the_whole_stack(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "default-src 'none'" not in response["Content-Security-Policy"]
    assert "csrftoken" in response.cookies


@pytest.mark.parametrize("path", [URL, "/v1/track", "/v1/p"])
def test_a_host_that_is_not_allowed_is_refused_as_on_any_other_path(client, workspace, path):
    response = client.post(path, "{}", content_type="text/plain", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert_fast_lane_headers(response)
    assert Event.objects.count() == 0


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
    def broken(request):
        raise RuntimeError("boom")

    monkeypatch.setitem(fast_lane.VIEWS, URL, broken)
    client.raise_request_exception = False
    response = ask(client, workspace)
    assert response.status_code == 500
    assert response["Content-Security-Policy"] == STRICT_POLICY


# --- Tracking -------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["track", "t", "page", "p", "batch"])
def test_a_tracking_call_is_stored_and_answered_with_the_lane_s_headers(client, workspace, route):
    call = {"anonymousId": "a-1", "event": "Signed Up", "name": "Home"}
    if route in ("track", "t"):
        call["type"] = "track"
    body = {"batch": [{**call, "type": "track"}]} if route == "batch" else call
    response = send(client, route, body, write_key=workspace.write_key)
    assert response.status_code == 200, response.content
    assert response.content == b'{"success": true}'
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert_fast_lane_headers(response)
    assert Event.objects.count() == 1


@pytest.mark.parametrize("path", TRACKING_PATHS)
def test_the_preflight_and_the_json_405_are_answered_as_before(client, path):
    preflight = client.options(
        path,
        HTTP_ORIGIN="https://shop.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert preflight["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert preflight["Access-Control-Allow-Headers"] == (
        "Content-Type, Authorization, Content-Encoding"
    )
    assert preflight["Access-Control-Max-Age"] == "86400"
    assert_fast_lane_headers(preflight)

    got = client.get(path)
    assert got.status_code == 405
    assert got["Allow"] == "POST, OPTIONS"
    assert got["Access-Control-Allow-Origin"] == "*"
    assert got.json() == {
        "error": "method_not_allowed",
        "message": "Send tracking calls with POST.",
    }
    assert_fast_lane_headers(got)


def test_a_refused_tracking_call_keeps_its_json_error_and_cors(client, workspace):
    response = send(client, "track", {"event": "No one"}, write_key=workspace.write_key)
    assert response.status_code == 400
    assert response.json()["field"] == "anonymousId"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert_fast_lane_headers(response)
    unknown = send(client, "t", {"anonymousId": "a-1", "event": "E"}, write_key="wk_unknown")
    assert unknown.status_code == 401
    assert unknown["Access-Control-Allow-Origin"] == "*"
