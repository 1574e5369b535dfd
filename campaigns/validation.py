"""What is wrong with a message's values: the one home of its validation rules.

Pure: plain values in, a list of `Problem`s out (no queries; only the enums of
campaigns/models.py). Each problem names the field three ways, so that each surface maps it
without deciding anything again:

- `form_field`: the wizard form's field (campaigns/forms.py); `field`: the model's field
  (the Django admin);
- `api_path`: the App API's dotted path (campaigns/serializers.py), `api_code` its error code;
- `step`: the wizard step's slug (campaigns/wizard.py numbers the steps).

The surfaces word some problems differently (the wizard speaks to a marketer in a form, the
App API to a developer, the admin to staff), so a problem carries the text for each surface
that checks it; `None` means that surface does not check it (e.g. the admin accepts an end
in the past: ended messages have one). `launch` is the sentence the review step and the
App API's `not_ready` list show, before the step is named.
"""

from dataclasses import dataclass
from datetime import datetime

from campaigns import audience, content, rules, triggers
from campaigns.models import (
    POSITIONS_BY_DISPLAY,
    DisplayType,
    FrequencyMode,
    GoalCondition,
    Position,
)

MIN_GOAL_WINDOW_HOURS = 1
MAX_GOAL_WINDOW_HOURS = 30 * 24
MIN_PRIORITY = 1
MAX_PRIORITY = 1000
MAX_TIMES = 100
MAX_INTERVAL_SECONDS = 365 * 24 * 3600
ELEMENT_ID_HELP = "The id of the element on your page, without #, e.g. signup-slot."
# The builder's buttons take an address or a path on the site; `content.is_safe_url` also
# allows relative URLs (`signup`, `../x`) for hand-written HTML.
BUTTON_URL_PREFIXES = ("https://", "http://", "/", "mailto:", "tel:")
SEGMENT_CONDITIONS = (GoalCondition.SEGMENT_ENTERED, GoalCondition.SEGMENT_LEFT)


@dataclass(frozen=True)
class Problem:
    """One thing wrong; the texts are per surface (None: that surface does not check it)."""

    code: str
    step: str
    field: str
    form_field: str | None
    api_path: str
    api: str | None = None
    form: str | None = None
    admin: str | None = None
    launch: str | None = None
    api_code: str = "invalid"


def check_name(name: str) -> list[Problem]:
    if name.strip():
        return []
    return [
        Problem(
            code="name_required",
            step="name",
            field="name",
            form_field="name",
            api_path="name",
            api="Give the message a name (shown to your team, never to visitors).",
            form="Give the message a name, e.g. “Pricing page offer”.",
            launch="Give the message a name",
            api_code="required",
        )
    ]


def check_rule(*, platform, operator, value, index: int = 0) -> list[Problem]:
    try:
        rules.validate_rule(platform=platform, operator=operator, value=value)
    except rules.RuleError as exc:
        return [
            Problem(
                code=f"rule_{exc.field}",
                step="rules",
                field=exc.field,
                form_field=exc.field,
                api_path=f"pageRules[{index}].{exc.field}",
                api=exc.message,
                form=exc.message,
                admin=exc.message,
                launch=f"Page rule “{value}”: {exc.message}",
            )
        ]
    return []


def check_rule_count(count: int) -> list[Problem]:
    """`count` rules would be stored (the API replaces them; the wizard adds one)."""
    if count <= rules.MAX_RULES_PER_MESSAGE:
        return []
    limit = rules.MAX_RULES_PER_MESSAGE
    return [
        Problem(
            code="too_many_rules",
            step="rules",
            field="rules",
            form_field=None,
            api_path="pageRules",
            api=f"A message has at most {limit} page rules.",
            form=f"A message has at most {limit} page rules: remove one, "
            "or combine several with a * wildcard.",
        )
    ]


def check_frequency(*, mode: str, times: int | None, min_interval_seconds: int) -> list[Problem]:
    problems = []
    if mode == FrequencyMode.TIMES and not (times or 0) >= 1:
        problems.append(
            Problem(
                code="times_required",
                step="frequency",
                field="frequency_times",
                form_field="times",
                api_path="frequency.times",
                form="Enter how many times a visitor may see it (1 to 100).",
                launch="“Up to N times” needs N of at least 1",
            )
        )
    if min_interval_seconds > MAX_INTERVAL_SECONDS:
        problems.append(
            Problem(
                code="interval_too_long",
                step="frequency",
                field="min_interval_seconds",
                form_field="min_interval",
                api_path="frequency.minIntervalSeconds",
                form="Keep the minimum interval under a year.",
            )
        )
    return problems


