"""Per-arm numbers of an experiment (docs/metrics.md, "Experiments").

Events are the source of truth: a view, click or dismissal carries its arm in
`properties.variant` ("A"–"D"); a held-out visitor's SDK reports `actionType: "held_out"`. The
rollup job adds them to ExperimentExposure and ExperimentArmHour (metrics/experiment_rollup.py);
this module reads those tables.

- **Exposed**: distinct visitors; a variant's exposure is the visitor's first view tagged with
  it, the holdout's is the `held_out` report (counted once however often it is sent). A visitor
  belongs to the arm of their **first** exposure (intention to treat), even if a weight change
  later moved them.
- **Views, clicks (per action), dismissals**: events tagged with the arm.
- **Converted** (exposure-based, the same rule for every arm, holdout included): the exposed
  visitor was identified within the goal window after the first exposure, and the goal's
  condition (event, segment entered / left), if any, was met in that window: the goal rule of
  metrics/attribution.py with the first exposure as the trigger. Counted per exposed visitor,
  the unit that was randomised. The exposure rows carry the visitor's identification (copied
  by the rollup job and by conversion attribution after identify), so only the few exposures
  identified within the window are joined to their visitor (for the profile).

The result is cached for a minute (EXPERIMENT_CACHE_SECONDS) under the message's stats version.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, F
from django.utils import timezone

from delivery.models import Visitor
from metrics.attribution import Goal, Trigger, attribute
from metrics.conversions import condition_key, condition_times
from metrics.experiment_rollup import HOLDOUT, VARIANT_KEYS
from metrics.experiment_stats import Arm
from metrics.models import ExperimentArmHour, ExperimentExposure

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
    arms = {key: ArmNumbers(key=key) for key in configured}

    def arm(key: str) -> ArmNumbers:
        return arms.setdefault(key, ArmNumbers(key=key))

    hours = ExperimentArmHour.objects.filter(message=message)
    exposures = ExperimentExposure.objects.filter(message=message)
    if until is not None:
        # Whole hours: the hour the winner was chosen in still counts.
        hours = hours.filter(hour__lt=until)
        exposures = exposures.filter(exposed_at__lt=until)
    for key, views, clicks, dismissals, by_action in hours.values_list(
        "arm", "views", "clicks", "dismissals", "clicks_by_action"
    ):
        numbers = arm(key)
        numbers.views += views
        numbers.clicks += clicks
        numbers.dismissals += dismissals
        for name, count in (by_action or {}).items():
            numbers.clicks_by_action[name] = numbers.clicks_by_action.get(name, 0) + count
    for key, count in exposures.values_list("arm").annotate(count=Count("*")).order_by():
        arm(key).exposed = count
    window = timedelta(hours=message.goal_window_hours)
    candidates = [
        Candidate(arm=key, exposed_at=exposed_at, profile_id=profile_id, identified_at=at)
        for key, exposed_at, profile_id, at in exposures.filter(
            identified_at__gte=F("exposed_at"),
            identified_at__lte=F("exposed_at") + window,
            visitor__workspace_id=message.workspace_id,
        ).values_list("arm", "exposed_at", "visitor__profile_id", "identified_at")
    ]
    for key, count in _converted(message, candidates).items():
        arm(key).converted = count
    return sorted(arms.values(), key=lambda numbers: arm_order(numbers.key))


@dataclass(frozen=True)
class Candidate:
    """An exposed visitor identified within the goal window after their first exposure."""

    arm: str
    exposed_at: datetime
    profile_id: int | None
    identified_at: datetime


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
