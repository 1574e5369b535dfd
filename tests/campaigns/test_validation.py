"""campaigns/validation.py: one table of message problems, and the surfaces that map them."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns import lifecycle, validation, wizard
from campaigns.models import AnonymousMessage
from campaigns.validation import (
    check_builder_text,
    check_button_action,
    check_button_url,
    check_content,
    check_display,
    check_frequency,
    check_goal,
    check_name,
    check_rule,
    check_rule_count,
    check_schedule,
)
from tests.campaigns.test_admin import admin_url, message_form
from tests.campaigns.test_api_messages import LIST_URL, Api
from tests.factories import AnonymousMessageFactory

NOW = dt.datetime(2030, 6, 1, 12, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
VALID_HTML = '<h2>Hi</h2><a data-action="signup" href="/signup">Sign up</a>'

# (check, its values) → [(code, form field, API path, wizard step)]; [] is "no problem".
CASES = [
    (check_name, {"name": "Spring offer"}, []),
    (check_name, {"name": "  "}, [("name_required", "name", "name", "name")]),
    (check_rule, {"platform": "web", "operator": "is", "value": "/pricing"}, []),
    (
        check_rule,
        {"platform": "web", "operator": "is", "value": " ", "index": 2},
        [("rule_value", "value", "pageRules[2].value", "rules")],
    ),
    (
        check_rule,
        {"platform": "tv", "operator": "is", "value": "/"},
        [("rule_platform", "platform", "pageRules[0].platform", "rules")],
    ),
    (
        check_rule,
        {"platform": "web", "operator": "near", "value": "/"},
        [("rule_operator", "operator", "pageRules[0].operator", "rules")],
    ),
    (
        check_rule,
        {"platform": "web", "operator": "regex", "value": "(["},
        [("rule_value", "value", "pageRules[0].value", "rules")],
    ),
    (check_rule_count, {"count": 100}, []),
    (check_rule_count, {"count": 101}, [("too_many_rules", None, "pageRules", "rules")]),
    (check_frequency, {"mode": "until_dismissed", "times": None, "min_interval_seconds": 0}, []),
    (check_frequency, {"mode": "times", "times": 3, "min_interval_seconds": 3600}, []),
    (
        check_frequency,
        {"mode": "times", "times": None, "min_interval_seconds": 0},
        [("times_required", "times", "frequency.times", "frequency")],
    ),
    (
        check_frequency,
        {"mode": "times", "times": 0, "min_interval_seconds": 0},
        [("times_required", "times", "frequency.times", "frequency")],
    ),
    (check_frequency, {"mode": "always", "times": 1, "min_interval_seconds": 365 * 86400}, []),
    (
        check_frequency,
        {"mode": "always", "times": 1, "min_interval_seconds": 365 * 86400 + 1},
        [("interval_too_long", "min_interval", "frequency.minIntervalSeconds", "frequency")],
    ),
    (check_goal, {"condition": "none", "event": "", "segment_id": None, "window_hours": 1}, []),
    (check_goal, {"condition": "none", "event": "", "segment_id": None, "window_hours": 720}, []),
    (
        check_goal,
        {"condition": "none", "event": "", "segment_id": None, "window_hours": 721},
        [("window_out_of_range", "window", "goal.windowHours", "goal")],
    ),
    (
        check_goal,
        {"condition": "none", "event": "", "segment_id": None, "window_hours": 0},
        [("window_out_of_range", "window", "goal.windowHours", "goal")],
    ),
    (
        check_goal,
        {"condition": "event", "event": " ", "segment_id": None, "window_hours": None},
        [("event_required", "event", "goal.condition.event", "goal")],
    ),
    (
        check_goal,
        {"condition": "segment_left", "event": "", "segment_id": None, "window_hours": 168},
        [("segment_required", "segment", "goal.condition.segmentId", "goal")],
    ),
    (
        check_goal,
        {"condition": "segment_entered", "event": "", "segment_id": 3, "window_hours": 1},
        [],
    ),
    (check_content, {"html": VALID_HTML}, []),
    (check_content, {"html": ""}, [("content_invalid", "html", "content.html", "content")]),
    (
        check_content,
        {"html": "<p>Hi {{ first_name }}</p>"},
        [("content_invalid", "html", "content.html", "content")],
    ),
    (
        check_content,
        {"html": '<a data-action="x" href="javascript:alert(1)">x</a>'},
        [("content_invalid", "html", "content.html", "content")],
    ),
    (check_builder_text, {"form_field": "heading", "text": "Welcome back"}, []),
    (
        check_builder_text,
        {"form_field": "text", "text": "Hi {% if x %}"},
        [("liquid", "text", "content.html", "content")],
    ),
    (check_button_action, {"form_field": "button1_action", "action": "signup", "taken": set()}, []),
    (
        check_button_action,
        {"form_field": "button2_action", "action": "signup", "taken": {"signup"}},
        [("button_action", "button2_action", "content.html", "content")],
    ),
    (
        check_button_action,
        {"form_field": "button1_action", "action": "sign up", "taken": set()},
        [("button_action", "button1_action", "content.html", "content")],
    ),
    (check_button_url, {"form_field": "button1_url", "url": ""}, []),
    (check_button_url, {"form_field": "button1_url", "url": "/signup"}, []),
    (check_button_url, {"form_field": "button1_url", "url": "mailto:a@example.com"}, []),
    (
        check_button_url,
        {"form_field": "button2_url", "url": "javascript:alert(1)"},
        [("button_url", "button2_url", "content.html", "content")],
    ),
    (
        check_button_url,
        {"form_field": "button1_url", "url": "signup"},
        [("button_url", "button1_url", "content.html", "content")],
    ),
    (check_display, {"display_type": "modal", "position": "top", "element_id": ""}, []),
    (check_display, {"display_type": "overlay", "position": "bottom-left", "element_id": ""}, []),
    (
        check_display,
        {"display_type": "banner", "position": "center", "element_id": ""},
        [("position_not_allowed", "display_position", "display.position", "content")],
    ),
    (
        check_display,
        {"display_type": "banner", "position": None, "element_id": "", "position_given": False},
        [],
    ),
    (
        check_display,
        {"display_type": "popup", "position": "center", "element_id": ""},
        [("unknown_display_type", "display_type", "display.type", "content")],
    ),
    (
        check_display,
        {"display_type": "inline", "position": None, "element_id": "slot", "position_given": False},
        [],
    ),
    (
        check_display,
        {"display_type": "inline", "position": "top", "element_id": "slot"},
        [("inline_position", "display_position", "display.position", "content")],
    ),
    (
        check_display,
        {"display_type": "inline", "position": None, "element_id": " ", "position_given": False},
        [("element_id_required", "display_element_id", "display.elementId", "content")],
    ),
    (
        check_display,
        {"display_type": "inline", "position": None, "element_id": "a b", "position_given": False},
        [("element_id_spaces", "display_element_id", "display.elementId", "content")],
    ),
    (check_schedule, {"starts_at": None, "ends_at": None, "now": NOW}, []),
    (check_schedule, {"starts_at": NOW - HOUR, "ends_at": NOW + HOUR, "now": NOW}, []),
    (
        check_schedule,
        {"starts_at": NOW + 2 * HOUR, "ends_at": NOW + HOUR, "now": NOW},
        [("end_before_start", "ends_at", "schedule.endsAt", "schedule")],
    ),
    (
        check_schedule,
        {"starts_at": None, "ends_at": NOW, "now": NOW},
        [("end_in_past", "ends_at", "schedule.endsAt", "schedule")],
    ),
]


@pytest.mark.parametrize(
    ("check", "values", "expected"),
    CASES,
    ids=[f"{check.__name__}-{index}" for index, (check, _, _) in enumerate(CASES)],
)
def test_each_problem_names_its_form_field_api_path_and_wizard_step(check, values, expected):
    problems = check(**values)
    assert [(p.code, p.form_field, p.api_path, p.step) for p in problems] == expected


@pytest.mark.parametrize(("check", "values", "expected"), [case for case in CASES if case[2]])
def test_every_problem_has_a_text_and_a_step_the_wizard_has(check, values, expected):
    for problem in check(**values):
        assert wizard.get_step(problem.step) is not None
        texts = (problem.api, problem.form, problem.admin, problem.launch)
        assert any(texts), problem.code


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (check_name("")[0], "Give the message a name (step 1)."),
        (
            check_rule(platform="web", operator="is", value="")[0],
            "Page rule “”: Enter a value, e.g. /pricing (web) or Checkout (mobile screen). "
            "(step 2)",
        ),
        (
            check_goal(condition="event", event="", segment_id=None, window_hours=1)[0],
            "The goal needs the event name (step 4).",
        ),
        (
            check_schedule(starts_at=None, ends_at=NOW, now=NOW)[0],
            "The end is in the past: pick a later end date or choose “never”. (step 6)",
        ),
    ],
)
def test_the_launch_list_names_the_step_by_the_wizards_number(problem, text):
    assert lifecycle.with_step(problem) == text


@pytest.mark.django_db
def test_launch_problems_come_in_the_order_of_the_review_step():
    segment_goal = {"goal_condition": "segment_left", "goal_segment": None}
    message = AnonymousMessageFactory(
        name=" ",
        content_html="",
        display_type="inline",
        display_element_id="",
        frequency_mode="times",
        frequency_times=0,
        goal_window_hours=0,
        ends_at=timezone.now() - HOUR,
        **segment_goal,
    )
    steps = [text.rsplit("(step ", 1)[1][0] for text in lifecycle.launch_problems(message)]
    assert steps == ["1", "5", "5", "3", "4", "6", "4"]


# --- The App API answers the launch list as it always has ---------------------------------------


@pytest.fixture
def api(client, workspace):
    return Api(client, workspace.rotate_api_key())


def test_the_api_launch_list_drops_the_step_only_after_a_full_sentence(api, workspace):
    draft = AnonymousMessageFactory(
        workspace=workspace, display_type="inline", display_element_id="", content_html=""
    )

    response = api.post(f"{LIST_URL}/{draft.id}/launch")

    assert response.status_code == 409
    assert response.json()["problems"] == [
        "The message has no content: write some HTML or use the builder.",
        # The review step's wording, step included (as before the validation moved).
        "Inline messages need the id of the page element to render into (step 5).",
    ]


@pytest.mark.parametrize(
    ("display", "field", "code", "text"),
    [
        (
            {"type": "inline", "position": "top", "elementId": "slot"},
            "display.position",
            "invalid",
            "Inline messages have no position (they render inside the page element "
            "display.elementId): send null or leave it out.",
        ),
        (
            {"type": "inline"},
            "display.elementId",
            "required",
            "Inline messages need the id of the page element to render into (display.elementId).",
        ),
        (
            {"type": "inline", "elementId": "a b"},
            "display.elementId",
            "invalid",
            "An element id has no spaces (it is the element's id attribute, without #).",
        ),
        (
            {"type": "banner", "position": "center"},
            "display.position",
            "invalid",
            "A banner cannot be at “center”: use one of top, bottom.",
        ),
    ],
)
def test_the_api_maps_display_problems_to_its_path_code_and_text(api, display, field, code, text):
    response = api.post(LIST_URL, {"name": "Display", "display": display})

    assert response.status_code == 400
    assert response.json() == {"error": code, "message": text, "field": field}
    assert not AnonymousMessage.objects.exists()


# --- The admin maps the problems it checks to the model's fields --------------------------------


def test_the_admin_maps_display_and_schedule_problems_to_model_fields(admin_client):
    message = AnonymousMessageFactory()
    day = (timezone.now() + dt.timedelta(days=2)).strftime("%Y-%m-%d")
    form = message_form(
        message,
        display_type="banner",
        display_position="center",
        starts_at_0=day,
        starts_at_1="10:00:00",
        ends_at_0=day,
        ends_at_1="09:00:00",
    )

    response = admin_client.post(admin_url("anonymousmessage", "change", message.pk), form)

    errors = response.context["adminform"].form.errors
    assert errors["display_position"] == ["A banner is shown at top, bottom."]
    assert errors["ends_at"] == ["The end must be after the start."]
    message.refresh_from_db()
    assert message.display_type == "modal"


def test_problems_are_plain_values():
    problem = validation.check_name("")[0]
    with pytest.raises(AttributeError):
        problem.code = "other"  # frozen: a surface maps it, never edits it
