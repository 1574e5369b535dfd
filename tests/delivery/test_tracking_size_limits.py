"""The tracking API's size limits: 32 KB per event, measured as compact UTF-8 JSON whatever
the route or the client's formatting, and 500 KB per body, refused before parsing."""

import json

import pytest

from delivery.tracking.parsing import MAX_EVENT_BYTES
from tests.delivery.tracking_helpers import assert_refused, send, track

pytestmark = pytest.mark.django_db


def compact_size(event: dict) -> int:
    return len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode())


def event_of_size(size: int, **fields) -> dict:
    """A track call whose compact UTF-8 JSON is exactly `size` bytes."""
    event = track(**fields, properties={"blob": ""})
    event["properties"]["blob"] = "x" * (size - compact_size(event))
    assert compact_size(event) == size
    return event


@pytest.mark.parametrize(("size", "status"), [(MAX_EVENT_BYTES, 200), (MAX_EVENT_BYTES + 1, 413)])
def test_a_single_call_is_measured_as_compact_json_without_its_write_key(
    client, workspace, size, status
):
    body = {**event_of_size(size), "writeKey": workspace.write_key}
    response = send(client, "track", body, content_type="text/plain")

    assert response.status_code == status, response.content
    if status == 413:
        assert response.json()["error"] == "event_too_large"
        assert "field" not in response.json()


@pytest.mark.parametrize(("size", "status"), [(MAX_EVENT_BYTES, 200), (MAX_EVENT_BYTES + 1, 413)])
def test_an_event_of_a_batch_is_measured_as_compact_json(client, workspace, size, status):
    body = {"batch": [track(type="track"), event_of_size(size, type="track")]}
    response = send(client, "batch", body, write_key=workspace.write_key)

    assert response.status_code == status, response.content
    if status == 413:
        assert response.json() | {"message": ""} == {
            "error": "event_too_large",
            "message": "",
            "field": "batch[1]",
        }


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda body: json.dumps(body, indent=8), id="pretty-printed"),
        pytest.param(lambda body: json.dumps(body, ensure_ascii=True), id="escaped-non-ascii"),
    ],
)
@pytest.mark.parametrize("route", ["track", "batch"])
def test_client_formatting_does_not_decide_whether_an_event_fits(client, workspace, encode, route):
    properties = {f"key-{n}": "é" * 10 for n in range(700)}
    event = track(type="track", properties=properties)
    assert compact_size(event) <= MAX_EVENT_BYTES
    body = encode({"batch": [event]} if route == "batch" else event)
    assert len(body.encode()) > MAX_EVENT_BYTES

    response = send(client, route, body, write_key=workspace.write_key)
    assert response.status_code == 200, response.content


def test_a_single_call_body_over_500_kb_is_refused_before_parsing(client, workspace):
    body = json.dumps(track(), indent=500 * 1024)
    response = send(client, "track", body, write_key=workspace.write_key)
    assert_refused(response, 413, error="batch_too_large", field=None)
