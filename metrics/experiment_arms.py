"""Per-arm numbers of an experiment, read from the message's raw events (docs/metrics.md).

Events are the source of truth: a view, click or dismissal carries its arm in
`properties.variant` ("A"–"D"); a held-out visitor's SDK reports `actionType: "held_out"`.

- **Exposed**: distinct anonymous visitors; a variant's exposure is the visitor's first view
  tagged with it, the holdout's is the `held_out` report (counted once however often it is
  sent). A visitor belongs to the arm of their **first** exposure (intention to treat), even if
  a weight change later moved them.
- **Views, clicks (per action), dismissals**: events tagged with the arm.
- **Converted** (exposure-based, the same rule for every arm, holdout included): the exposed
  visitor's anonymous id was identified within the goal window after the first exposure, and
  the goal's condition (event, segment entered / left), if any, was met in that window: the
  goal rule of metrics/attribution.py with the first exposure as the trigger. Counted per
  exposed visitor, the unit that was randomised.

Unlike the dashboards' other numbers, these are not rolled up: the first exposure per visitor
and the identification after it need the visitor's whole history. One index scan of the
message's events (`event_content_time`) groups them by arm; the result is cached for a minute
under the message's stats version (EXPERIMENT_CACHE_SECONDS), so a page polled every 30 s
costs the scan at most once a minute per message.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min, Q
from django.db.models.fields.json import KT
from django.utils import timezone

from delivery.models import Event, Visitor
from metrics.attribution import Goal, Trigger, attribute
from metrics.conversions import condition_key, condition_times
from metrics.experiment_stats import Arm
from metrics.message_events import CLICKED, DISMISSED, HELD_OUT, VIEWED

VARIANT_KEYS = ("A", "B", "C", "D")
HOLDOUT = "holdout"
EXPOSURE = "exposure"  # the trigger of exposure-based conversion
EXPERIMENT_CACHE_SECONDS = 60


@dataclass
class ArmNumbers:
    key: str  # "A" | "B" | "C" | "D" | "holdout"
    exposed: int = 0
    views: int = 0
    clicks: int = 0
    clicks_by_action: dict[str, int] = field(default_factory=dict)
    dismissals: int = 0
    converted: int = 0

    @property
    def conversion_rate(self) -> float:
        return self.converted / self.exposed if self.exposed else 0.0

    @property
    def label(self) -> str:
        return "Holdout" if self.key == HOLDOUT else f"Variant {self.key}"

    def as_arm(self) -> Arm:
        return Arm(exposed=self.exposed, converted=self.converted)

    def as_api(self) -> dict:
        return {
            "key": self.key,
            "exposed": self.exposed,
            "views": self.views,
            "clicks": self.clicks,
            "converted": self.converted,
            "conversionRate": round(self.conversion_rate, 4),
        }


def arm_order(key: str) -> int:
    return (*VARIANT_KEYS, HOLDOUT).index(key)


def experiment_arms(
    *,
    message,
    configured: tuple[str, ...] = (),
    until: datetime | None = None,
    version: str | None = None,
    now: datetime | None = None,
) -> list[ArmNumbers]:
    """The arms of `message` (its `configured` keys, plus any arm its events name), in the
    order A–D, holdout. `until`: ignore events from then on (when a winner was chosen: later
    traffic is no longer split at random). Cached for a minute under the stats `version`."""
    now = now or timezone.now()
    key = ":".join(
        [
            "metrics:experiment",
            str(message.pk),
            version or "-",
            str(int(until.timestamp())) if until else "-",
            ",".join(configured),
            str(int(now.timestamp()) // EXPERIMENT_CACHE_SECONDS),
        ]
    )
    cached = cache.get(key)
    if cached is not None:
        return cached
    arms = _compute_arms(message=message, configured=configured, until=until)
    cache.set(key, arms, EXPERIMENT_CACHE_SECONDS)
    return arms


def _compute_arms(*, message, configured, until) -> list[ArmNumbers]:
    events = Event.objects.filter(workspace_id=message.workspace_id, content_id=message.pk)
    if until is not None:
        events = events.filter(timestamp__lt=until)
    arms = {key: ArmNumbers(key=key) for key in configured}

    def arm(key: str) -> ArmNumbers:
        return arms.setdefault(key, ArmNumbers(key=key))

    counts = (
        events.filter(action_type__in=[VIEWED, CLICKED, DISMISSED])
        .annotate(arm=KT("payload__properties__variant"))
        .filter(arm__in=VARIANT_KEYS)
        .values_list("arm", "action_type", "action_name")
        .annotate(count=Count("*"))
        .order_by()
    )
    for key, action_type, action_name, count in counts:
        numbers = arm(key)
        if action_type == VIEWED:
            numbers.views += count
        elif action_type == DISMISSED:
            numbers.dismissals += count
        else:
            numbers.clicks += count
            numbers.clicks_by_action[action_name] = (
                numbers.clicks_by_action.get(action_name, 0) + count
            )

    exposed, candidates = _exposures(
        workspace_id=message.workspace_id,
        message_id=message.pk,
        until=until,
        window=timedelta(hours=message.goal_window_hours),
    )
    for key, count in exposed.items():
        arm(key).exposed = count
    for key, count in _converted(message, candidates).items():
        arm(key).converted = count
    return sorted(arms.values(), key=lambda numbers: arm_order(numbers.key))


# PostgreSQL: the first exposure per visitor (DISTINCT ON), joined to the visitor's
# identification, grouped by arm in the database. The candidates (identified within the
# window) come back as rows: a few per cent of the exposed.
_EXPOSURES_SQL = """
WITH exposure AS (
    SELECT DISTINCT ON (e.anonymous_id)
           e.anonymous_id, e.timestamp AS exposed_at,
           CASE WHEN e.action_type = %(held_out)s THEN %(holdout)s
                ELSE e.payload -> 'properties' ->> 'variant' END AS arm
      FROM {events} e
     WHERE e.workspace_id = %(workspace)s AND e.content_id = %(message)s
       AND e.anonymous_id <> '' {until}
       AND (e.action_type = %(held_out)s
            OR (e.action_type = %(viewed)s
                AND e.payload -> 'properties' ->> 'variant' = ANY(%(variants)s)))
     ORDER BY e.anonymous_id, e.timestamp, e.id
)
SELECT x.arm, count(*),
       COALESCE(json_agg(json_build_array(x.anonymous_id, x.exposed_at, v.profile_id,
                                          v.identified_at))
                FILTER (WHERE v.identified_at BETWEEN x.exposed_at
                                                  AND x.exposed_at + %(window)s), '[]')
  FROM exposure x
  LEFT JOIN {visitors} v ON v.workspace_id = %(workspace)s AND v.anonymous_id = x.anonymous_id
 GROUP BY x.arm