def check_goal(
    *, condition: str, event: str, segment_id: int | None, window_hours: int | None
) -> list[Problem]:
    """`window_hours` None: not given (the App API bounds it as it reads it)."""
    return check_goal_window(window_hours) + check_goal_condition(
        condition=condition, event=event, segment_id=segment_id
    )


def check_goal_window(window_hours: int | None) -> list[Problem]:
    if window_hours is None or MIN_GOAL_WINDOW_HOURS <= window_hours <= MAX_GOAL_WINDOW_HOURS:
        return []
    return [
        Problem(
            code="window_out_of_range",
            step="goal",
            field="goal_window_hours",
            form_field="window",
            api_path="goal.windowHours",
            form="The window can be at most 30 days (720 hours).",
            launch="The conversion window must be between 1 hour and 30 days",
        )
    ]


def check_goal_condition(*, condition: str, event: str, segment_id: int | None) -> list[Problem]:
    problems = []
    if condition == GoalCondition.EVENT and not (event or "").strip():
        problems.append(
            Problem(
                code="event_required",
                step="goal",
                field="goal_event",
                form_field="event",
                api_path="goal.condition.event",
                api="A goal condition of type event needs the event's name (goal.condition.event).",
                form="Enter the event name, exactly as your site sends it.",
                launch="The goal needs the event name",
                api_code="required",
            )
        )
    if condition in SEGMENT_CONDITIONS and segment_id is None:
        problems.append(
            Problem(
                code="segment_required",
                step="goal",
                field="goal_segment",
                form_field="segment",
                api_path="goal.condition.segmentId",
                api=f"A goal condition of type {condition} needs a segment "
                "(goal.condition.segmentId).",
                form="Choose the segment.",
                launch="The goal needs a segment",
                api_code="required",
            )
        )
    return problems


def check_trigger(raw) -> list[Problem]:
    """The trigger in its App API shape (`normalise_trigger` stores it)."""
    try:
        triggers.normalise_trigger(raw)
    except triggers.TriggerError as exc:
        form_field = "trigger_type" if exc.field == "type" else f"trigger_{exc.field}"
        return [
            Problem(
                code=f"trigger_{exc.field}",
                step="frequency",
                field="trigger",
                form_field=form_field,
                api_path=f"trigger.{exc.field}",
                api=exc.message,
                form=exc.message,
                admin=exc.message,
                launch=f"Display trigger: {exc.message}",
            )
        ]
    return []


def check_audience(raw) -> list[Problem]:
    """Audience conditions in their App API shape (`normalise_audience` stores them).

    The wizard's formset names the field `audience-<index>-<key>` (Django's formset prefix)."""
    try:
        audience.normalise_audience(raw)
    except audience.AudienceError as exc:
        path = f"audience[{exc.index}]" + (f".{exc.field}" if exc.field else "")
        return [
            Problem(
                code=f"audience_{exc.field or 'invalid'}",
                step="rules",
                field="audience",
                form_field=f"audience-{exc.index}-{exc.field}" if exc.field else None,
                api_path=path,
                api=exc.message,
                form=exc.message,
                admin=f"Condition {exc.index + 1}: {exc.message}",
                launch=f"Audience condition {exc.index + 1}: {exc.message}",
            )
        ]
    return []


MAX_VARIANTS = 4
VARIANT_KEYS = ("A", "B", "C", "D")
MAX_HOLDOUT_PERCENT = 50


def _experiment_problem(code: str, text: str, *, api_path: str, form_field: str | None):
    return Problem(
        code=code,
        step="content",
        field="variants",
        form_field=form_field,
        api_path=api_path,
        api=text,
        form=text,
        admin=text,
        launch=f"Experiment: {text}",
    )


