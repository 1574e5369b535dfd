"""The create-message wizard as an ordered table of steps (pretix style).

Each step names its form, its template and when it is skipped. The views only walk this table:
which steps exist, which the marketer may open, where "Next" and "Back" lead. The message
remembers the furthest step it may open (`wizard_step`); a step is "complete" once saved.
"""

from collections.abc import Callable
from dataclasses import dataclass

from campaigns import forms
from campaigns.audience_forms import AudienceForm
from campaigns.models import AnonymousMessage, Status


def never(message: AnonymousMessage | None) -> bool:
    return False


@dataclass(frozen=True)
class Step:
    number: int
    slug: str
    title: str
    form_class: type[forms.StepForm]
    template: str
    intro: str = ""
    skip: Callable[[AnonymousMessage | None], bool] = never


STEPS: tuple[Step, ...] = (
    Step(
        1,
        "name",
        "Name",
        forms.NameForm,
        "campaigns/wizard/step_name.html",
        "Name the message so your team can find it.",
    ),
    Step(
        2,
        "rules",
        "Page rules",
        AudienceForm,
        "campaigns/wizard/step_rules.html",
        "Choose the pages and app screens where the message may appear, and who sees it there.",
    ),
    Step(
        3,
        "frequency",
        "Frequency",
        forms.FrequencyForm,
        "campaigns/wizard/step_frequency.html",
        "When and how often: the moment on the page it appears, and how often one visitor sees it.",
    ),
    Step(
        4,
        "goal",
        "Goal",
        forms.GoalForm,
        "campaigns/wizard/step_goal.html",
        "When a visitor counts as converted. Conversions appear in the message's metrics.",
    ),
    Step(
        5,
        "content",
        "Content",
        forms.ContentStepForm,
        "campaigns/wizard/step_content.html",
        "What visitors see, and where on the page.",
    ),
    Step(
        6,
        "schedule",
        "Schedule",
        forms.ScheduleForm,
        "campaigns/wizard/step_schedule.html",
        "When the message starts and stops being shown.",
    ),
    Step(
        7,
        "review",
        "Review",
        forms.EmptyStepForm,
        "campaigns/wizard/step_review.html",
        "Check everything, then launch.",
    ),
)

FIRST = STEPS[0]
LAST = STEPS[-1]


def get_step(slug: str, steps: tuple[Step, ...] = STEPS) -> Step | None:
    return next((step for step in steps if step.slug == slug), None)


def active_steps(message: AnonymousMessage | None, steps: tuple[Step, ...] = STEPS):
    return [step for step in steps if not step.skip(message)]


def next_step(message, step: Step, steps: tuple[Step, ...] = STEPS) -> Step | None:
    later = [s for s in active_steps(message, steps) if s.number > step.number]
    return later[0] if later else None


def previous_step(message, step: Step, steps: tuple[Step, ...] = STEPS) -> Step | None:
    earlier = [s for s in active_steps(message, steps) if s.number < step.number]
    return earlier[-1] if earlier else None


def furthest_step(message: AnonymousMessage | None, steps: tuple[Step, ...] = STEPS) -> int:
    """The highest step number the marketer may open. Launched messages open every step."""
    if message is None:
        return steps[0].number
    if message.status != Status.DRAFT:
        return steps[-1].number
    return max(steps[0].number, min(message.wizard_step, steps[-1].number))


def can_open(message, step: Step, steps: tuple[Step, ...] = STEPS) -> bool:
    return not step.skip(message) and step.number <= furthest_step(message, steps)


def resume_step(message, steps: tuple[Step, ...] = STEPS) -> Step:
    """Where "Continue editing" leads: the furthest step that is not skipped."""
    openable = [s for s in active_steps(message, steps) if can_open(message, s, steps)]
    return openable[-1] if openable else steps[0]


def record_progress(message: AnonymousMessage, step: Step, steps=STEPS) -> None:
    """After `step` is saved, the step after it may be opened (saved on the draft)."""
    following = next_step(message, step, steps)
    reached = following.number if following else step.number
    if reached > message.wizard_step:
        message.wizard_step = reached
        message.save(update_fields=["wizard_step", "updated_at"])


@dataclass(frozen=True)
class ProgressItem:
    step: Step
    status: str  # "current", "complete" or "upcoming"
    openable: bool


def progress(message, current: Step, steps: tuple[Step, ...] = STEPS) -> list[ProgressItem]:
    """The progress indicator: each step with its status and whether it is a link."""
    furthest = furthest_step(message, steps)
    launched = message is not None and message.status != Status.DRAFT
    items = []
    for step in active_steps(message, steps):
        if step == current:
            status = "current"
        elif launched or step.number < furthest:
            status = "complete"
        else:
            status = "upcoming"
        items.append(ProgressItem(step, status, step != current and can_open(message, step, steps)))
    return items
