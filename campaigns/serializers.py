"""Anonymous messages ↔ the App API's JSON (DESIGN.md §3). Decisions: docs/app-api.md.

`message_to_json` writes the representation; `parse_message_payload` reads a POST or PATCH
body into model values, raising `BadInput` whose `field` is a dotted path
(`pageRules[0].operator`, `schedule.endsAt`); `save_message` writes them in one transaction.

Parsing starts from the defaults of DESIGN.md §2 (POST) or from the message's current values
(PATCH), lays the fields of the body over them (nested objects merge field by field;
`pageRules`, when given, replaces the whole list) and then validates the result as a whole,
so a PATCH can never leave a message in a shape a POST could not create.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from django.db import transaction
from django.utils import timezone

from anonmsg.api import BadInput
from anonmsg.dates import FIRST_YEAR, LAST_YEAR, RANGE_TEXT, is_supported_moment
from campaigns import audience, experiments, triggers, validation
from campaigns.models import (
    POSITIONS_BY_DISPLAY,
    AnonymousMessage,
    DisplayType,
    FrequencyMode,
    GoalCondition,
    GoalTrigger,
    PageRule,
    Position,
    Segment,
    State,
    Status,
)
from campaigns.rules import MAX_RULES_PER_MESSAGE, OPERATORS, PLATFORMS

MAX_NAME = 120
MAX_DESCRIPTION = 2000
# The same bounds as the dashboard's wizard (campaigns/validation.py).
MIN_PRIORITY, MAX_PRIORITY = validation.MIN_PRIORITY, validation.MAX_PRIORITY
MIN_WINDOW_HOURS, MAX_WINDOW_HOURS = (
    validation.MIN_GOAL_WINDOW_HOURS,
    validation.MAX_GOAL_WINDOW_HOURS,
)
MAX_TIMES = validation.MAX_TIMES
MAX_INTERVAL_SECONDS = validation.MAX_INTERVAL_SECONDS
MAX_EVENT_NAME = 200
MAX_ELEMENT_ID = 200
MAX_RULES = MAX_RULES_PER_MESSAGE
# Ids beyond a 64-bit integer name nothing (and would make the database raise).
MAX_ID = 2**63 - 1

TOP_LEVEL_KEYS = (
    "id",
    "state",
    "name",
    "description",
    "priority",
    "pageRules",
    "frequency",
    "goal",
    "content",
    "display",
    "schedule",
    "trigger",
    "audience",
    "experiment",
)

DEFAULTS = {
    "name": "",
    "description": "",
    "priority": 1,
    "frequency_mode": FrequencyMode.UNTIL_DISMISSED,
    "frequency_times": 1,
    "min_interval_seconds": 0,
    "goal_trigger": GoalTrigger.CLICK,
    "goal_window_hours": 168,
    "goal_condition": GoalCondition.NONE,
    "goal_event": "",
    "goal_segment": None,
    "content_html": "",
    "display_type": DisplayType.MODAL,
    "display_position": Position.CENTER,
    "display_element_id": "",
    "starts_at": None,
    "ends_at": None,
    "trigger": triggers.default_trigger(),
    "audience": [],
}


# --- Output --------------------------------------------------------------------------------


def _iso(value: datetime | None, tz: tzinfo) -> str | None:
    if value is None:
        return None
    if not FIRST_YEAR - 1 <= value.year <= LAST_YEAR + 1:  # stored in UTC: a year either side
        # Stored before dates were bounded (anonmsg/dates.py): near year 1 or 9999, another
        # time zone could overflow, or give an offset in seconds that is not RFC 3339.
        return value.astimezone(UTC).isoformat()
    return value.astimezone(tz).isoformat()


def message_to_json(message: AnonymousMessage, *, now=None, tz: tzinfo | None = None) -> dict:
    """The App API representation. Dates are ISO-8601 in the workspace's time zone.

    Pass `now` and `tz` when serialising many messages (one clock, no workspace query each);
    prefetch `rules` for lists.
    """
    now = now or timezone.now()
    tz = tz or message.workspace.tz
    condition = message.goal_condition
    is_inline = message.display_type == DisplayType.INLINE
    return {
        "id": message.id,
        "state": message.state_at(now),
        "name": message.name,
        "description": message.description,
        "priority": message.priority,
        "pageRules": [
            {
                "platform": rule.platform,
                "operator": rule.operator,
                "value": rule.value,
                "exclude": rule.exclude,
                "caseSensitive": rule.case_sensitive,
            }
            for rule in message.rules.all()
        ],
        "frequency": {
            "mode": message.frequency_mode,
            "times": (
                message.frequency_times if message.frequency_mode == FrequencyMode.TIMES else None
            ),
            "minIntervalSeconds": message.min_interval_seconds,
        },
        "goal": {
            "trigger": message.goal_trigger,
            "windowHours": message.goal_window_hours,
            "condition": {
                "type": condition,
                "event": message.goal_event if condition == GoalCondition.EVENT else None,
                "segmentId": (
                    message.goal_segment_id
                    if condition in (GoalCondition.SEGMENT_ENTERED, GoalCondition.SEGMENT_LEFT)
                    else None
                ),
            },
        },
        "content": {"html": message.content_html},
        "display": {
            "type": message.display_type,
            "position": None if is_inline else message.display_position,
            "elementId": (message.display_element_id or None) if is_inline else None,
        },
        "schedule": {
            "startsAt": _iso(message.starts_at, tz),
            "endsAt": _iso(message.ends_at, tz),
        },
        "trigger": message.trigger or triggers.default_trigger(),
        "audience": list(message.audience or []),
        "experiment": experiments.experiment_to_json(message, tz=tz),
    }


# --- Input: JSON types ---------------------------------------------------------------------


def _type_error(field_name: str, expected: str, value) -> BadInput:
    got = "null" if value is None else type(value).__name__
    got = {"str": "a string", "int": "a number", "float": "a number", "bool": "a boolean"}.get(
        got, {"dict": "an object", "list": "an array"}.get(got, got)
    )
    return BadInput(f"`{field_name}` must be {expected}, not {got}.", field=field_name)


def _object(value, field_name: str, keys: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        raise _type_error(field_name, "an object", value)
    for key in value:
        if key not in keys:
            raise BadInput(
                f"Unknown field `{field_name}.{key}`: {field_name} has {', '.join(keys)}.",
                field=f"{field_name}.{key}",
                code="unknown_field",
            )
    return value


def _check_text(value: str, field_name: str) -> str:
    """Text the database can store: no NUL character, no lone surrogate (`"\\ud800"`)."""
    if "\x00" in value:
        raise BadInput(f"`{field_name}` contains a NUL character (\\u0000).", field=field_name)
    try:
        value.encode()
    except UnicodeEncodeError:
        raise BadInput(
            f"`{field_name}` is not valid Unicode (it has a lone surrogate escape).",
            field=field_name,
        ) from None
    return value


def _string(value, field_name: str, *, max_length: int, nullable: bool = False) -> str:
    if value is None and nullable:
        return ""
    if not isinstance(value, str):
        raise _type_error(field_name, "a string" + (" or null" if nullable else ""), value)
    value = _check_text(value, field_name).strip()
    if len(value) > max_length:
        raise BadInput(f"`{field_name}` is longer than {max_length} characters.", field=field_name)
    return value


def _integer(value, field_name: str, *, minimum: int, maximum: int) -> int:
    # JSON true/false are not numbers, and 2.0 is accepted as 2 but 2.5 is not.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(field_name, "an integer", value)
    if not minimum <= value <= maximum:
        raise BadInput(
            f"`{field_name}` must be between {minimum} and {maximum:,}; got {value}.",
            field=field_name,
        )
    return value


def _boolean(value, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise _type_error(field_name, "true or false", value)
    return value


def _choice(value, field_name: str, choices) -> str:
    choices = [str(choice) for choice in choices]
    if not isinstance(value, str):
        raise _type_error(field_name, f"one of {', '.join(choices)}", value)
    if value not in choices:
        raise BadInput(
            f"Unknown {field_name} “{value[:40]}”: use one of {', '.join(choices)}.",
            field=field_name,
        )
    return value


def parse_datetime_value(value, field_name: str, *, tz: tzinfo) -> datetime | None:
    """ISO-8601 with an offset (or Z); a date-time without one is read in the workspace's
    time zone; a bare date means midnight there."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _type_error(field_name, "an ISO-8601 date-time string or null", value)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadInput(
            f"`{field_name}` is not an ISO-8601 date-time: “{value[:40]}”. "
            "Write e.g. 2030-01-31T09:00:00+01:00 (without an offset, the workspace's time "
            "zone is used).",
            field=field_name,
        ) from None
    if not is_supported_moment(parsed):
        raise BadInput(
            f"`{field_name}` must be {RANGE_TEXT}: “{value[:40]}”.",
            field=field_name,
        )
    # Converted here, before anything is saved, so that no answer can fail after the write.
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)


