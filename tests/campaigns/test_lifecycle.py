"""Message lifecycle: the domain functions and the dashboard's POST actions."""

import datetime as dt
import html

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anonmsg.models import Plan, Workspace
from campaigns import lifecycle
from campaigns.lifecycle import LifecycleError, launch_problems, schedule_problem
from campaigns.models import AnonymousMessage, PageRule, State, Status
from tests.factories import AnonymousMessageFactory, PageRuleFactory, SegmentFactory

NOW = timezone.now()
HOUR = dt.timedelta(hours=1)


def action_url(message, action):
    return reverse(f"campaigns:message-{action}", args=[message.workspace_id, message.pk])


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def text_of(response) -> str:
    return html.unescape(response.content.decode())


# --- Pure checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "problem"),
    [
        (None, None, None),
        (NOW + HOUR, None, None),
        (NOW - HOUR, None, None),  # a start in the past means "now"
        (None, NOW + HOUR, None),
        (NOW + HOUR, NOW + 2 * HOUR, None),
        (NOW + 2 * HOUR, NOW + HOUR, "The end must be after the start"),
        (NOW + HOUR, NOW + HOUR, "The end must be after the start"),
        (None, NOW - HOUR, "The end is in the past"),
        (NOW - 2 * HOUR, NOW - HOUR, "The end is in the past"),
    ],
)
def test_schedule_problems(starts_at, ends_at, problem):
    found = schedule_problem(starts_at=starts_at, ends_at=ends_at, now=NOW)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"name": "  "}, "Give the message a name (step 1)."),
        ({"content_html": ""}, "The message has no content"),
        ({"content_html": "<p>Hi {{ name }}</p>"}, "Liquid is not supported"),
        ({"content_html": "x" * (64 * 1024 + 1)}, "the limit is 65,536"),
        ({"display_type": "inline", "display_element_id": ""}, "Inline messages need the id"),
        ({"display_type": "banner", "display_position": "center"}, "not a position for a banner"),
        ({"ends_at": NOW - HOUR}, "The end is in the past"),
        ({"goal_condition": "event", "goal_event": ""}, "The goal needs the event name"),
        ({"goal_condition": "segment_left"}, "The goal needs a segment"),
        ({"goal_window_hours": 721}, "between 1 hour and 30 days"),
        ({"frequency_mode": "times", "frequency_times": 0}, "N of at least 1"),
    ],
)
def test_launch_problems_name_what_to_fix_and_the_step(fields, problem):
    message = AnonymousMessageFactory(**fields)
    problems = launch_problems(message, now=NOW)
    assert any(problem in p for p in problems), problems


@pytest.mark.django_db
def test_a_stored_rule_that_became_invalid_blocks_the_launch():
    message = AnonymousMessageFactory()
    PageRule.objects.create(message=message, platform="web", operator="regex", value="([a")
    assert any("Page rule “([a”" in p for p in launch_problems(message))


@pytest.mark.django_db
def test_a_complete_draft_has_no_launch_problems():
    assert launch_problems(AnonymousMessageFactory()) == []


# --- Domain functions ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_launch_makes_a_draft_active_or_scheduled():
    now_message = lifecycle.launch_message(message=AnonymousMessageFactory())
    assert (now_message.status, now_message.state) == (Status.LAUNCHED, State.ACTIVE)
    assert now_message.launched_at is not None
    later = AnonymousMessageFactory(starts_at=timezone.now() + HOUR)
    assert lifecycle.launch_message(message=later).state == State.SCHEDULED


@pytest.mark.django_db
def test_launch_refuses_a_draft_with_problems_and_writes_nothing():
    message = AnonymousMessageFactory(content_html="")
    with pytest.raises(LifecycleError, match="Cannot launch yet: The message has no content"):
        lifecycle.launch_message(message=message)
    message.refresh_from_db()
    assert message.status == Status.DRAFT