"""


@dataclass(frozen=True)
class Candidate:
    """An exposed visitor identified within the goal window after their first exposure."""

    arm: str
    anonymous_id: str
    exposed_at: datetime
    profile_id: int
    identified_at: datetime


def _exposures(
    *, workspace_id: int, message_id: int, until: datetime | None, window: timedelta
) -> tuple[dict[str, int], list[Candidate]]:
    """Exposed visitors per arm, and the candidates for exposure-based conversion."""
    if connection.vendor == "postgresql":
        params = {
            "workspace": workspace_id,
            "message": message_id,
            "until": until,
            "window": window,
            "held_out": HELD_OUT,
            "viewed": VIEWED,
            "holdout": HOLDOUT,
            "variants": list(VARIANT_KEYS),
        }
        sql = _EXPOSURES_SQL.format(
            events=Event._meta.db_table,
            visitors=Visitor._meta.db_table,
            until="AND e.timestamp < %(until)s" if until is not None else "",
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        exposed, candidates = {}, []
        for key, count, found in rows:
            exposed[key] = count
            for anonymous_id, exposed_at, profile_id, identified_at in _json(found):
                candidates.append(
                    Candidate(
                        arm=key,
                        anonymous_id=anonymous_id,
                        exposed_at=datetime.fromisoformat(exposed_at),
                        profile_id=profile_id,
                        identified_at=datetime.fromisoformat(identified_at),
                    )
                )
        return exposed, candidates
    return _exposures_portable(
        workspace_id=workspace_id, message_id=message_id, until=until, window=window
    )


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _exposures_portable(
    *, workspace_id: int, message_id: int, until: datetime | None, window: timedelta
) -> tuple[dict[str, int], list[Candidate]]:
    """SQLite (the embedded default): the first exposure per (visitor, arm) from the
    database, the first per visitor chosen here."""
    events = Event.objects.filter(workspace_id=workspace_id, content_id=message_id)
    if until is not None:
        events = events.filter(timestamp__lt=until)
    rows = (
        events.filter(anonymous_id__gt="")
        .annotate(arm=KT("payload__properties__variant"))
        .filter(Q(action_type=HELD_OUT) | Q(action_type=VIEWED, arm__in=VARIANT_KEYS))
        .values_list("anonymous_id", "action_type", "arm")
        .annotate(first=Min("timestamp"))
        .order_by()
    )
    return first_exposures(
        [
            (anonymous_id, HOLDOUT if action_type == HELD_OUT else key, at)
            for anonymous_id, action_type, key, at in rows
        ],
        identified=lambda anonymous_ids: Visitor.objects.filter(
            workspace_id=workspace_id, anonymous_id__in=anonymous_ids, identified_at__isnull=False
        ).values_list("anonymous_id", "profile_id", "identified_at"),
        window=window,
    )


def first_exposures(rows, *, identified, window: timedelta):
    """(anonymous id, arm, time) rows → exposed visitors per arm (each in the arm of their
    earliest exposure) and the candidates, given `identified(anonymous_ids)` → rows of
    (anonymous id, profile id, identified at)."""
    first = {}
    for anonymous_id, key, at in rows:
        if anonymous_id not in first or at < first[anonymous_id][0]:
            first[anonymous_id] = (at, key)
    exposed = defaultdict(int)
    for _, key in first.values():
        exposed[key] += 1
    candidates = [
        Candidate(
            arm=first[anonymous_id][1],
            anonymous_id=anonymous_id,
            exposed_at=first[anonymous_id][0],
            profile_id=profile_id,
            identified_at=at,
        )
        for anonymous_id, profile_id, at in identified(list(first))
        if first[anonymous_id][0] <= at <= first[anonymous_id][0] + window
    ]
    return dict(exposed), candidates


def _converted(message, candidates: list[Candidate]) -> dict[str, int]:
    """Exposure-based conversions per arm: the goal rule with the first exposure as trigger."""
    if not candidates:
        return {}
    goal = Goal(
        trigger=EXPOSURE,
        window=timedelta(hours=message.goal_window_hours),
        condition=message.goal_condition,
    )
    times = {}
    key = condition_key(
        {
            "goal_condition": message.goal_condition,
            "goal_event": message.goal_event,
            "goal_segment_id": message.goal_segment_id,
        }
    )
    if key is not None:
        profile_ids = sorted({c.profile_id for c in candidates if c.profile_id is not None})
        visitors = list(
            Visitor.objects.filter(
                workspace_id=message.workspace_id, profile_id__in=profile_ids
            ).values_list("profile_id", "anonymous_id", "identified_at")
        )
        times = condition_times(
            workspace_id=message.workspace_id,
            messages=[
                {
                    "goal_condition": message.goal_condition,
                    "goal_event": message.goal_event,
                    "goal_segment_id": message.goal_segment_id,
                }
            ],
            profile_ids=profile_ids,
            visitors=visitors,
        )
    converted = defaultdict(int)
    for candidate in candidates:
        result = attribute(
            goal=goal,
            triggers=[Trigger(kind=EXPOSURE, at=candidate.exposed_at, anonymous_id="exposed")],
            identified_at={"exposed": candidate.identified_at},
            condition_times=times.get((key, candidate.profile_id), ()),
        )
        if result is not None:
            converted[candidate.arm] += 1
    return dict(converted)