# --- Input: the message --------------------------------------------------------------------


@dataclass
class MessageValues:
    """Model field values to write, and the page rules (None: leave the rules alone)."""

    fields: dict
    rules: list[dict] | None = None
    # None: leave the experiment alone (campaigns/experiments.py).
    experiment: experiments.ExperimentValues | None = None


def current_values(message: AnonymousMessage) -> dict:
    values = {
        name: getattr(message, name) for name in DEFAULTS if name not in ("goal_segment", "trigger")
    }
    values["trigger"] = dict(message.trigger or triggers.default_trigger())
    values["goal_segment"] = message.goal_segment_id
    return values


def parse_message_payload(
    data, *, workspace, message: AnonymousMessage | None = None
) -> MessageValues:
    """A POST body (message=None: a new draft) or a PATCH body (partial update of `message`)."""
    if not isinstance(data, dict):
        raise BadInput("The request body must be a JSON object describing the message.")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise BadInput(
                f"Unknown field `{key}`. A message has: {', '.join(TOP_LEVEL_KEYS)}.",
                field=key,
                code="unknown_field",
            )
    _check_read_only(data, message)

    creating = message is None
    values = dict(DEFAULTS) if creating else current_values(message)
    # Copies: the JSON fields are mutable, and DEFAULTS is shared.
    values["trigger"], values["audience"] = dict(values["trigger"]), list(values["audience"])
    parsed = MessageValues(fields=values)

    if "name" in data:
        values["name"] = _string(data["name"], "name", max_length=MAX_NAME)
    if "name" in data or creating:
        _raise_first(validation.check_name(values["name"]))
    if "description" in data:
        values["description"] = _string(
            data["description"], "description", max_length=MAX_DESCRIPTION
        )
    if "priority" in data:
        values["priority"] = _integer(
            data["priority"], "priority", minimum=MIN_PRIORITY, maximum=MAX_PRIORITY
        )
    if "pageRules" in data:
        parsed.rules = _parse_rules(data["pageRules"])
    # Each section is checked as a whole after merging, and only when the body sends it (all
    # of them on POST): a PATCH of one section is never refused because of another.
    if "frequency" in data or creating:
        _parse_frequency(data.get("frequency", {}), values)
    if "goal" in data or creating:
        _parse_goal(data.get("goal", {}), values, workspace)
    if "content" in data:
        _parse_content(
            data["content"], values, launched=not creating and message.status != Status.DRAFT
        )
    if "display" in data or creating:
        _parse_display(data.get("display", {}), values)
    if "schedule" in data:
        _parse_schedule(data["schedule"], values, workspace.tz)
    if "trigger" in data:
        _parse_trigger(data["trigger"], values)
    if "audience" in data:
        values["audience"] = _parse_audience(data["audience"])
    if "experiment" in data:
        parsed.experiment = experiments.parse_experiment(data["experiment"], message=message)
        if message is not None:
            experiments.check_removals(message, parsed.experiment)
    return parsed