@pytest.mark.django_db
def test_a_stale_copy_cannot_launch_a_message_twice():
    message = AnonymousMessageFactory()
    stale = AnonymousMessage.objects.get(pk=message.pk)
    lifecycle.launch_message(message=message)
    with pytest.raises(LifecycleError, match="Only drafts can be launched; this message is active"):
        lifecycle.launch_message(message=stale)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "action", "allowed"),
    [
        ({"status": Status.LAUNCHED}, "pause", True),
        ({"status": Status.LAUNCHED, "starts_at": NOW + 24 * HOUR}, "pause", True),
        ({"status": Status.DRAFT}, "pause", False),
        ({"status": Status.PAUSED}, "pause", False),
        ({"status": Status.PAUSED}, "resume", True),
        ({"status": Status.LAUNCHED}, "resume", False),
        ({"status": Status.PAUSED, "ends_at": NOW - HOUR}, "resume", False),  # ended meanwhile
        ({"status": Status.LAUNCHED}, "end", True),
        ({"status": Status.PAUSED}, "end", True),
        ({"status": Status.DRAFT}, "end", False),
        ({"status": Status.ENDED}, "end", False),
        ({"status": Status.ENDED}, "archive", True),
        ({"status": Status.DRAFT}, "archive", True),
        ({"status": Status.LAUNCHED}, "archive", False),
        ({"status": Status.ARCHIVED}, "archive", False),
        ({"status": Status.DRAFT}, "delete", True),
        ({"status": Status.LAUNCHED}, "delete", False),
        ({"status": Status.ENDED}, "delete", False),
    ],
)
def test_transitions(fields, action, allowed):
    message = AnonymousMessageFactory(**fields)
    run = {
        "pause": lifecycle.pause_message,
        "resume": lifecycle.resume_message,
        "end": lifecycle.end_message,
        "archive": lifecycle.archive_message,
        "delete": lifecycle.delete_draft,
    }[action]
    if allowed:
        run(message=message)
    else:
        with pytest.raises(LifecycleError):
            run(message=message)


@pytest.mark.django_db
def test_end_now_sets_the_end_so_the_state_is_ended():
    message = lifecycle.end_message(message=AnonymousMessageFactory(launched=True))
    assert message.state == State.ENDED
    assert message.ends_at <= timezone.now()


@pytest.mark.django_db
def test_duplicate_copies_settings_and_rules_into_a_new_draft(workspace):
    segment = SegmentFactory(workspace=workspace)
    original = AnonymousMessageFactory(
        workspace=workspace,
        launched=True,
        name="Spring offer",
        goal_condition="segment_entered",
        goal_segment=segment,
        starts_at=NOW + HOUR,
        content_builder={"heading": "Hi"},
    )
    PageRuleFactory(message=original, value="/a")
    PageRuleFactory(message=original, value="/b", exclude=True)
    copy = lifecycle.duplicate_message(message=original)
    assert copy.pk != original.pk
    assert (copy.name, copy.status, copy.starts_at, copy.launched_at) == (
        "Copy of Spring offer",
        Status.DRAFT,
        None,
        None,
    )
    assert (copy.goal_segment, copy.content_builder) == (segment, {"heading": "Hi"})
    assert [(r.value, r.exclude) for r in copy.rules.all()] == [("/a", False), ("/b", True)]
    assert original.rules.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(("priority", "ok"), [(1, True), (1000, True), (0, False), (1001, False)])
def test_priority_bounds(priority, ok):
    message = AnonymousMessageFactory()
    if ok:
        assert lifecycle.change_priority(message=message, priority=priority).priority == priority
    else:
        with pytest.raises(LifecycleError, match="from 1"):
            lifecycle.change_priority(message=message, priority=priority)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        lambda m: lifecycle.launch_message(message=m),
        lambda m: lifecycle.change_priority(message=m, priority=5),
        lambda m: PageRuleFactory(message=m),
        lambda m: lifecycle.delete_draft(message=m),
    ],
)
def test_every_change_bumps_the_workspace_content_version(change):
    message = AnonymousMessageFactory()
    before = Workspace.objects.get(pk=message.workspace_id).content_version
    change(message)
    assert Workspace.objects.get(pk=message.workspace_id).content_version > before


# --- Dashboard actions ---------------------------------------------------------------------------


def test_launching_from_the_review_lands_on_the_message_page_with_next_steps(
    owner_client, workspace
):
    message = AnonymousMessageFactory(workspace=workspace, name="Offer", wizard_step=7)
    response = owner_client.post(action_url(message, "launch"), follow=True)
    assert response.redirect_chain[-1][0] == f"{message.get_absolute_url()}?launched=1"
    body = text_of(response)
    assert "“Offer” is live" in body
    assert "Launched. Next steps" in body
    assert "Preview it on your site" in body
    assert "Debug a visitor" in body
    assert reverse("metrics:message-metrics", args=[workspace.pk, message.pk]) in body
    assert "Active</span>" in body


