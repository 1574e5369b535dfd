from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anonmsg.models import Plan
from metrics.models import Conversion
from metrics.rollups import roll_up
from tests.factories import AnonymousMessageFactory, MessageEventFactory, ProfileFactory


@pytest.fixture
def api_key(workspace):
    return workspace.rotate_api_key()


def get(client, message_id, key, **query):
    path = reverse("metrics-api", args=[message_id])
    return client.get(path, query, HTTP_AUTHORIZATION=f"Bearer {key}")


def test_metrics_endpoint_answers_the_documented_shape(client, message, api_key):
    when = timezone.now() - timedelta(hours=2)
    for n in range(4):
        MessageEventFactory(message=message, anonymous_id=f"a{n % 2}", timestamp=when)
    MessageEventFactory(message=message, timestamp=when, click=True, action_name="signup")
    MessageEventFactory(message=message, timestamp=when, click=True, action_name="signup")
    MessageEventFactory(message=message, timestamp=when, click=True, action_name="pricing")
    MessageEventFactory(message=message, timestamp=when, dismiss=True)
    Conversion.objects.create(
        workspace=message.workspace, message=message, profile=ProfileFactory(workspace=message.workspace),
        trigger="click", triggered_at=when, anonymous_id="a0", identified_at=when, converted_at=when,
    )  # fmt: skip
    roll_up(now=timezone.now() + timedelta(minutes=1))

    response = get(client, message.pk, api_key)
    assert response.status_code == 200
    assert response.json() == {
        "views": 4,
        "uniqueViewers": 2,
        "clicks": {"total": 3, "byAction": {"pricing": 1, "signup": 2}},
        "dismissals": 1,
        "conversions": 1,
        "conversionRate": 0.5,
    }


def test_from_and_to_select_the_range(client, message, api_key, workspace):
    MessageEventFactory(message=message, timestamp=timezone.now() - timedelta(days=3))
    MessageEventFactory(message=message, timestamp=timezone.now() - timedelta(days=20))
    roll_up(now=timezone.now() + timedelta(minutes=1))
    assert get(client, message.pk, api_key).json()["views"] == 2  # default: the last 30 days
    today = timezone.now().date()
    recent = get(
        client, message.pk, api_key, **{"from": str(today - timedelta(days=10)), "to": str(today)}
    )
    assert recent.json()["views"] == 1
    moment = (timezone.now() - timedelta(days=20, hours=1)).isoformat()
    until = (timezone.now() - timedelta(days=19)).isoformat()
    narrow = get(client, message.pk, api_key, **{"from": moment, "to": until})
    assert narrow.json()["views"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-45"}, "to"),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        # Near year 1 or 9999 the range arithmetic overflowed into a 500 (issue 10, finding 9).
        ({"from": "0001-01-01", "to": "0001-01-05"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "9999-12-31T23:00:00Z"}, "from"),
    ],
)
def test_bad_dates_are_a_400_naming_the_field(client, message, api_key, query, field):
    response = get(client, message.pk, api_key, **query)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_another_workspaces_message_is_a_404(client, api_key):
    foreign = AnonymousMessageFactory()
    response = get(client, foreign.pk, api_key)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_missing_or_wrong_key_is_a_401(client, message):
    path = reverse("metrics-api", args=[message.pk])
    assert client.get(path).status_code == 401
    assert get(client, message.pk, "nope").status_code == 401


def test_a_free_workspace_gets_a_403(client, message, api_key, workspace):
    workspace.plan = Plan.FREE
    workspace.save()
    assert get(client, message.pk, api_key).status_code == 403


def test_only_get_and_head_are_allowed_and_other_methods_get_a_json_405(client, message, api_key):
    path = reverse("metrics-api", args=[message.pk])
    response = client.post(path, HTTP_AUTHORIZATION=f"Bearer {api_key}")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD"
    assert client.head(path, HTTP_AUTHORIZATION=f"Bearer {api_key}").status_code == 200


def test_the_endpoint_is_in_the_openapi_document_and_answers_its_schema(client, message, api_key):
    from jsonschema import Draft202012Validator
    from openapi_spec_validator import validate

    from anonmsg.openapi_document import document as build_document

    document = build_document()
    validate(document)
    operation = document["paths"]["/api/v1/anonymous-messages/{id}/metrics"]
    assert set(operation) == {"get"}
    assert operation["get"]["security"] == [{"appApiKey": []}]
    validator = Draft202012Validator(
        {"$ref": "#/components/schemas/MessageMetrics", "components": document["components"]}
    )
    MessageEventFactory(message=message, click=True)
    roll_up(now=timezone.now() + timedelta(minutes=1))
    body = get(client, message.pk, api_key).json()
    assert list(validator.iter_errors(body)) == []
    assert (
        list(
            validator.iter_errors(
                operation["get"]["responses"]["200"]["content"]["application/json"]["example"]
            )
        )
        == []
    )


@pytest.mark.parametrize("bad_id", ["abc", "99999999999999999999999", "0"])
def test_a_malformed_or_unknown_id_is_a_json_404(client, api_key, bad_id):
    response = client.get(
        f"/api/v1/anonymous-messages/{bad_id}/metrics", HTTP_AUTHORIZATION=f"Bearer {api_key}"
    )
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_repeated_request_is_answered_from_the_cache_until_new_events_are_rolled_up(
    client, message, api_key, django_assert_num_queries
):
    when = timezone.now() - timedelta(hours=2)
    MessageEventFactory(message=message, anonymous_id="a", timestamp=when)
    roll_up(now=timezone.now())
    first = get(client, message.pk, api_key).json()
    assert (first["views"], first["uniqueViewers"]) == (1, 1)
    # The key's workspace, then the message with its stats version: no rollup query.
    with django_assert_num_queries(2):
        assert get(client, message.pk, api_key).json() == first
    MessageEventFactory(message=message, anonymous_id="b", timestamp=when)
    roll_up(now=timezone.now())
    again = get(client, message.pk, api_key).json()
    assert (again["views"], again["uniqueViewers"]) == (2, 2)


def test_reports_cached_in_redis_come_back_whole(client, message, api_key, redis_cache):
    when = timezone.now() - timedelta(hours=2)
    MessageEventFactory(message=message, timestamp=when, click=True, action_name="signup")
    MessageEventFactory(message=message, anonymous_id="a", timestamp=when)
    roll_up(now=timezone.now())
    first = get(client, message.pk, api_key).json()
    assert list(redis_cache.scan_iter(match="*:metrics:report:*"))
    assert get(client, message.pk, api_key).json() == first
    assert first["clicks"]["byAction"] == {"signup": 1}
