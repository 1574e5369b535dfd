"""Names of the track events a workspace has received: goal suggestions and a typo check.

Bounded: reads the latest SCAN_LIMIT events through the (workspace, -timestamp) index instead
of every event (a workspace may have millions). `complete` says whether that was all of them,
so that a warning never claims "never received" when it only looked at the latest ones.
"""

from dataclasses import dataclass

from delivery.models import Event, EventType

SCAN_LIMIT = 10_000
MESSAGE_EVENT = "Report Content Event"  # the SDK's own message events: not a goal


@dataclass(frozen=True)
class SeenNames:
    names: tuple[str, ...]  # sorted, case-insensitively
    complete: bool  # every event of the workspace was read


def seen_event_names(workspace, *, limit: int = SCAN_LIMIT) -> SeenNames:
    rows = list(
        Event.objects.filter(workspace=workspace)
        .order_by("-timestamp")
        .values_list("type", "name")[: limit + 1]
    )
    names = {name for type_, name in rows[:limit] if type_ == EventType.TRACK and name}
    names.discard(MESSAGE_EVENT)
    return SeenNames(names=tuple(sorted(names, key=str.casefold)), complete=len(rows) <= limit)
