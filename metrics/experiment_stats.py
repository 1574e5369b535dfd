"""Lift between two arms of an experiment, safe to watch continuously. Pure: counts in,
intervals, decisions and guidance out.

The method is the **mixture sequential probability ratio test (mSPRT)** with a normal mixing
distribution, as used for always-valid inference on A/B tests by Johari, Koomen, Pekelis and
Walsh, "Always Valid Inference: Continuous Monitoring of A/B Tests", Operations Research 70(3),
2022 (the normal-mixture boundary goes back to Robbins, 1970). Inverting the test gives a
confidence sequence: the probability that the true lift ever leaves the interval, however often
and whenever the page is looked at, is at most 5 %.

It is applied to the **log of the ratio of the conversion rates** (treatment ÷ control), whose
estimate is approximately normal with the delta-method variance 1/x − 1/n summed over the two
arms (x conversions of n exposed visitors); 0.5 is added to each count of conversions and of
non-conversions (Haldane–Anscombe) so that an arm without conversions still has a finite
estimate. The interval on the log scale maps to the relative lift by exp(·) − 1, so it is
asymmetric around the estimate, as a ratio's interval should be.

As in the paper, the normal approximation (and the plug-in variance) makes the guarantee
asymptotic; no decision is made before both arms have MIN_EXPOSED visitors and MIN_CONVERSIONS
conversions between them. The simulation test (tests/metrics/test_experiment_simulation.py)
checks the false-positive rate of an A/A test peeked at every 100 visitors.

Several variants (B, C, D against the holdout, or against A) share the 5 %: each comparison's
interval is at 1 − 5 %/k for k comparisons (Bonferroni), so that the chance that *any* of them
ever declares a winner or loser by mistake stays at most 5 % however often it is watched.
"""

from dataclasses import dataclass
from math import ceil, expm1, log, sqrt

ALPHA = 0.05
# Variance of the normal mixing distribution over the log rate ratio. The interval is
# narrowest when the estimate's variance is about τ²/8; 0.05 (τ ≈ 0.22: lifts mostly within
# ±25 %) puts that point near 5,000 visitors per arm at a 5 % conversion rate, and the width
# changes slowly on either side (docs/metrics.md).
MIXTURE_VARIANCE = 0.05
MIN_EXPOSED = 100
MIN_CONVERSIONS = 10
# "About N more exposed visitors needed for a 10 % lift": the lift to plan for, and the
# chance of having detected it by then.
PLANNED_LIFT = 0.10
PLANNED_POWER_Z = 0.8416  # the standard normal's 80th percentile

WINNER = "winner"
LOSER = "loser"
INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Arm:
    exposed: int
    converted: int

    @property
    def rate(self) -> float:
        return self.converted / self.exposed if self.exposed else 0.0


@dataclass(frozen=True)
class Lift:
    """Relative lift of `treatment` over `control` (0.12 = +12 %), with the 95 % always-valid
    interval; None when an arm has no exposed visitor yet."""

    estimate: float | None
    low: float | None
    high: float | None
    decision: str  # "winner" | "loser" | "inconclusive"


def log_ratio(treatment: Arm, control: Arm) -> tuple[float, float]:
    """The smoothed log of treatment rate ÷ control rate, and its delta-method variance."""
    theta = log((treatment.converted + 0.5) / (treatment.exposed + 1)) - log(
        (control.converted + 0.5) / (control.exposed + 1)
    )
    variance = (
        1 / (treatment.converted + 0.5)
        - 1 / (treatment.exposed + 1)
        + 1 / (control.converted + 0.5)
        - 1 / (control.exposed + 1)
    )
    return theta, variance


def half_width(variance: float, *, alpha: float = ALPHA, tau2: float = MIXTURE_VARIANCE) -> float:
    """Half the width of the mSPRT confidence sequence at an estimate of this variance: the
    set of values θ0 for which the mixture likelihood ratio stays below 1/alpha."""
    return sqrt(
        variance * (variance + tau2) / tau2 * (log((variance + tau2) / variance) - 2 * log(alpha))
    )


def lift(
    *, treatment: Arm, control: Arm, alpha: float = ALPHA, tau2: float = MIXTURE_VARIANCE
) -> Lift:
    if not treatment.exposed or not control.exposed:
        return Lift(estimate=None, low=None, high=None, decision=INCONCLUSIVE)
    theta, variance = log_ratio(treatment, control)
    radius = half_width(variance, alpha=alpha, tau2=tau2)
    low, high = expm1(theta - radius), expm1(theta + radius)
    # The plain ratio of the rates shown beside it, when it exists; else the smoothed one.
    estimate = treatment.rate / control.rate - 1 if control.converted else expm1(theta)
    decision = INCONCLUSIVE
    if enough_data(treatment, control):
        if low > 0:
            decision = WINNER
        elif high < 0:
            decision = LOSER
    return Lift(estimate=estimate, low=low, high=high, decision=decision)


