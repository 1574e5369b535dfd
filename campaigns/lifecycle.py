"""Message lifecycle: launch, pause, resume, end, archive, duplicate, delete a draft.

Each function checks the transition is allowed (LifecycleError says why not), writes, and
returns the message. Saving bumps the workspace's content version (campaigns/signals.py), so
SDKs see the change on their next request. Used by the dashboard and the App API alike.

Transitions are checked against the row as it is in the database, locked for the duration of
the transaction, so two clicks (or a click and an API call) cannot both launch or both end.
"""

from django.db import transaction
from django.utils import timezone

from campaigns import experiments, split, validation
from campaigns.models import AnonymousMessage, MessageVariant, State, Status
from campaigns.wizard import get_step

# The bounds live with the rest of the validation; named here for the lifecycle's callers.
MIN_GOAL_WINDOW_HOURS = validation.MIN_GOAL_WINDOW_HOURS
MAX_GOAL_WINDOW_HOURS = validation.MAX_GOAL_WINDOW_HOURS
MIN_PRIORITY = validation.MIN_PRIORITY
MAX_PRIORITY = validation.MAX_PRIORITY


class LifecycleError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def schedule_problem(*, starts_at, ends_at, now=None) -> str | None:
    """Why a schedule is invalid, or None. A start in the past is fine: it means "now"."""
    problems = validation.check_schedule(
        starts_at=starts_at, ends_at=ends_at, now=now or timezone.now()
    )
    return problems[0].form if problems else None


def launch_checks(message: AnonymousMessage, *, now=None) -> list[validation.Problem]:
    """The validation problems that keep the message from launching (empty: ready)."""
    fields = [f.attname for f in AnonymousMessage._meta.concrete_fields]
    return validation.launch_problems(
        {name: getattr(message, name) for name in fields},
        page_rules=[(r.platform, r.operator, r.value) for r in message.rules.all()],
        now=now or timezone.now(),
    )


def launch_problems(message: AnonymousMessage, *, now=None) -> list[str]:
    """What must be fixed before the message can be launched, naming the wizard step."""
    return [with_step(problem) for problem in launch_checks(message, now=now)]


def with_step(problem: validation.Problem) -> str:
    """“… (step 5)”: after a full sentence's period, else ending the sentence."""
    number = get_step(problem.step).number
    if problem.launch.endswith("."):
        return f"{problem.launch} (step {number})"
    return f"{problem.launch} (step {number})."


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
    """A new draft with the same settings, rules and experiment variants, named “Copy of …”
    (its experiment starts afresh: a new seed, no winner)."""
    rules = list(message.rules.all())
    variants = list(message.variants.all())
    copy = AnonymousMessage.objects.get(pk=message.pk)
    copy.pk = None
    copy.id = None
    copy._state.adding = True
    copy.name = f"Copy of {message.name}"[:120]
    copy.status = Status.DRAFT
    copy.launched_at = None
    copy.starts_at = None
    copy.ends_at = None
    # The copy's experiment starts afresh: its own assignment, no winner yet.
    variants = list(message.variants.all())
    copy.experiment_seed = split.new_experiment_seed() if copy.experiment_seed else ""
    copy.winner_key, copy.winner_chosen_at, copy.winner_chosen_by = "", None, None
    copy.save()
    for row in [*rules, *variants]:
        row.pk = None
        row.id = None
        row._state.adding = True
        row.message = copy
        row.save()
    return copy


def copy_would_be_outranked(message: AnonymousMessage) -> bool:
    """Whether a duplicate of `message` would never get its slot while the original runs.

    The copy has the same page rules, audience, display slot and priority, and is newer:
    delivery orders ties by age, so the original goes first on every page the two share.
    Only an original that runs no more (ended, archived) leaves the copy its place."""
    return message.state not in (State.ENDED, State.ARCHIVED)


@transaction.atomic
def add_variant_copy(*, message: AnonymousMessage) -> MessageVariant:
    """Variant B (or the next free letter) with variant A's content, the split made equal.

    "Add as a variant instead" of a duplicate: the marketer then edits the new variant."""
    message = AnonymousMessage.objects.select_for_update().get(pk=message.pk)
    if not message.is_editable:
        raise LifecycleError(
            f"“{message.name}” is {message.get_state_display().lower()}: it can no longer "
            "get variants. Duplicate it instead."
        )
    keys = ["A", *message.variants.values_list("key", flat=True)]
    key = split.next_key(keys)
    if key is None:
        raise LifecycleError(
            f"“{message.name}” already has {split.MAX_VARIANTS} variants (A to D), the most an "
            "experiment can have. Remove one on the Content step, or duplicate it instead."
        )
    weights = split.equal_weights(len(keys) + 1)
    for variant, weight in zip(message.variants.all(), weights[1:], strict=False):
        variant.weight = weight
        variant.save(update_fields=["weight", "updated_at"])
    variant = MessageVariant.objects.create(
        message=message,
        key=key,
        weight=weights[-1],
        content_html=message.content_html,
        content_builder=message.content_builder,
    )
    message.variant_a_weight = weights[0]
    message.experiment_seed = message.experiment_seed or split.new_experiment_seed()
    message.save(update_fields=["variant_a_weight", "experiment_seed", "updated_at"])
    return variant


def variant_has_exposures(*, message: AnonymousMessage, key: str) -> bool:
    """Whether visitors were exposed to variant `key` (the apps above campaigns know)."""
    return key in experiments.exposed_arms(message)


def variant_removal_refusal(*, message: AnonymousMessage, keys) -> str | None:
    """Why variants `keys` may not be removed now, or None. A launched message's variant that
    visitors saw stays until the experiment ends: removing it would strand its metrics."""
    if message.status == Status.DRAFT:
        return None
    for key in keys:
        if variant_has_exposures(message=message, key=key):
            return (
                f"Variant {key} has been shown to visitors, so it cannot be removed while the "
                "message runs: end the experiment by choosing a winner."
            )
    return None


def change_priority(*, message: AnonymousMessage, priority: int) -> AnonymousMessage:
    """Set the priority (lower shows first); any state, including drafts and ended messages."""
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise LifecycleError(
            f"The priority must be a whole number from {MIN_PRIORITY} (shown first) "
            f"to {MAX_PRIORITY}."
        )
    return _save(message, priority=priority)
