"""How the tracking API reads request bodies: encodings, framing, compression, error texts.

Issue 10: invalid UTF-8 (encoded surrogates), chunked bodies, bytes after the gzip data, and
no exception text in any answer.
"""

import gzip
import io
import json
import logging
import zlib

import pytest
from django.db import connection

from delivery.models import Event
from delivery.tracking.parsing import MAX_BATCH_BYTES, TrackingError, decompress, load_body
from tests.delivery.tracking_helpers import database_down, send, track
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


# --- Invalid UTF-8 ----------------------------------------------------------------------------

# "\ud800" as CESU-8/WTF-8 bytes: Python's json.loads(bytes) decodes them with surrogatepass.
SURROGATE_BYTES = b"\xed\xa0\x80"


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("track", b'{"anonymousId": "a", "event": "x' + SURROGATE_BYTES + b'"}'),
        ("t", b'{"anonymousId": "a", "event": "x", "properties": {"' + SURROGATE_BYTES + b'": 1}}'),
        ("page", b'{"anonymousId": "a", "name": "' + SURROGATE_BYTES + b'"}'),
        ("identify", b'{"userId": "u", "traits": {"name": "' + SURROGATE_BYTES + b'"}}'),
        (
            "batch",
            b'{"batch": [{"type": "track", "anonymousId": "a", "event": "'
            + SURROGATE_BYTES
            + b'"}]}',
        ),
    ],
)
def test_surrogates_encoded_as_utf8_bytes_are_refused_with_400_on_every_route(
    client, workspace, route, body
):
    response = send(client, route, body, write_key=workspace.write_key)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": "' + SURROGATE_BYTES + b'"}',
        b'{"a": "\xed\xb0\x80"}',  # a low surrogate
        b'{"a": "\xc3"}',  # truncated sequence
        b'{"a": "\xc0\xaf"}',  # overlong encoding
        '{"a": "'.encode("utf-16-le") + b"\x00\xd8" + '"}'.encode("utf-16-le"),  # lone, UTF-16
    ],
)
def test_load_body_decodes_utf8_strictly(body):
    with pytest.raises(TrackingError) as raised:
        load_body(body)
    assert (raised.value.status, raised.value.code) == (400, "invalid_json")


def test_a_utf8_byte_order_mark_is_still_accepted():
    assert load_body(b"\xef\xbb\xbf" + b'{"a": "\xc3\xa9"}') == {"a": "é"}


# --- gzip framing -----------------------------------------------------------------------------


def test_bytes_after_the_gzip_data_are_refused_with_400(client, workspace):
    body = gzip.compress(json.dumps(track()).encode()) + b"garbage"
    response = send(
        client, "track", body, write_key=workspace.write_key, HTTP_CONTENT_ENCODING="gzip"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_encoding"
    assert not Event.objects.exists()


def test_bytes_after_deflate_data_are_refused():
    with pytest.raises(TrackingError) as raised:
        decompress(zlib.compress(b"{}") + b"\x00", content_encoding="deflate")
    assert (raised.value.status, raised.value.code) == (400, "invalid_encoding")


def test_concatenated_gzip_members_are_one_body_as_gzip_defines_it():
    first, second = b'{"anonymousId": "a",', b' "event": "x"}'
    body = gzip.compress(first) + gzip.compress(second)
    assert decompress(body, content_encoding="gzip") == first + second


def test_concatenated_gzip_members_share_the_500_kb_limit():
    half = b" " * (MAX_BATCH_BYTES // 2 + 1)
    with pytest.raises(TrackingError) as raised:
        decompress(gzip.compress(half) + gzip.compress(half), content_encoding="gzip")
    assert raised.value.status == 413


# --- Chunked bodies (no Content-Length) --------------------------------------------------------


def send_chunked(client, route, body: bytes, *, write_key, terminated=True, **extra):
    """POST as a server such as gunicorn presents a `Transfer-Encoding: chunked` request: no
    CONTENT_LENGTH, the de-chunked body readable to its end from wsgi.input (terminated), or
    not (the test client's own stream, which refuses reads past its end)."""
    if terminated:
        extra["wsgi.input"] = io.BytesIO(body)
        extra["wsgi.input_terminated"] = True
    return send(
        client,
        route,
        body,
        write_key=write_key,
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **extra,
    )


def test_a_chunked_body_is_read_and_stored(client, workspace):
    body = json.dumps({"batch": [track(type="track", messageId="m-1")]}).encode()

    response = send_chunked(client, "batch", body, write_key=workspace.write_key)

    assert response.status_code == 200, response.content
    assert Event.objects.get().message_id == "m-1"


def test_a_chunked_gzip_body_is_read_and_stored(client, workspace):
    body = gzip.compress(json.dumps(track(messageId="m-1")).encode())

    response = send_chunked(
        client, "track", body, write_key=workspace.write_key, HTTP_CONTENT_ENCODING="gzip"
    )

    assert response.status_code == 200, response.content
    assert Event.objects.get().message_id == "m-1"


def test_a_chunked_body_over_500_kb_is_refused_with_413(client, workspace):
    body = json.dumps(track(properties={"blob": "x" * MAX_BATCH_BYTES})).encode()

    response = send_chunked(client, "track", body, write_key=workspace.write_key)

    assert response.status_code == 413
    assert response.json()["error"] == "batch_too_large"


def test_a_body_without_length_from_a_server_that_cannot_end_it_is_refused_with_411(
    client, workspace
):
    # Reading such a stream to its end could wait for the client forever: ask for a length.
    body = json.dumps(track()).encode()

    response = send_chunked(client, "track", body, write_key=workspace.write_key, terminated=False)

    assert response.status_code == 411
    assert response.json()["error"] == "length_required"


# --- No exception text in answers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "leak"),
    [
        (b'{"anonymousId": "a",, }', {}, "Expecting"),
        (b'{"a": "\xff"}', {}, "codec"),
        (b"not gzip at all", {"HTTP_CONTENT_ENCODING": "gzip"}, "Error -3"),
    ],
)
def test_refusals_explain_without_python_exception_text(client, workspace, body, headers, leak):
    response = send(client, "track", body, write_key=workspace.write_key, **headers)

    assert response.status_code == 400
    assert leak not in response.content.decode()


@pytest.fixture
def database_refusing_events_named_refused():
    """A trigger that makes PostgreSQL itself refuse an event with a data exception, whose
    text stands for what database errors reveal (tables, values, constraints)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL triggers")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_event() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'secret internals of delivery_event' USING ERRCODE = '22023'; "
            "END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_event BEFORE INSERT ON delivery_event FOR EACH ROW "
            "WHEN (NEW.name = 'Refused') EXECUTE FUNCTION refuse_event()"
        )


def test_a_value_the_database_refuses_is_a_400_without_the_database_text(
    client, workspace, database_refusing_events_named_refused, caplog
):
    with caplog.at_level(logging.WARNING, logger="delivery.tracking_views"):
        response = send(client, "track", track(event="Refused"), write_key=workspace.write_key)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "secret internals" not in response.content.decode()
    assert "secret internals" in caplog.text  # logged for the operator
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_database_down_answers_503_with_retry_after_and_no_database_text(client, caplog):
    workspace = WorkspaceFactory()
    with database_down(), caplog.at_level(logging.ERROR, logger="delivery.tracking_views"):
        response = send(client, "track", track(), write_key=workspace.write_key)

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.json() == {
        "error": "unavailable",
        "message": "The event store is unavailable. Nothing was stored; retry later.",
    }
    assert "OperationalError" in caplog.text  # the detail is in the server's log
