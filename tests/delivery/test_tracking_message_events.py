import json
from datetime import UTC, datetime

import pytest
from django.db import connection

from delivery.models import Event, VisitorMessageState
from delivery.signals import events_recorded
from tests.delivery.tracking_helpers import send, track
from tests.factories import AnonymousMessageFactory, VisitorFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(workspace):
    return AnonymousMessageFactory(workspace=workspace, launched=True)


def content_event(action_type, content_id, *, anonymous_id="anon-1", **properties):
    return {
        "anonymousId": anonymous_id,
        "event": "Report Content Event",
        "properties": {
            "actionType": action_type,
            "contentId": content_id,
            "contentType": "in_app_content",
            **properties,
        },
    }


def report(client, workspace, *events):
    batch = [{"type": "track", **event} for event in events]
    response = send(client, "batch", {"batch": batch}, write_key=workspace.write_key)
    assert response.status_code == 200, response.content


def state():
    return VisitorMessageState.objects.get()


def test_a_view_counts_and_sets_first_and_last_view(client, workspace, message):
    report(client, workspace, content_event("viewed_content", message.pk))

    event = Event.objects.get()
    assert (event.content_id, event.action_type, event.action_name) == (
        message.pk,
        "viewed_content",
        "",
    )
    current = state()
    assert current.visitor.anonymous_id == "anon-1"
    assert current.message == message
    assert current.views == 1
    assert current.first_viewed_at == current.last_viewed_at == event.timestamp
    assert current.dismissed_at is None and current.responded_at is None


def test_views_add_up_and_the_last_view_moves(client, workspace, message):
    report(
        client,
        workspace,
        content_event("viewed_content", message.pk, anonymous_id="anon-1")
        | {"timestamp": "2025-03-01T10:00:00Z"},
    )
    report(
        client,
        workspace,
        content_event("viewed_content", message.pk) | {"timestamp": "2025-03-02T10:00:00Z"},
        content_event("viewed_content", message.pk) | {"timestamp": "2025-03-03T10:00:00Z"},
    )

    current = state()
    assert current.views == 3
    assert current.first_viewed_at == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert current.last_viewed_at == datetime(2025, 3, 3, 10, tzinfo=UTC)


def test_a_dismissal_is_recorded(client, workspace, message):
    report(client, workspace, content_event("dismissed_content", message.pk))

    current = state()
    assert current.dismissed_at == Event.objects.get().timestamp
    assert current.views == 0


def test_a_click_records_the_response_and_the_action_name(client, workspace, message):
    report(
        client,
        workspace,
        content_event(
            "clicked_content", message.pk, actionName="signup", actionValue="https://x.test/s"
        ),
    )

    event = Event.objects.get()
    assert (event.action_type, event.action_name) == ("clicked_content", "signup")
    assert state().responded_at == event.timestamp


def test_state_times_use_the_skew_corrected_timestamp(client, workspace, message):
    body = content_event("dismissed_content", message.pk) | {
        "timestamp": "2020-01-01T00:00:00Z",
        "sentAt": "2020-01-01T00:00:10Z",
    }
    report(client, workspace, body)

    event = Event.objects.get()
    assert (event.received_at - event.timestamp).total_seconds() == 10
    assert state().dismissed_at == event.timestamp


def test_content_id_sent_as_a_numeric_string_is_the_message(client, workspace, message):
    report(client, workspace, content_event("viewed_content", str(message.pk)))

    assert Event.objects.get().content_id == message.pk
    assert state().views == 1


def test_a_retried_view_counts_once(client, workspace, message):
    event = content_event("viewed_content", message.pk) | {"messageId": "view-1"}
    report(client, workspace, event)
    report(client, workspace, event)
    report(client, workspace, event, event)

    assert state().views == 1


def test_several_visitors_and_messages_in_one_batch_each_get_their_state(client, workspace):
    first, second = AnonymousMessageFactory.create_batch(2, workspace=workspace)
    report(
        client,
        workspace,
        content_event("viewed_content", first.pk, anonymous_id="a"),
        content_event("viewed_content", first.pk, anonymous_id="a"),
        content_event("viewed_content", second.pk, anonymous_id="a"),
        content_event("viewed_content", first.pk, anonymous_id="b"),
        content_event("dismissed_content", first.pk, anonymous_id="b"),
    )

    states = {
        (s.visitor.anonymous_id, s.message_id): (s.views, s.dismissed_at is not None)
        for s in VisitorMessageState.objects.select_related("visitor")
    }
    assert states == {
        ("a", first.pk): (2, False),
        ("a", second.pk): (1, False),
        ("b", first.pk): (1, True),
    }