def _check_read_only(data: dict, message: AnonymousMessage | None) -> None:
    """`id` and `state` may be sent back as received, but never change anything."""
    if message is not None and "id" in data and data["id"] != message.id:
        raise BadInput(
            "`id` is read-only: it must match the message in the URL (or be left out).",
            field="id",
            code="read_only",
        )
    current_state = message.state if message is not None else State.DRAFT
    if "state" in data and data["state"] != current_state:
        raise BadInput(
            f"`state` is read-only (this message is {current_state}). Change it with "
            "POST /api/v1/anonymous-messages/{id}/launch, /pause, /resume or /end.",
            field="state",
            code="read_only",
        )


def _parse_frequency(value, values: dict) -> None:
    frequency = _object(value, "frequency", ("mode", "times", "minIntervalSeconds"))
    if "mode" in frequency:
        values["frequency_mode"] = _choice(
            frequency["mode"], "frequency.mode", FrequencyMode.values
        )
    if frequency.get("times") is not None:
        values["frequency_times"] = _integer(
            frequency["times"], "frequency.times", minimum=1, maximum=MAX_TIMES
        )
    if "minIntervalSeconds" in frequency:
        values["min_interval_seconds"] = _integer(
            frequency["minIntervalSeconds"],
            "frequency.minIntervalSeconds",
            minimum=0,
            maximum=MAX_INTERVAL_SECONDS,
        )
    if values["frequency_mode"] != FrequencyMode.TIMES:
        values["frequency_times"] = 1