def test_the_next_steps_show_only_right_after_launch(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    response = owner_client.get(message.get_absolute_url())
    assert "Launched. Next steps" not in text_of(response)


def test_launching_a_future_message_says_when_it_starts(owner_client, workspace):
    workspace.time_zone = "Asia/Tokyo"
    workspace.save()
    starts = dt.datetime(2099, 3, 1, 0, 30, tzinfo=dt.UTC)
    message = AnonymousMessageFactory(workspace=workspace, name="Later", starts_at=starts)
    response = owner_client.post(action_url(message, "launch"), follow=True)
    body = text_of(response)
    assert "“Later” is scheduled: it starts on March 1, 2099, 9:30 a.m. (Asia/Tokyo)." in body
    assert 'badge-scheduled badge-lg">Scheduled</span>' in body


def test_a_launch_with_problems_returns_to_the_review_with_the_reason(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, content_html="", wizard_step=7)
    response = owner_client.post(action_url(message, "launch"))
    assert response["Location"] == reverse(
        "campaigns:wizard-step", args=[workspace.pk, message.pk, "review"]
    )
    assert any("Cannot launch yet: The message has no content" in f for f in flashes(response))
    message.refresh_from_db()
    assert message.status == Status.DRAFT


@pytest.mark.parametrize(
    ("fields", "action", "state", "says"),
    [
        ({"launched": True}, "pause", State.PAUSED, "is paused"),
        ({"status": Status.PAUSED}, "resume", State.ACTIVE, "is active again"),
        ({"launched": True}, "end", State.ENDED, "has ended"),
        ({"status": Status.ENDED}, "archive", State.ARCHIVED, "is archived"),
    ],
)
def test_lifecycle_buttons_change_the_state_and_say_so(
    owner_client, workspace, fields, action, state, says
):
    message = AnonymousMessageFactory(workspace=workspace, **fields)
    response = owner_client.post(action_url(message, action))
    assert response["Location"] == message.get_absolute_url()
    assert any(says in f for f in flashes(response))
    message.refresh_from_db()
    assert message.state == state


@pytest.mark.parametrize(
    ("fields", "action", "says"),
    [
        ({"status": Status.DRAFT}, "pause", "Only active or scheduled messages can be paused"),
        ({"launched": True}, "resume", "Only paused messages can be resumed"),
        ({"status": Status.DRAFT}, "end", "Only active, scheduled or paused messages can be ended"),
        ({"launched": True}, "archive", "End the message before archiving it."),
        ({"launched": True}, "delete", "Only drafts can be deleted"),
        ({"launched": True}, "launch", "Only drafts can be launched"),
    ],
)
def test_invalid_transitions_are_a_clear_flash_error_not_a_crash(
    owner_client, workspace, fields, action, says
):
    message = AnonymousMessageFactory(workspace=workspace, **fields)
    before = (message.status, message.ends_at)
    response = owner_client.post(action_url(message, action), follow=True)
    assert response.status_code == 200
    assert says in text_of(response)
    message.refresh_from_db()
    assert (message.status, message.ends_at) == before


def test_deleting_a_draft(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, name="Old draft")
    PageRuleFactory(message=message)
    response = owner_client.post(action_url(message, "delete"))
    assert response["Location"] == reverse("campaigns:message-list", args=[workspace.pk])
    assert "Draft “Old draft” deleted." in flashes(response)
    assert not AnonymousMessage.objects.filter(pk=message.pk).exists()
    assert PageRule.objects.count() == 0


def test_duplicating_opens_the_copy_in_the_wizard(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True, name="Spring")
    response = owner_client.post(action_url(message, "duplicate"))
    copy = AnonymousMessage.objects.exclude(pk=message.pk).get()
    assert response["Location"] == reverse(
        "campaigns:wizard-step", args=[workspace.pk, copy.pk, "name"]
    )
    assert (copy.name, copy.status, copy.wizard_step) == ("Copy of Spring", Status.DRAFT, 7)


@pytest.mark.parametrize("action", ["end", "archive", "delete"])
def test_destructive_actions_ask_first_without_javascript(owner_client, workspace, action):
    status = {"end": Status.LAUNCHED, "archive": Status.ENDED, "delete": Status.DRAFT}[action]
    message = AnonymousMessageFactory(workspace=workspace, status=status, name="Spring")
    response = owner_client.get(action_url(message, action))
    assert response.status_code == 200
    body = text_of(response)
    assert "“Spring”?" in body
    assert 'method="post"' in body and "csrfmiddlewaretoken" in body
    message.refresh_from_db()
    assert message.status == status  # asking changed nothing


def test_the_detail_page_confirms_destructive_actions_with_htmx(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True, name="Spring")
    body = text_of(owner_client.get(message.get_absolute_url()))
    end = action_url(message, "end")
    assert f'href="{end}" hx-post="{end}" hx-confirm="End “Spring” now?' in body


@pytest.mark.parametrize("action", ["pause", "resume", "launch"])
def test_non_destructive_actions_only_take_posts(owner_client, workspace, action):
    message = AnonymousMessageFactory(workspace=workspace)
    assert owner_client.get(action_url(message, action)).status_code == 405


def test_a_get_of_duplicate_asks_first_and_writes_nothing(owner_client, workspace):
    # GET shows the choice "Add as a variant instead" / "Duplicate anyway" (tests/campaigns/
    # test_experiment_wizard.py); only a POST duplicates.
    message = AnonymousMessageFactory(workspace=workspace)
    response = owner_client.get(action_url(message, "duplicate"))
    assert response.status_code == 200
    assert AnonymousMessage.objects.filter(workspace=workspace).count() == 1


def test_htmx_actions_answer_with_a_client_redirect(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    response = owner_client.post(action_url(message, "end"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == message.get_absolute_url()


def test_changing_the_priority(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace)
    response = owner_client.post(action_url(message, "priority"), {"priority": "3"})
    assert response["Location"] == message.get_absolute_url()
    message.refresh_from_db()
    assert message.priority == 3


@pytest.mark.parametrize("value", ["0", "-2", "1001", "two", ""])
def test_an_invalid_priority_is_a_flash_error(owner_client, workspace, value):
    message = AnonymousMessageFactory(workspace=workspace, priority=4)
    response = owner_client.post(action_url(message, "priority"), {"priority": value}, follow=True)
    assert response.status_code == 200
    assert "from 1" in text_of(response)
    message.refresh_from_db()
    assert message.priority == 4


ACTIONS = ["launch", "pause", "resume", "end", "archive", "delete", "duplicate", "priority"]


@pytest.mark.parametrize("action", ACTIONS)
def test_another_workspaces_message_id_is_a_404(owner_client, workspace, action):
    foreign = AnonymousMessageFactory(status=Status.DRAFT)
    url = reverse(f"campaigns:message-{action}", args=[workspace.pk, foreign.pk])
    assert owner_client.post(url, {"priority": "2"}).status_code == 404
    foreign.refresh_from_db()
    assert (foreign.status, foreign.priority) == (Status.DRAFT, 1)


@pytest.mark.parametrize("action", ACTIONS)
def test_outsiders_get_a_404(outsider_client, workspace, action):
    message = AnonymousMessageFactory(workspace=workspace)
    assert outsider_client.post(action_url(message, action)).status_code == 404


@pytest.mark.parametrize("action", ACTIONS)
def test_free_plan_actions_show_the_upgrade_page_and_change_nothing(
    owner_client, workspace, action
):
    workspace.plan = Plan.FREE
    workspace.save()
    message = AnonymousMessageFactory(workspace=workspace)
    response = owner_client.post(action_url(message, action), {"priority": "9"})
    assert "You might not have access to this feature!" in text_of(response)
    assert AnonymousMessage.objects.get().status == Status.DRAFT
    assert AnonymousMessage.objects.get().priority == 1


def test_actions_need_the_csrf_token(owner, workspace):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    assert client.post(action_url(message, "end")).status_code == 403
    message.refresh_from_db()
    assert message.state == State.ACTIVE


def test_detail_page_shows_state_summary_and_the_right_actions(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True, name="Spring")
    body = text_of(owner_client.get(message.get_absolute_url()))
    assert '<span class="badge badge-active badge-lg">Active</span>' in body
    assert "Pause" in body and "End now" in body and "Duplicate" in body
    assert "Resume" not in body and "Delete draft" not in body
    assert "No page rules: this message shows on every page" in body
