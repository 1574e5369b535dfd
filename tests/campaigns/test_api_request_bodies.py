"""App API: how a request body is read (anonmsg.api.parse_json_body): JSON whatever the
content type, and a malformed body is a 400 naming the problem that writes nothing."""

import pytest

from campaigns.models import AnonymousMessage
from tests.campaigns.test_api_messages import LIST_URL


@pytest.fixture
def headers(workspace):
    return {"Authorization": f"Bearer {workspace.rotate_api_key()}"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "The request body is not valid JSON"),
        (b"\xff\xfe", "The request body is not valid JSON"),
        (b"[" * 50_000, "The request body is nested too deeply."),
        (b"1" * 1_000_001, "The request body is larger than 1000000 bytes."),
    ],
)
def test_a_malformed_json_body_is_a_400_naming_the_problem(client, headers, body, message):
    response = client.post(LIST_URL, body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert not AnonymousMessage.objects.exists()


def test_a_json_body_sent_as_text_plain_is_read(client, headers):
    response = client.post(
        LIST_URL, b'{"name": "Welcome"}', content_type="text/plain", headers=headers
    )
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Welcome"