def _parse_content(value, values: dict, *, launched: bool) -> None:
    content = _object(value, "content", ("html",))
    if "html" not in content:
        return
    html = content["html"]
    if not isinstance(html, str):
        raise _type_error("content.html", "a string", html)
    values["content_html"] = _check_text(html, "content.html")
    # HTML written through the API replaces whatever the dashboard's builder made.
    values["content_builder"] = None
    # A draft may wait for its content (launching checks it); a launched message may not.
    if values["content_html"].strip() or launched:
        _raise_first(validation.check_content(values["content_html"]))


def _parse_display(value, values: dict) -> None:
    display = _object(value, "display", ("type", "position", "elementId"))
    if "type" in display:
        values["display_type"] = _choice(display["type"], "display.type", DisplayType.values)
    position_given = display.get("position") is not None
    if position_given:
        values["display_position"] = _choice(
            display["position"], "display.position", Position.values
        )
    elif "position" in display:
        values["display_position"] = None
    if "elementId" in display:
        values["display_element_id"] = _string(
            display["elementId"], "display.elementId", max_length=MAX_ELEMENT_ID, nullable=True
        )
    _check_display(values, position_given)


def _parse_schedule(value, values: dict, tz: tzinfo) -> None:
    schedule = _object(value, "schedule", ("startsAt", "endsAt"))
    for key, name in (("startsAt", "starts_at"), ("endsAt", "ends_at")):
        if key in schedule:
            values[name] = parse_datetime_value(schedule[key], f"schedule.{key}", tz=tz)
    _raise_first(
        validation.check_schedule(
            starts_at=values["starts_at"], ends_at=values["ends_at"], now=timezone.now()
        )
    )


TRIGGER_KEYS = ("type", *dict.fromkeys(k for keys in triggers.KEYS_BY_TYPE.values() for k in keys))
AUDIENCE_KEYS = ("attribute", "operator", "value")


