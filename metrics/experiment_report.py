"""A message's experiment results: per-arm numbers (metrics/experiment_arms.py), the lift of
each variant (metrics/experiment_stats.py) and the guidance, for the page, the CSV and the App
API (DESIGN.md §5)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef

from campaigns.models import MessageVariant
from metrics.experiment_arms import HOLDOUT, ArmNumbers, experiment_arms
from metrics.experiment_stats import Comparison, compare, guidance


@dataclass(frozen=True)
class ExperimentReport:
    arms: list[ArmNumbers]
    comparisons: list[Comparison]
    frozen_at: datetime | None  # when a winner was chosen: the arms stop counting there

    @property
    def guidance(self) -> list[tuple[Comparison, str]]:
        return [(comparison, guidance(comparison)) for comparison in self.comparisons]

    @property
    def exposed(self) -> int:
        return sum(arm.exposed for arm in self.arms)

    def as_api(self) -> dict:
        return {
            "arms": [arm.as_api() for arm in self.arms],
            "lift": [
                {
                    "key": comparison.key,
                    "versus": comparison.versus,
                    "estimate": _rounded(comparison.lift.estimate),
                    "low": _rounded(comparison.lift.low),
                    "high": _rounded(comparison.lift.high),
                    "decision": comparison.lift.decision,
                }
                for comparison in self.comparisons
            ],
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def configured_arms(*, holdout_percent: int, variant_keys, winner_key: str = "") -> tuple:
    """The arms of the message's experiment (none when it has none): A, its variants B–D and
    the holdout. A message whose winner was chosen keeps showing its results."""
    keys = sorted(set(variant_keys))
    if not keys and not holdout_percent and not winner_key:
        return ()
    return ("A", *keys, *((HOLDOUT,) if holdout_percent else ()))


def with_variants_flag(messages):
    """Annotate `has_variants`, so that experiment_report() needs no query for a message
    that has no experiment."""
    return messages.annotate(
        has_variants=Exists(MessageVariant.objects.filter(message=OuterRef("pk")))
    )


def experiment_report(*, message, version: str | None = None) -> ExperimentReport | None:
    """The results of `message`'s experiment, or None when it has none: one query for its
    variant keys (none when it was loaded with_variants_flag() and has no experiment), plus
    the per-arm numbers (cached for a minute)."""
    if not (
        getattr(message, "has_variants", True) or message.holdout_percent or message.winner_key
    ):
        return None
    configured = configured_arms(
        holdout_percent=message.holdout_percent,
        variant_keys=message.variants.values_list("key", flat=True),
        winner_key=message.winner_key,
    )
    if not configured:
        return None
    until = message.winner_chosen_at
    arms = experiment_arms(message=message, configured=configured, until=until, version=version)
    present = {arm.key: arm.as_arm() for arm in arms}
    return ExperimentReport(arms=arms, comparisons=compare(present), frozen_at=until)