def check_experiment(*, weights: list[tuple[str, object]], holdout_percent) -> list[Problem]:
    """The split of an experiment: `weights` is [(key, weight)] in order, A first.

    The wizard names its fields `variant_<key>_weight` and `holdout_percent`; the App API's
    paths are `experiment.variants[i].weight` and `experiment.holdoutPercent`. Each variant's
    content is checked like the message's (`check_content`)."""
    problems = []
    keys = [key for key, _ in weights]
    if not 1 <= len(keys) <= MAX_VARIANTS:
        problems.append(
            _experiment_problem(
                "too_many_variants",
                f"An experiment has 1 to {MAX_VARIANTS} variants (A to D).",
                api_path="experiment.variants",
                form_field=None,
            )
        )
    elif keys != list(VARIANT_KEYS[: len(keys)]):
        problems.append(
            _experiment_problem(
                "variant_keys",
                "Variants are named A, B, C, D in this order, each once.",
                api_path="experiment.variants",
                form_field=None,
            )
        )
    total = 0
    for index, (key, weight) in enumerate(weights):
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            problems.append(
                _experiment_problem(
                    "weight_invalid",
                    f"Variant {key}'s weight must be a whole number from 0 to 100.",
                    api_path=f"experiment.variants[{index}].weight",
                    form_field=f"variant_{key}_weight",
                )
            )
            continue
        total += weight
    if not problems and total != 100:
        problems.append(
            _experiment_problem(
                "weights_sum",
                f"The variants' weights must add up to 100 (they add up to {total}).",
                api_path="experiment.variants",
                form_field=f"variant_{keys[-1]}_weight" if keys else None,
            )
        )
    if (
        isinstance(holdout_percent, bool)
        or not isinstance(holdout_percent, int)
        or not 0 <= holdout_percent <= MAX_HOLDOUT_PERCENT
    ):
        problems.append(
            _experiment_problem(
                "holdout_invalid",
                f"The holdout must be a whole number of percent from 0 to {MAX_HOLDOUT_PERCENT}.",
                api_path="experiment.holdoutPercent",
                form_field="holdout_percent",
            )
        )
    return problems


def check_content(html: str) -> list[Problem]:
    try:
        content.validate_html(html)
    except content.ContentError as exc:
        return [_content_problem(exc.message)]
    return []


def _content_problem(text: str, *, form_field: str | None = "html") -> Problem:
    return Problem(
        code="content_invalid",
        step="content",
        field="content_html",
        form_field=form_field,
        api_path="content.html",
        api=text,
        form=text,
        admin=text,
        launch=text,
    )


def check_builder_text(*, form_field: str, text: str) -> list[Problem]:
    """Liquid in the builder's heading or text (its HTML escapes everything else)."""
    found = content.find_liquid(text)
    if not found:
        return []
    return [
        Problem(
            code="liquid",
            step="content",
            field="content_builder",
            form_field=form_field,
            api_path="content.html",
            form=f"Liquid is not supported (found “{found[:40]}”): the visitor is "
            "anonymous, so there is nothing to personalise. Write plain text instead.",
        )
    ]


def check_button_action(*, form_field: str, action: str, taken: set[str]) -> list[Problem]:
    """A builder button's action name; `taken`: the names of the buttons before it."""
    if not content.ACTION_NAME.match(action):
        text = "Use letters, digits, - _ . or : for the action name, e.g. signup."
    elif action in taken:
        text = f"Another button already reports “{action}”: give each button its own name."
    else:
        return []
    return [
        Problem(
            code="button_action",
            step="content",
            field="content_builder",
            form_field=form_field,
            api_path="content.html",
            form=text,
        )
    ]


def check_button_kind(*, form_field: str, kind: str, url: str) -> list[Problem]:
    """What a builder button of this kind needs: a link goes somewhere. (A close control's
    URL and action name are ignored: the builder hides those fields for it.)"""
    if kind == content.LINK_BUTTON and not url:
        text = "A link needs a URL: enter where it takes the visitor (https://… or /pricing)."
    elif kind not in content.BUTTON_KINDS:
        text = "Choose what the button does: a tracked action, close, or a link."
    else:
        return []
    return [
        Problem(
            code="button_kind",
            step="content",
            field="content_builder",
            form_field=form_field,
            api_path="content.html",
            form=text,
        )
    ]


def check_button_url(*, form_field: str, url: str) -> list[Problem]:
    if not url or (url.startswith(BUTTON_URL_PREFIXES) and content.is_safe_url(url)):
        return []
    return [
        Problem(
            code="button_url",
            step="content",
            field="content_builder",
            form_field=form_field,
            api_path="content.html",
            form="Enter a full address (https://…) or a path on your site (/signup).",
        )
    ]