def _parse_trigger(value, values: dict) -> None:
    """Merged key by key over the current trigger, like the other objects (`null`: on page
    load); the keys its type does not use are then dropped (campaigns/triggers.py)."""
    if value is None:
        values["trigger"] = triggers.default_trigger()
        return
    trigger = dict(_object(value, "trigger", TRIGGER_KEYS))
    if "type" in trigger:
        _choice(trigger["type"], "trigger.type", triggers.TYPES)
    for key, low, high in (
        ("seconds", triggers.MIN_SECONDS, triggers.MAX_SECONDS),
        ("percent", triggers.MIN_PERCENT, triggers.MAX_PERCENT),
        ("fallbackSeconds", triggers.MIN_SECONDS, triggers.MAX_SECONDS),
    ):
        if key in trigger and not (key == "fallbackSeconds" and trigger[key] is None):
            trigger[key] = _integer(trigger[key], f"trigger.{key}", minimum=low, maximum=high)
    if "selector" in trigger:
        # Checked whatever the type, as the other keys: a selector sent is a selector.
        selector = _raw_string(
            trigger["selector"], "trigger.selector", max_length=triggers.MAX_SELECTOR
        )
        try:
            triggers.check_selector(selector)
        except triggers.TriggerError as exc:
            raise BadInput(exc.message, field="trigger.selector") from None
    merged = {**values["trigger"], **trigger}
    _raise_first(validation.check_trigger(merged))
    values["trigger"] = triggers.normalise_trigger(merged)


