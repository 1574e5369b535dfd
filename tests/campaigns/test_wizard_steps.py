"""The wizard's step table (campaigns/wizard.py): order, reachability, skips, progress."""

from types import SimpleNamespace

import pytest

from campaigns import forms, wizard
from campaigns.models import Status
from campaigns.wizard import Step
from tests.factories import AnonymousMessageFactory


def draft(reached):
    return SimpleNamespace(status=Status.DRAFT, wizard_step=reached)


def test_the_seven_steps_in_order():
    assert [(s.number, s.slug) for s in wizard.STEPS] == [
        (1, "name"),
        (2, "rules"),
        (3, "frequency"),
        (4, "goal"),
        (5, "content"),
        (6, "schedule"),
        (7, "review"),
    ]
    assert len({s.template for s in wizard.STEPS}) == 7


@pytest.mark.parametrize(
    ("message", "slug", "openable"),
    [
        (None, "name", True),
        (None, "rules", False),
        (draft(1), "name", True),
        (draft(1), "rules", False),
        (draft(3), "frequency", True),
        (draft(3), "goal", False),
        (draft(99), "review", True),
        (SimpleNamespace(status=Status.LAUNCHED, wizard_step=1), "review", True),
        (SimpleNamespace(status=Status.PAUSED, wizard_step=1), "content", True),
    ],
)
def test_which_steps_may_be_opened(message, slug, openable):
    assert wizard.can_open(message, wizard.get_step(slug)) is openable


@pytest.mark.parametrize(("reached", "resume"), [(1, "name"), (2, "rules"), (7, "review")])
def test_continue_editing_resumes_at_the_furthest_step(reached, resume):
    assert wizard.resume_step(draft(reached)).slug == resume


def test_next_and_previous_follow_the_table():
    content = wizard.get_step("content")
    assert wizard.next_step(draft(7), content).slug == "schedule"
    assert wizard.previous_step(draft(7), content).slug == "goal"
    assert wizard.next_step(draft(7), wizard.LAST) is None
    assert wizard.previous_step(draft(7), wizard.FIRST) is None


# A table with a skipped step, as a future step might be ("Display" only for some types).
TABLE = (
    Step(1, "one", "One", forms.EmptyStepForm, "one.html"),
    Step(2, "two", "Two", forms.EmptyStepForm, "two.html", skip=lambda m: m.skip_two),
    Step(3, "three", "Three", forms.EmptyStepForm, "three.html"),
)


def test_skipped_steps_are_jumped_over_and_left_out_of_the_progress():
    message = SimpleNamespace(status=Status.DRAFT, wizard_step=3, skip_two=True)
    one, two, three = TABLE
    assert wizard.next_step(message, one, TABLE) == three
    assert wizard.previous_step(message, three, TABLE) == one
    assert not wizard.can_open(message, two, TABLE)
    assert [i.step.slug for i in wizard.progress(message, one, TABLE)] == ["one", "three"]
    message.skip_two = False
    assert wizard.next_step(message, one, TABLE) == two


def test_progress_marks_current_complete_and_upcoming():
    items = wizard.progress(draft(3), wizard.get_step("rules"))
    assert [(i.step.slug, i.status, i.openable) for i in items] == [
        ("name", "complete", True),
        ("rules", "current", False),
        ("frequency", "upcoming", True),
        ("goal", "upcoming", False),
        ("content", "upcoming", False),
        ("schedule", "upcoming", False),
        ("review", "upcoming", False),
    ]


def test_a_launched_message_shows_every_step_complete():
    launched = SimpleNamespace(status=Status.LAUNCHED, wizard_step=1)
    items = wizard.progress(launched, wizard.get_step("goal"))
    assert {i.status for i in items if i.step.slug != "goal"} == {"complete"}
    assert all(i.openable for i in items if i.step.slug != "goal")


@pytest.mark.django_db
def test_saving_a_step_records_progress_once():
    message = AnonymousMessageFactory(wizard_step=2)
    wizard.record_progress(message, wizard.get_step("rules"))
    assert message.wizard_step == 3
    wizard.record_progress(message, wizard.get_step("name"))  # going back never lowers it
    message.refresh_from_db()
    assert message.wizard_step == 3
    wizard.record_progress(message, wizard.LAST)
    message.refresh_from_db()
    assert message.wizard_step == 7
