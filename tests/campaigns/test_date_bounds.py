"""Dates are accepted between 2000-01-01 and 2100-12-31 (anonmsg/dates.py): near year 1 or 9999
a time zone or whole-hour arithmetic overflowed into 500s (issue 10, finding 9)."""

import datetime as dt
import json

import pytest
from django.urls import reverse

from anonmsg.dates import is_supported_moment
from campaigns.models import AnonymousMessage
from tests.factories import AnonymousMessageFactory

LIST_URL = "/api/v1/anonymous-messages"

OUT_OF_RANGE = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00",
    "0001-01-01",
    "9999-12-31T23:00:00Z",
    "9999-12-31T23:59:59.999999",
    "9999-12-31",
    "1999-12-31T23:59:59Z",
    "2101-01-01T00:00:00Z",
]


@pytest.fixture
def berlin(workspace):
    # East of UTC: 9999-12-31T23:00Z is already year 10000 there.
    workspace.time_zone = "Europe/Berlin"
    workspace.save()
    return workspace


@pytest.fixture
def headers(berlin):
    return {"Authorization": f"Bearer {berlin.rotate_api_key()}"}


def post(client, headers, body):
    return client.post(LIST_URL, json.dumps(body), content_type="application/json", headers=headers)


@pytest.mark.parametrize("key", ["startsAt", "endsAt"])
@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_app_api_refuses_dates_outside_the_supported_years_and_saves_nothing(
    client, headers, key, value
):
    response = post(client, headers, {"name": "Far", "schedule": {key: value}})

    assert response.status_code == 400
    assert response.json()["field"] == f"schedule.{key}"
    assert "between 2000-01-01 and 2100-12-31" in response.json()["message"]
    assert not AnonymousMessage.objects.exists()
    assert client.get(LIST_URL, headers=headers).status_code == 200


def test_app_api_patch_refuses_a_far_date_and_leaves_the_message_alone(client, headers, berlin):
    message = AnonymousMessageFactory(workspace=berlin, starts_at=None)

    response = client.patch(
        f"{LIST_URL}/{message.pk}",
        json.dumps({"schedule": {"startsAt": "9999-12-31T23:00:00Z"}}),
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 400
    assert response.json()["field"] == "schedule.startsAt"
    message.refresh_from_db()
    assert message.starts_at is None


def test_app_api_accepts_the_first_and_last_supported_moments(client, headers):
    response = post(
        client,
        headers,
        {
            "name": "Edges",
            "schedule": {"startsAt": "2000-01-01T00:00:00Z", "endsAt": "2100-12-31T23:59:59Z"},
        },
    )

    assert response.status_code == 201
    assert response.json()["schedule"] == {
        "startsAt": "2000-01-01T01:00:00+01:00",
        "endsAt": "2101-01-01T00:59:59+01:00",
    }


@pytest.mark.parametrize(
    "stored",
    [
        dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, tzinfo=dt.UTC),
    ],
)
def test_a_far_date_stored_before_the_bound_still_lists_and_reads(client, headers, berlin, stored):
    message = AnonymousMessageFactory(workspace=berlin, starts_at=stored)

    listed = client.get(LIST_URL, headers=headers)
    read = client.get(f"{LIST_URL}/{message.pk}", headers=headers)

    assert listed.status_code == read.status_code == 200
    assert read.json()["schedule"]["startsAt"] == stored.isoformat()


@pytest.mark.parametrize(
    ("value", "supported"),
    [
        (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), True),
        (dt.datetime(2100, 12, 31, 23, 59, tzinfo=dt.UTC), True),
        # The year as written: a local midnight on 2000-01-01 east of UTC is still accepted.
        (dt.datetime(2000, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), True),
        (dt.datetime(2000, 1, 1), True),
        (dt.datetime(1999, 12, 31, 23, 59, tzinfo=dt.UTC), False),
        (dt.datetime(2101, 1, 1, tzinfo=dt.UTC), False),
        (dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))), False),
        (dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5))), False),
    ],
)
def test_supported_moments(value, supported):
    assert is_supported_moment(value) is supported


def test_a_bare_first_supported_date_is_accepted_east_of_utc(client, headers):
    # Found by fuzzing: 2000-01-01 in Berlin is 1999 in UTC, but the year written is 2000.
    response = post(client, headers, {"name": "Y2K", "schedule": {"startsAt": "2000-01-01"}})

    assert response.status_code == 201
    assert response.json()["schedule"]["startsAt"] == "2000-01-01T00:00:00+01:00"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("starts_at", "0001-01-01T00:00"),
        ("ends_at", "9999-12-31T23:30"),
        ("ends_at", "2101-01-02T00:00"),
    ],
)
def test_the_wizard_refuses_dates_outside_the_supported_years(owner_client, berlin, field, value):
    draft = AnonymousMessageFactory(workspace=berlin, wizard_step=7)
    data = {"start": "now", "end": "never", field: value}
    data["start" if field == "starts_at" else "end"] = "at"

    url = reverse("campaigns:wizard-step", args=[berlin.pk, draft.pk, "schedule"])
    response = owner_client.post(url, data)

    assert response.status_code == 400
    assert "Pick a date between 2000-01-01 and 2100-12-31" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.starts_at, draft.ends_at) == (None, None)