def enough_data(treatment: Arm, control: Arm) -> bool:
    return (
        min(treatment.exposed, control.exposed) >= MIN_EXPOSED
        and treatment.converted + control.converted >= MIN_CONVERSIONS
    )


def visitors_needed(
    *,
    treatment: Arm,
    control: Arm,
    planned_lift: float = PLANNED_LIFT,
    alpha: float = ALPHA,
    tau2: float = MIXTURE_VARIANCE,
) -> int | None:
    """About how many more exposed visitors (in these two arms, split as they are now) the
    comparison needs to detect a true `planned_lift` in about 80 % of experiments; None while
    nobody converted, when there is no rate to plan from.

    An approximation (docs/metrics.md): the number n at which the interval's half-width plus
    0.84 standard errors equals log(1 + lift), with the variance (1 − p)/(share · n · p) per
    arm at the control's current rate (or both arms' rate while the control has no
    conversion). Detecting it earlier is possible: the interval is checked continuously.
    """
    total = treatment.exposed + control.exposed
    converted = treatment.converted + control.converted
    if not converted:
        return None
    base = control.rate if control.converted else converted / total
    base = min(base, 1 / (1 + planned_lift) - 1e-9)
    boosted = base * (1 + planned_lift)
    if treatment.exposed and control.exposed:
        share_t, share_c = treatment.exposed / total, control.exposed / total
    else:
        share_t = share_c = 0.5
    # The variance of the log ratio is `per_visitor / n` for n visitors in both arms.
    per_visitor = (1 - boosted) / (share_t * boosted) + (1 - base) / (share_c * base)
    target = log(1 + planned_lift)

    def detectable(variance: float) -> bool:
        return (
            half_width(variance, alpha=alpha, tau2=tau2) + PLANNED_POWER_Z * sqrt(variance)
            <= target
        )

    # The largest variance that is detectable, by bisection (the left side grows with it).
    low, high = 1e-12, target**2
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if detectable(middle) else (low, middle)
    needed = ceil(per_visitor / low)
    return max(needed - total, 0)


def round_visitors(number: int) -> int:
    """Two significant figures, at least 100: "about" numbers should not look precise."""
    if number <= 100:
        return 100
    digits = len(str(number)) - 2
    return int(round(number, -digits))


@dataclass(frozen=True)
class Comparison:
    key: str  # the treatment arm: "A" | "B" | "C" | "D"
    versus: str  # "holdout" | "A"
    treatment: Arm
    control: Arm
    lift: Lift
    alpha: float = ALPHA  # this comparison's share of the 5 % (compare())

    @property
    def versus_label(self) -> str:
        return "the holdout" if self.versus == "holdout" else self.versus


def compare(arms: dict[str, Arm]) -> list[Comparison]:
    """Each variant over the holdout when there is one, else each of B–D over A (issue 15)."""
    variants = sorted(key for key in arms if key != "holdout")
    if "holdout" in arms:
        control_key, treatments = "holdout", variants
    elif "A" in arms:
        control_key, treatments = "A", [key for key in variants if key != "A"]
    else:
        return []
    control = arms[control_key]
    alpha = ALPHA / max(len(treatments), 1)
    return [
        Comparison(
            key=key,
            versus=control_key,
            treatment=arms[key],
            control=control,
            lift=lift(treatment=arms[key], control=control, alpha=alpha),
            alpha=alpha,
        )
        for key in treatments
    ]


def signed_percent(value: float) -> str:
    number = value * 100
    text = f"{abs(number):.1f}" if abs(number) < 10 else f"{abs(number):,.0f}"
    if text in ("0.0", "0"):
        return "0%"
    return ("+" if number > 0 else "−") + text + "%"


def guidance(comparison: Comparison) -> str:
    """One line in plain words: who wins, no effect, or how much more data is needed."""
    lift_, name, versus = comparison.lift, comparison.key, comparison.versus_label
    if lift_.estimate is None:
        return f"Not enough data yet for {name} versus {versus}: no exposed visitor in both yet."
    interval = f"95% interval {signed_percent(lift_.low)} to {signed_percent(lift_.high)}"
    if lift_.decision == WINNER:
        return f"{name} beats {versus}: {signed_percent(lift_.estimate)} conversion ({interval})."
    if lift_.decision == LOSER:
        return (
            f"{name} does worse than {versus}: {signed_percent(lift_.estimate)} conversion "
            f"({interval})."
        )
    if enough_data(comparison.treatment, comparison.control) and (
        lift_.low > -PLANNED_LIFT and lift_.high < PLANNED_LIFT
    ):
        return (
            f"No detectable effect of {name} over {versus}: the lift is between "
            f"{signed_percent(lift_.low)} and {signed_percent(lift_.high)}."
        )
    more = visitors_needed(
        treatment=comparison.treatment, control=comparison.control, alpha=comparison.alpha
    )
    if more is None:
        return f"Not enough data yet for {name} versus {versus}: nobody converted yet."
    return (
        f"Not enough data yet for {name} versus {versus} (about {round_visitors(more):,} more "
        f"exposed visitors needed for a {PLANNED_LIFT * 100:.0f}% lift)."
    )