def check_display(
    *, display_type: str, position: str | None, element_id: str, position_given: bool = True
) -> list[Problem]:
    """`position_given`: the position was chosen, not left to the type's default."""
    allowed = POSITIONS_BY_DISPLAY.get(display_type)
    if allowed is None:
        return [
            Problem(
                code="unknown_display_type",
                step="content",
                field="display_type",
                form_field="display_type",
                api_path="display.type",
                launch=f"Unknown display type “{display_type}”",
            )
        ]
    if display_type == DisplayType.INLINE:
        return _check_inline(element_id, position_given=position_given)
    if position in allowed or not position_given:
        return []
    kind = DisplayType(display_type)
    labels = " or ".join(Position(p).label for p in allowed)
    return [
        Problem(
            code="position_not_allowed",
            step="content",
            field="display_position",
            form_field="display_position",
            api_path="display.position",
            api=f"A {display_type} cannot be at “{position}”: use one of {', '.join(allowed)}.",
            form=f"A {kind.label.lower()} can be shown at: {labels}. Choose one.",
            admin=f"A {display_type} is shown at {', '.join(allowed)}.",
            launch=f"“{position}” is not a position for a {display_type}: "
            f"choose {', '.join(allowed)}",
        )
    ]


def _check_inline(element_id: str, *, position_given: bool) -> list[Problem]:
    problems = []
    if position_given:
        problems.append(
            Problem(
                code="inline_position",
                step="content",
                field="display_position",
                form_field="display_position",
                api_path="display.position",
                api="Inline messages have no position (they render inside the page element "
                "display.elementId): send null or leave it out.",
            )
        )
    if not element_id.strip():
        problems.append(
            Problem(
                code="element_id_required",
                step="content",
                field="display_element_id",
                form_field="display_element_id",
                api_path="display.elementId",
                api="Inline messages need the id of the page element to render into "
                "(display.elementId).",
                form="Inline messages need the element id. " + ELEMENT_ID_HELP,
                admin="Inline messages need the page element's id.",
                launch="Inline messages need the id of the page element to render into",
                api_code="required",
            )
        )
    elif any(char.isspace() for char in element_id):
        problems.append(
            Problem(
                code="element_id_spaces",
                step="content",
                field="display_element_id",
                form_field="display_element_id",
                api_path="display.elementId",
                api="An element id has no spaces (it is the element's id attribute, without #).",
                form="An id has no spaces. " + ELEMENT_ID_HELP,
            )
        )
    return problems


def check_schedule(
    *, starts_at: datetime | None, ends_at: datetime | None, now: datetime
) -> list[Problem]:
    """A start in the past is fine: it means "now"."""
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        text = "The end must be after the start: pick a later end, or “never”."
        return [
            _schedule_problem("end_before_start", text, admin="The end must be after the start.")
        ]
    if ends_at is not None and ends_at <= now:
        text = "The end is in the past: pick a later end date or choose “never”."
        return [_schedule_problem("end_in_past", text, admin=None)]
    return []


def _schedule_problem(code: str, text: str, *, admin: str | None) -> Problem:
    return Problem(
        code=code,
        step="schedule",
        field="ends_at",
        form_field="ends_at",
        api_path="schedule.endsAt",
        api=text,
        form=text,
        admin=admin,
        launch=text,
    )


def launch_problems(values: dict, *, page_rules, now: datetime) -> list[Problem]:
    """Everything that must be fixed before a message with these model values can launch.

    `values` holds the model's field values (`goal_segment_id` for the segment); `page_rules`
    the rules as (platform, operator, value) triples. Each problem has a `launch` text.
    """
    problems = check_name(values["name"])
    for index, (platform, operator, value) in enumerate(page_rules):
        problems += check_rule(platform=platform, operator=operator, value=value, index=index)
    problems += check_content(values["content_html"])
    problems += check_display(
        display_type=values["display_type"],
        position=values["display_position"],
        element_id=values["display_element_id"],
        position_given=values["display_type"] != DisplayType.INLINE,
    )
    problems += check_frequency(
        mode=values["frequency_mode"], times=values["frequency_times"], min_interval_seconds=0
    )
    problems += check_trigger(values.get("trigger"))
    problems += check_audience(values.get("audience"))
    problems += check_goal_window(values["goal_window_hours"])
    problems += check_schedule(starts_at=values["starts_at"], ends_at=values["ends_at"], now=now)
    problems += check_goal_condition(
        condition=values["goal_condition"],
        event=values["goal_event"],
        segment_id=values["goal_segment_id"],
    )
    return [problem for problem in problems if problem.launch is not None]