def test_the_state_of_an_existing_visitor_is_updated(client, workspace, message):
    visitor = VisitorFactory(workspace=workspace, anonymous_id="anon-1")
    report(client, workspace, content_event("viewed_content", message.pk))

    assert state().visitor == visitor


@pytest.mark.parametrize("content_id", [999_999, "999999", "abc", None, 0, -3, 1.5, True])
def test_an_unknown_content_id_is_stored_raw_and_changes_no_state(client, workspace, content_id):
    report(client, workspace, content_event("viewed_content", content_id))

    event = Event.objects.get()
    assert event.payload["properties"]["contentId"] == content_id
    assert (event.content_id, event.action_type) == (None, "")
    assert not VisitorMessageState.objects.exists()


def test_another_workspaces_message_is_stored_raw_and_changes_no_state(client, workspace):
    foreign = AnonymousMessageFactory(workspace=WorkspaceFactory())
    report(client, workspace, content_event("clicked_content", foreign.pk, actionName="x"))

    event = Event.objects.get(workspace=workspace)
    assert (event.content_id, event.action_type, event.action_name) == (None, "", "")
    assert not VisitorMessageState.objects.exists()


def test_an_unknown_action_type_is_stored_raw(client, workspace, message):
    report(client, workspace, content_event("hovered_content", message.pk))

    assert Event.objects.get().content_id is None
    assert not VisitorMessageState.objects.exists()


def test_a_message_event_of_an_identified_user_without_anonymous_id_changes_no_state(
    client, workspace, message
):
    event = content_event("viewed_content", message.pk)
    del event["anonymousId"]
    report(client, workspace, event | {"userId": "u-1"})

    assert Event.objects.get().content_id == message.pk
    assert not VisitorMessageState.objects.exists()


def test_events_recorded_names_the_messages(
    client, workspace, message, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs["message_ids"])

    events_recorded.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            report(
                client,
                workspace,
                content_event("viewed_content", message.pk),
                content_event("viewed_content", 999_999),
            )
    finally:
        events_recorded.disconnect(receiver)

    assert received == [{message.pk}]


def test_a_float_content_id_of_an_integral_value_counts_as_the_message(client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    properties = {"actionType": "viewed_content", "contentId": float(message.pk)}
    body = track(event="Report Content Event", properties=properties)
    raw = json.dumps(body)
    assert f'"contentId": {message.pk}.0' in raw

    assert send(client, "track", raw, write_key=workspace.write_key).status_code == 200
    event = Event.objects.get()
    assert (event.content_id, event.action_type) == (message.pk, "viewed_content")


def test_a_float_content_id_with_a_fraction_stays_a_plain_track(client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    properties = {"actionType": "viewed_content", "contentId": message.pk + 0.5}
    body = track(event="Report Content Event", properties=properties)

    assert send(client, "track", body, write_key=workspace.write_key).status_code == 200
    assert Event.objects.get().content_id is None


def test_a_message_seen_before_costs_no_lookup(
    client, workspace, message, django_assert_num_queries
):
    report(client, workspace, content_event("viewed_content", message.pk))

    # savepoint, one statement (event, visitor, state; SQLite: three), release: the message is
    # known to this process.
    with django_assert_num_queries(3 if connection.vendor == "postgresql" else 5):
        report(client, workspace, content_event("viewed_content", message.pk))
    assert state().views == 2


def test_another_workspaces_message_stays_foreign_once_remembered(client, workspace, message):
    other = WorkspaceFactory()
    report(client, workspace, content_event("viewed_content", message.pk))
    report(client, other, content_event("viewed_content", message.pk, anonymous_id="anon-2"))

    assert state().views == 1
    assert Event.objects.filter(content_id=message.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_deleted_message_is_looked_up_again_after_one_retryable_refusal(client):
    workspace = WorkspaceFactory()
    draft = AnonymousMessageFactory(workspace=workspace)
    view = content_event("viewed_content", draft.pk)
    report(client, workspace, {**view, "messageId": "v-1"})
    draft.delete()

    # Remembered as a message: its state's foreign key fails at commit, nothing is stored and
    # the client is told to retry; the retry asks the database again and stores a plain track.
    retried = {**view, "messageId": "v-2"}
    refused = send(client, "track", retried, write_key=workspace.write_key)
    assert refused.status_code == 503 and refused["Retry-After"]
    assert not Event.objects.filter(message_id="v-2").exists()
    assert send(client, "track", retried, write_key=workspace.write_key).status_code == 200
    assert Event.objects.get(message_id="v-2").content_id is None
