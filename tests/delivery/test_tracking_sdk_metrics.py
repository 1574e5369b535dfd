"""`POST /v1/m`: the metrics analytics.js sends about itself are answered like a tracking
route (CORS, preflight, JSON 405) and not stored."""

import json

import pytest

from delivery.models import Event

pytestmark = pytest.mark.django_db


def test_sdk_metrics_are_answered_with_an_empty_object_and_not_stored(client):
    body = {"series": [{"type": "Counter", "metric": "analytics_js.invoke", "value": 1}]}
    response = client.post("/v1/m", json.dumps(body), content_type="text/plain")

    assert response.status_code == 200
    assert response.json() == {}
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert Event.objects.count() == 0


def test_sdk_metrics_preflight_and_other_methods_answer_like_the_tracking_routes(client):
    preflight = client.options("/v1/m", HTTP_ORIGIN="https://shop.example")
    tracking_preflight = client.options("/v1/t", HTTP_ORIGIN="https://shop.example")
    headers = (
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Max-Age",
    )
    assert preflight.status_code == tracking_preflight.status_code == 204
    assert [preflight[h] for h in headers] == [tracking_preflight[h] for h in headers]

    refused = client.get("/v1/m")
    assert refused.status_code == 405
    assert refused["Allow"] == "POST, OPTIONS"
    assert refused.json()["error"] == "method_not_allowed"
    assert refused["Access-Control-Allow-Origin"] == "*"
