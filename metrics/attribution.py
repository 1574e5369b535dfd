"""The conversion rule. Pure: plain values in, an attribution (or None) out.

A profile converts for a message when one of its anonymous ids had the goal's trigger (a click
on a tracked action, or a view) at time t, that anonymous id was identified within
[t, t + window], and the extra condition, if any, was met within the same [t, t + window].
Both ends of the window are included. An anonymous id identified before its trigger does not
convert through that trigger (an identified visitor is no longer anonymous).

When several triggers qualify, the earliest one is recorded (ties broken by event id), so the
answer does not depend on the order the rows were read in.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

CLICK = "click"
VIEW = "view"
NO_CONDITION = "none"


@dataclass(frozen=True)
class Goal:
    trigger: str  # "click" | "view"
    window: timedelta
    condition: str = NO_CONDITION  # "none" | "event" | "segment_entered" | "segment_left"


@dataclass(frozen=True)
class Trigger:
    kind: str  # "click" | "view"
    at: datetime
    anonymous_id: str
    event_id: int | None = None


@dataclass(frozen=True)
class Attribution:
    trigger: Trigger
    identified_at: datetime
    condition_met_at: datetime | None
    converted_at: datetime


def attribute(
    *,
    goal: Goal,
    triggers: Iterable[Trigger],
    identified_at: Mapping[str, datetime | None],
    condition_times: Iterable[datetime] = (),
) -> Attribution | None:
    """The profile's conversion for this goal, or None.

    identified_at: for each of the profile's anonymous ids, when it was identified (None: not
    yet). condition_times: when the extra condition was met (the goal event's times, or the
    times the profile entered / left the goal segment); ignored when the goal has none.
    """
    needs_condition = goal.condition != NO_CONDITION
    conditions = sorted(condition_times) if needs_condition else []
    candidates = sorted(
        (t for t in triggers if t.kind == goal.trigger),
        key=lambda t: (t.at, t.event_id if t.event_id is not None else -1),
    )
    for trigger in candidates:
        start, end = trigger.at, trigger.at + goal.window
        identified = identified_at.get(trigger.anonymous_id)
        if identified is None or not start <= identified <= end:
            continue
        met = None
        if needs_condition:
            met = next((c for c in conditions if start <= c <= end), None)
            if met is None:
                continue
        converted = identified if met is None else max(identified, met)
        return Attribution(
            trigger=trigger, identified_at=identified, condition_met_at=met, converted_at=converted
        )
    return None
