"""Django admin: a message's trigger and audience are shown, validated as the App API
validates them, and stored in their one shape."""

import json

import pytest

from tests.campaigns.test_admin import admin_url, message_form
from tests.factories import AnonymousMessageFactory


def test_the_message_page_shows_trigger_and_audience(admin_client):
    message = AnonymousMessageFactory(
        trigger={"type": "delay", "seconds": 7},
        audience=[{"attribute": "device", "operator": "is", "value": "phone"}],
    )
    body = admin_client.get(admin_url("anonymousmessage", "change", message.pk)).content.decode()
    assert "Who and when" in body
    assert 'name="trigger"' in body and "&quot;seconds&quot;: 7" in body
    assert 'name="audience"' in body and "&quot;phone&quot;" in body


def test_staff_can_set_trigger_and_audience_stored_in_one_shape(admin_client):
    message = AnonymousMessageFactory()
    response = admin_client.post(
        admin_url("anonymousmessage", "change", message.pk),
        message_form(
            message,
            trigger=json.dumps({"type": "click", "selector": " #cta ", "seconds": 3}),
            audience=json.dumps([{"attribute": "referrer", "value": "https://www.Google.com/"}]),
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    message.refresh_from_db()
    assert message.trigger == {"type": "click", "selector": "#cta"}
    assert message.audience == [{"attribute": "referrer", "operator": "is", "value": "google.com"}]


def test_left_empty_they_mean_on_page_load_and_everyone(admin_client):
    message = AnonymousMessageFactory(trigger={"type": "delay", "seconds": 7})
    response = admin_client.post(
        admin_url("anonymousmessage", "change", message.pk), message_form(message)
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.trigger, message.audience) == ({"type": "page_load"}, [])


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"trigger": '{"type": "hover"}'}, "Unknown trigger type"),
        ({"trigger": '{"type": ["delay"]}'}, "Unknown trigger type"),
        ({"trigger": '{"type": "scroll", "percent": 0}'}, "from 1 to 100"),
        ({"trigger": '{"type": "click", "selector": "div >"}'}, "is not a CSS selector"),
        ({"audience": '[{"attribute": "device", "value": "watch"}]'},
         "Condition 1: Use one of desktop, tablet, phone."),
        ({"audience": '[{"attribute": {}, "value": "x"}]'}, "Condition 1: Unknown attribute"),
        ({"audience": '{"attribute": "device"}'}, "must be a list"),
    ],
)  # fmt: skip
def test_the_admin_refuses_what_the_api_refuses(admin_client, changes, error):
    message = AnonymousMessageFactory(name="Unchanged")
    response = admin_client.post(
        admin_url("anonymousmessage", "change", message.pk),
        message_form(message, name="Changed", **changes),
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    message.refresh_from_db()
    assert message.name == "Unchanged"
