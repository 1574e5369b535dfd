"""Message lifecycle: launch, pause, resume, end, archive, duplicate, delete a draft.

Each function checks the transition is allowed (LifecycleError says why not), writes, and
returns the message. Saving bumps the workspace's content version (campaigns/signals.py), so
SDKs see the change on their next request. Used by the dashboard and the App API alike.

Transitions are checked against the row as it is in the database, locked for the duration of
the transaction, so two clicks (or a click and an API call) cannot both launch or both end.
"""

from django.db import transaction
from django.utils import timezone

from campaigns.content import ContentError, validate_html
from campaigns.models import POSITIONS_BY_DISPLAY, AnonymousMessage, State, Status
from campaigns.rules import RuleError, validate_rule

MIN_GOAL_WINDOW_HOURS = 1
MAX_GOAL_WINDOW_HOURS = 30 * 24
MIN_PRIORITY = 1
MAX_PRIORITY = 1000


class LifecycleError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def schedule_problem(*, starts_at, ends_at, now=None) -> str | None:
    """Why a schedule is invalid, or None. A start in the past is fine: it means "now"."""
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        return "The end must be after the start: pick a later end, or “never”."
    if ends_at is not None and ends_at <= (now or timezone.now()):
        return "The end is in the past: pick a later end date or choose “never”."
    return None


def launch_problems(message: AnonymousMessage, *, now=None) -> list[str]:
    """What must be fixed before the message can be launched (empty: ready)."""
    problems = []
    if not message.name.strip():
        problems.append("Give the message a name (step 1).")
    for rule in message.rules.all():
        try:
            validate_rule(platform=rule.platform, operator=rule.operator, value=rule.value)
        except RuleError as exc:
            problems.append(f"Page rule “{rule.value}”: {exc.message} (step 2)")
    try:
        validate_html(message.content_html)
    except ContentError as exc:
        problems.append(f"{exc.message} (step 5)")
    if message.display_type == "inline" and not message.display_element_id.strip():
        problems.append("Inline messages need the id of the page element to render into (step 5).")
    positions = POSITIONS_BY_DISPLAY.get(message.display_type)
    if positions is None:
        problems.append(f"Unknown display type “{message.display_type}” (step 5).")
    elif positions and message.display_position not in positions:
        problems.append(
            f"“{message.display_position}” is not a position for a {message.display_type}: "
            f"choose {', '.join(positions)} (step 5)."
        )
    if message.frequency_mode == "times" and message.frequency_times < 1:
        problems.append("“Up to N times” needs N of at least 1 (step 3).")
    if not MIN_GOAL_WINDOW_HOURS <= message.goal_window_hours <= MAX_GOAL_WINDOW_HOURS:
        problems.append("The conversion window must be between 1 hour and 30 days (step 4).")
    problem = schedule_problem(starts_at=message.starts_at, ends_at=message.ends_at, now=now)
    if problem:
        problems.append(f"{problem} (step 6)")
    if message.goal_condition == "event" and not message.goal_event.strip():
        problems.append("The goal needs the event name (step 4).")
    if (
        message.goal_condition in ("segment_entered", "segment_left")
        and message.goal_segment_id is None
    ):
        problems.append("The goal needs a segment (step 4).")
    return problems


def _lock(message: AnonymousMessage) -> None:
    """Reload the lifecycle fields from the locked row (other unsaved edits are kept)."""
    message.refresh_from_db(
        fields=["status", "starts_at", "ends_at", "launched_at"],
        from_queryset=AnonymousMessage.objects.select_for_update(),
    )


def _save(message: AnonymousMessage, **fields) -> AnonymousMessage:
    for name, value in fields.items():
        setattr(message, name, value)
    message.save(update_fields=[*fields, "updated_at"])
    return message


@transaction.atomic
def launch_message(*, message: AnonymousMessage, now=None) -> AnonymousMessage:
    now = now or timezone.now()
    _lock(message)
    if message.status != Status.DRAFT:
        raise LifecycleError(
            f"Only drafts can be launched; this message is {message.get_state_display().lower()}."
        )
    problems = launch_problems(message, now=now)
    if problems:
        raise LifecycleError("Cannot launch yet: " + " ".join(problems))
    return _save(message, status=Status.LAUNCHED, launched_at=now)


@transaction.atomic
def pause_message(*, message: AnonymousMessage, now=None) -> AnonymousMessage:
    _lock(message)
    state = message.state_at(now or timezone.now())
    if state not in (State.ACTIVE, State.SCHEDULED):
        raise LifecycleError(
            f"Only active or scheduled messages can be paused; this one is {state}."
        )
    return _save(message, status=Status.PAUSED)


@transaction.atomic
def resume_message(*, message: AnonymousMessage, now=None) -> AnonymousMessage:
    _lock(message)
    state = message.state_at(now or timezone.now())
    if state != State.PAUSED:
        raise LifecycleError(f"Only paused messages can be resumed; this one is {state}.")
    return _save(message, status=Status.LAUNCHED)


@transaction.atomic
def end_message(*, message: AnonymousMessage, now=None) -> AnonymousMessage:
    now = now or timezone.now()
    _lock(message)
    state = message.state_at(now)
    if state not in (State.ACTIVE, State.SCHEDULED, State.PAUSED):
        raise LifecycleError(
            f"Only active, scheduled or paused messages can be ended; this one is {state}."
        )
    ends_at = message.ends_at if message.ends_at is not None and message.ends_at <= now else now
    return _save(message, status=Status.ENDED, ends_at=ends_at)


@transaction.atomic
def archive_message(*, message: AnonymousMessage, now=None) -> AnonymousMessage:
    _lock(message)
    state = message.state_at(now or timezone.now())
    if state in (State.ACTIVE, State.SCHEDULED, State.PAUSED):
        raise LifecycleError("End the message before archiving it.")
    if state == State.ARCHIVED:
        raise LifecycleError("The message is already archived.")
    return _save(message, status=Status.ARCHIVED)


@transaction.atomic
def delete_draft(*, message: AnonymousMessage) -> None:
    _lock(message)
    if message.status != Status.DRAFT:
        raise LifecycleError(
            "Only drafts can be deleted; end or archive a launched message instead."
        )
    message.delete()


@transaction.atomic
def duplicate_message(*, message: AnonymousMessage) -> AnonymousMessage:
    """A new draft with the same settings and rules, named “Copy of …”."""
    rules = list(message.rules.all())
    copy = AnonymousMessage.objects.get(pk=message.pk)
    copy.pk = None
    copy.id = None
    copy._state.adding = True
    copy.name = f"Copy of {message.name}"[:120]
    copy.status = Status.DRAFT
    copy.launched_at = None
    copy.starts_at = None
    copy.ends_at = None
    copy.save()
    for rule in rules:
        rule.pk = None
        rule.id = None
        rule._state.adding = True
        rule.message = copy
        rule.save()
    return copy


def change_priority(*, message: AnonymousMessage, priority: int) -> AnonymousMessage:
    """Set the priority (lower shows first); any state, including drafts and ended messages."""
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise LifecycleError(
            f"The priority must be a whole number from {MIN_PRIORITY} (shown first) "
            f"to {MAX_PRIORITY}."
        )
    return _save(message, priority=priority)
