"""The browser SDK file and the view serving it (the browser tests drive it in Chromium)."""

import gzip
import re

import esprima
import pytest
from django.conf import settings
from django.test import Client

from delivery.sdk_api.views import sdk_source

SDK = settings.BASE_DIR / "static" / "delivery" / "sdk.js"
URL = "/v1/analytics-js/snippet/wk_anykey/analytics.min.js"
GZIP_BUDGET = 10 * 1024


def source() -> str:
    return SDK.read_text()


def test_the_sdk_is_at_most_10_kb_gzipped(client):
    served = client.get(URL, HTTP_ACCEPT_ENCODING="gzip").content
    print(f"SDK: {len(SDK.read_bytes())} bytes, {len(served)} bytes minified and gzipped")
    assert len(served) <= GZIP_BUDGET


def test_the_served_script_is_the_source_without_its_comment_lines_and_indentation():
    served = sdk_source()
    assert len(served) < 0.85 * len(SDK.read_bytes())
    assert not re.search(rb"^\s*//", served, re.MULTILINE)  # the comment lines are gone…
    assert not re.search(rb"^[ \t]", served, re.MULTILINE)  # …and the indentation…
    assert b"anonymousInApp" in served and b"fresh" in served  # …its code is not
    # Token for token the same script: no string, template or regex literal was touched.
    assert _tokens(served.decode()) == _tokens(source())


def _tokens(text: str) -> list[tuple[str, str]]:
    return [(token.type, token.value) for token in esprima.tokenize(text)]


def _walk(node):
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif hasattr(node, "type") and hasattr(node, "__dict__"):
        yield node
        for value in vars(node).values():
            if isinstance(value, list) or hasattr(value, "type"):
                yield from _walk(value)


def test_the_sdk_is_plain_es2017_without_modules_or_dependencies():
    # esprima 4 parses up to ES2017 (no optional chaining, ??, optional catch binding,
    # async generators); it does accept object rest/spread (ES2018), checked separately.
    tree = esprima.parseScript(source())
    kinds = {node.type for node in _walk(tree)}
    assert "ImportDeclaration" not in kinds
    objects = [node for node in _walk(tree) if node.type in ("ObjectExpression", "ObjectPattern")]
    spread = [
        prop.type
        for node in objects
        for prop in node.properties
        if prop.type in ("SpreadElement", "RestElement")
    ]
    assert spread == [], "object spread/rest is ES2018"
    assert not re.search(r"\brequire\(|\bimport\(", source())


@pytest.mark.parametrize("newer_syntax", ["a?.b", "a ?? b", "try {} catch {}"])
def test_the_es2017_check_would_catch_newer_syntax(newer_syntax):
    with pytest.raises(esprima.Error):
        esprima.parseScript(newer_syntax)


def test_the_sdk_names_no_host_of_its_own():
    """The API base comes from the script's own src, never from a hard-coded host."""
    assert not re.search(r"https?://[a-z0-9]", source(), re.IGNORECASE)


def test_message_frames_are_sandboxed_without_same_origin():
    text = source()
    assert 'sandbox: "allow-scripts allow-popups"' in text
    assert "allow-same-origin" not in text
    assert "allow-top-navigation" not in text
    assert "frame.srcdoc =" in text


def test_the_script_is_served_as_javascript_for_any_write_key(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.content == sdk_source()
    assert response["Access-Control-Allow-Origin"] == "*"


def test_the_script_is_cached_briefly_and_revalidated_by_etag(client):
    response = client.get(URL)
    assert response["Cache-Control"] == "public, max-age=300"
    etag = response["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(URL, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_the_script_is_gzipped_when_the_browser_accepts_it(client):
    response = client.get(URL, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(response.content) == sdk_source()
    assert len(response.content) <= GZIP_BUDGET


def test_only_get_and_head_are_allowed_on_the_script(client):
    assert client.post(URL).status_code == 405
    head = client.head(URL)
    assert head.status_code == 200
    assert head["Content-Type"].startswith("text/javascript")


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("gzip;q=0, identity", False),
        ("*;q=1, gzip;q=0", False),
        ("identity", False),
        ("", False),
    ],
)
def test_gzip_is_sent_only_when_accepted(client, accept_encoding, gzipped):
    response = client.get(URL, HTTP_ACCEPT_ENCODING=accept_encoding)
    assert (response.get("Content-Encoding") == "gzip") is gzipped
    body = gzip.decompress(response.content) if gzipped else response.content
    assert body == sdk_source()


def test_each_encoding_has_its_own_etag(client):
    plain = client.get(URL)["ETag"]
    gzipped = client.get(URL, HTTP_ACCEPT_ENCODING="gzip")["ETag"]
    assert plain != gzipped
    assert client.get(URL, HTTP_IF_NONE_MATCH=plain).status_code == 304
    assert client.get(URL, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=plain).status_code == 200


@pytest.mark.parametrize("method", ["POST", "QUERY", "DELETE"])
def test_other_methods_on_the_script_get_a_405_not_the_csrf_page(method):
    # Found by fuzzing (issue 10, finding 12): CSRF refused them with a 403 first.
    response = Client(enforce_csrf_checks=True).generic(method, URL)
    assert response.status_code == 405
