"""App API: launch, pause, resume and end (DESIGN.md §3), and transitions that are refused."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import AnonymousMessage, Status
from tests.campaigns.test_api_messages import LIST_URL, Api
from tests.factories import AnonymousMessageFactory


@pytest.fixture
def api(client, workspace):
    return Api(client, workspace.rotate_api_key())


def action_url(message, action):
    return f"{LIST_URL}/{message.id}/{action}"


def test_a_message_goes_through_its_whole_lifecycle_over_the_api(api):
    created = api.post(
        LIST_URL,
        {"name": "Lifecycle", "content": {"html": '<a data-action="signup" href="/s">Go</a>'}},
    ).json()
    message = AnonymousMessage.objects.get(pk=created["id"])

    states = [created["state"]]
    for action in ("launch", "pause", "resume", "end"):
        response = api.post(action_url(message, action))
        assert response.status_code == 200, response.json()
        states.append(response.json()["state"])

    assert states == ["draft", "active", "paused", "active", "ended"]
    assert api.get(f"{LIST_URL}/{message.id}").json()["state"] == "ended"


def test_a_draft_with_a_future_start_is_scheduled_when_launched(api, workspace):
    draft = AnonymousMessageFactory(
        workspace=workspace, starts_at=timezone.now() + timedelta(days=2)
    )

    response = api.post(action_url(draft, "launch"))

    assert response.status_code == 200
    assert response.json()["state"] == "scheduled"
    draft.refresh_from_db()
    assert draft.status == Status.LAUNCHED
    assert draft.launched_at is not None


def test_a_launched_message_is_listed_as_active(api, workspace):
    draft = AnonymousMessageFactory(workspace=workspace, name="Go live")
    api.post(action_url(draft, "launch"))

    listed = api.get(LIST_URL, {"state": "active"}).json()["messages"]

    assert [m["name"] for m in listed] == ["Go live"]


def test_a_draft_without_content_cannot_be_launched_and_says_why(api, workspace):
    draft = AnonymousMessageFactory(workspace=workspace, content_html="")

    response = api.post(action_url(draft, "launch"))

    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "not_ready"
    assert body["problems"] == ["The message has no content: write some HTML or use the builder."]
    assert "(step" not in body["message"]
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_a_scheduled_message_can_be_paused_and_ended(api, workspace):
    scheduled = AnonymousMessageFactory(
        workspace=workspace, launched=True, starts_at=timezone.now() + timedelta(days=1)
    )

    assert api.post(action_url(scheduled, "pause")).json()["state"] == "paused"
    assert api.post(action_url(scheduled, "end")).json()["state"] == "ended"


def test_ending_a_message_sets_its_end_to_now(api, workspace):
    active = AnonymousMessageFactory(workspace=workspace, launched=True)
    before = timezone.now()

    response = api.post(action_url(active, "end"))

    active.refresh_from_db()
    assert active.status == Status.ENDED
    assert before <= active.ends_at <= timezone.now()
    assert response.json()["schedule"]["endsAt"] is not None


REFUSED = [
    # (stored status, extra fields, action, words of the error)
    (Status.LAUNCHED, {}, "launch", "Only drafts can be launched"),
    (Status.PAUSED, {}, "launch", "Only drafts can be launched"),
    (Status.DRAFT, {}, "pause", "Only active or scheduled messages can be paused"),
    (Status.PAUSED, {}, "pause", "Only active or scheduled messages can be paused"),
    (Status.ENDED, {}, "pause", "this one is ended"),
    (Status.LAUNCHED, {}, "resume", "Only paused messages can be resumed"),
    (Status.DRAFT, {}, "resume", "this one is draft"),
    (Status.ARCHIVED, {}, "resume", "this one is archived"),
    (Status.DRAFT, {}, "end", "Only active, scheduled or paused messages can be ended"),
    (Status.ENDED, {}, "end", "this one is ended"),
    (Status.ARCHIVED, {}, "end", "this one is archived"),
    (Status.LAUNCHED, {"ends_at": "past"}, "pause", "this one is ended"),
]


@pytest.mark.parametrize(
    ("status", "extra", "action", "words"),
    REFUSED,
    ids=[f"{action} {status}{' ' + ','.join(extra) if extra else ''}" for status, extra, action, _ in REFUSED],
)  # fmt: skip
def test_a_transition_that_is_not_allowed_is_a_409_and_changes_nothing(
    api, workspace, status, extra, action, words
):
    if extra.get("ends_at") == "past":
        extra = {"ends_at": timezone.now() - timedelta(minutes=1)}
    message = AnonymousMessageFactory(workspace=workspace, status=status, **extra)
    before = AnonymousMessage.objects.filter(pk=message.pk).values().get()

    response = api.post(action_url(message, action))

    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "invalid_transition"
    assert words in body["message"]
    assert body["state"] == message.state
    assert AnonymousMessage.objects.filter(pk=message.pk).values().get() == before


@pytest.mark.parametrize("action", ["launch", "pause", "resume", "end"])
def test_a_transition_on_another_workspace_message_is_a_404(api, action):
    theirs = AnonymousMessageFactory(status=Status.PAUSED)

    response = api.post(action_url(theirs, action))

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.status == Status.PAUSED


@pytest.mark.parametrize("action", ["launch", "pause", "resume", "end"])
def test_a_transition_only_accepts_post(api, workspace, action):
    message = AnonymousMessageFactory(workspace=workspace)

    response = api.get(action_url(message, action))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed"