def _parse_audience(value) -> list[dict]:
    """The whole list, replacing the current one (`null`: everyone), as `pageRules`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _type_error("audience", "an array", value)
    if len(value) > audience.MAX_CONDITIONS:
        raise BadInput(
            f"A message has at most {audience.MAX_CONDITIONS} audience conditions.",
            field="audience",
        )
    conditions = []
    for index, raw in enumerate(value):
        prefix = f"audience[{index}]"
        raw = dict(_object(raw, prefix, AUDIENCE_KEYS))
        conditions.append(raw)
        if "attribute" not in raw:
            raise BadInput(
                "Each audience condition needs an attribute, e.g. device.",
                field=f"{prefix}.attribute",
                code="required",
            )
        _choice(raw["attribute"], f"{prefix}.attribute", audience.OPERATORS)
        if "operator" in raw:
            _choice(raw["operator"], f"{prefix}.operator", audience.OPERATOR_LABELS)
        if "value" not in raw:
            raise BadInput(
                "Each audience condition needs a value to compare with.",
                field=f"{prefix}.value",
                code="required",
            )
        if isinstance(raw["value"], str):
            _raw_string(raw["value"], f"{prefix}.value", max_length=audience.MAX_VALUE)
        elif isinstance(raw["value"], float) and raw["value"].is_integer():
            raw["value"] = int(raw["value"])
    _raise_first(validation.check_audience(conditions))
    return audience.normalise_audience(conditions)


def _raw_string(value, field_name: str, *, max_length: int) -> str:
    """A string the database can store, at most `max_length` characters as sent."""
    if not isinstance(value, str):
        raise _type_error(field_name, "a string", value)
    _check_text(value, field_name)
    if len(value) > max_length:
        raise BadInput(f"`{field_name}` is longer than {max_length} characters.", field=field_name)
    return value


def _parse_rules(value) -> list[dict]:
    if not isinstance(value, list):
        raise _type_error("pageRules", "an array", value)
    _raise_first(validation.check_rule_count(len(value)))
    keys = ("platform", "operator", "value", "exclude", "caseSensitive")
    rules = []
    for index, raw in enumerate(value):
        prefix = f"pageRules[{index}]"
        raw = _object(raw, prefix, keys)
        platform = raw.get("platform", "web")
        operator = raw.get("operator", "is")
        if not isinstance(platform, str):
            raise _type_error(f"{prefix}.platform", f"one of {', '.join(PLATFORMS)}", platform)
        if not isinstance(operator, str):
            raise _type_error(f"{prefix}.operator", f"one of {', '.join(OPERATORS)}", operator)
        if "value" not in raw:
            raise BadInput(
                "Each page rule needs a value, e.g. /pricing (web) or Checkout (mobile screen).",
                field=f"{prefix}.value",
                code="required",
            )
        if not isinstance(raw["value"], str):
            raise _type_error(f"{prefix}.value", "a string", raw["value"])
        _check_text(raw["value"], f"{prefix}.value")
        _raise_first(
            validation.check_rule(
                platform=platform, operator=operator, value=raw["value"], index=index
            )
        )
        rules.append(
            {
                "platform": platform,
                "operator": operator,
                "value": raw["value"].strip(),
                "exclude": _boolean(raw.get("exclude", False), f"{prefix}.exclude"),
                "case_sensitive": _boolean(
                    raw.get("caseSensitive", False), f"{prefix}.caseSensitive"
                ),
                "position": index,
            }
        )
    return rules


def _parse_goal(value, values: dict, workspace) -> None:
    goal = _object(value, "goal", ("trigger", "windowHours", "condition"))
    _parse_goal_fields(goal, values, workspace)
    _check_goal(values)


def _parse_goal_fields(goal: dict, values: dict, workspace) -> None:
    if "trigger" in goal:
        values["goal_trigger"] = _choice(goal["trigger"], "goal.trigger", GoalTrigger.values)
    if "windowHours" in goal:
        values["goal_window_hours"] = _integer(
            goal["windowHours"],
            "goal.windowHours",
            minimum=MIN_WINDOW_HOURS,
            maximum=MAX_WINDOW_HOURS,
        )
    if "condition" not in goal:
        return
    condition = _object(goal["condition"], "goal.condition", ("type", "event", "segmentId"))
    if "type" in condition:
        values["goal_condition"] = _choice(
            condition["type"], "goal.condition.type", GoalCondition.values
        )
    if "event" in condition:
        values["goal_event"] = _string(
            condition["event"], "goal.condition.event", max_length=MAX_EVENT_NAME, nullable=True
        )
    if "segmentId" in condition:
        segment_id = condition["segmentId"]
        if segment_id is None:
            values["goal_segment"] = None
        else:
            segment_id = _integer(segment_id, "goal.condition.segmentId", minimum=1, maximum=MAX_ID)
            if not Segment.objects.filter(workspace=workspace, pk=segment_id).exists():
                raise BadInput(
                    f"There is no segment {segment_id} in this workspace.",
                    field="goal.condition.segmentId",
                )
            values["goal_segment"] = segment_id


def _raise_first(problems: list[validation.Problem]) -> None:
    """The App API answers with the first problem it checks, naming its path."""
    for problem in problems:
        if problem.api is not None:
            raise BadInput(problem.api, field=problem.api_path, code=problem.api_code)


def _check_goal(values: dict) -> None:
    condition = values["goal_condition"]
    _raise_first(
        validation.check_goal_condition(
            condition=condition, event=values["goal_event"], segment_id=values["goal_segment"]
        )
    )
    if condition != GoalCondition.EVENT:
        values["goal_event"] = ""
    if condition not in validation.SEGMENT_CONDITIONS:
        values["goal_segment"] = None


def _check_display(values: dict, position_given: bool) -> None:
    display_type = values["display_type"]
    _raise_first(
        validation.check_display(
            display_type=display_type,
            position=values["display_position"],
            element_id=values["display_element_id"],
            position_given=position_given,
        )
    )
    if display_type == DisplayType.INLINE:
        values["display_position"] = Position.CENTER
        return
    values["display_element_id"] = ""
    allowed = POSITIONS_BY_DISPLAY[DisplayType(display_type)]
    if values["display_position"] not in allowed:
        # Left out (or null), or no longer valid after a change of type: the type's default.
        values["display_position"] = allowed[0]


# --- Writing -------------------------------------------------------------------------------


@transaction.atomic
def save_message(*, message: AnonymousMessage, values: MessageValues) -> AnonymousMessage:
    """Write parsed values (and replace the rules when given) in one transaction."""
    for name, value in values.fields.items():
        if name == "goal_segment":
            message.goal_segment_id = value
        else:
            setattr(message, name, value)
    if values.experiment is not None:
        experiments.save_experiment(message=message, values=values.experiment)
    message.save()
    if values.rules is not None:
        message.rules.all().delete()
        PageRule.objects.bulk_create(PageRule(message=message, **rule) for rule in values.rules)
    if values.experiment is not None:
        experiments.save_variants(message=message, values=values.experiment)
    return message
