"""Simulated experiments: the lift statistics can be watched continuously (issue 15).

Each run adds visitors 100 at a time, split at random between the two arms (as hash
assignment does), converts each at its arm's true rate, and looks at the interval after every
batch, as a marketer watching the live page would. A/A runs must declare a winner (or loser)
in at most 5 % of runs, plus simulation tolerance; a true lift must be found in most runs.
Pure Python: three binomial draws per batch, no per-visitor loop (about 2 ms a run).
"""

import random
from math import sqrt

import pytest

from metrics.experiment_stats import INCONCLUSIVE, Arm, lift, visitors_needed

RUNS = 2_000
BATCH = 100
SEED = 20261205


def share_deciding(
    *, runs, control_rate, treatment_rate, visitors, treatment_share=0.5, seed=SEED, decide=None
):
    """The share of runs whose interval excludes no lift at some peek."""
    decide = decide or (lambda t, c: lift(treatment=t, control=c).decision != INCONCLUSIVE)
    rng = random.Random(seed)
    decided = 0
    for _ in range(runs):
        n_t = n_c = x_t = x_c = 0
        for _ in range(visitors // BATCH):
            to_treatment = rng.binomialvariate(BATCH, treatment_share)
            n_t += to_treatment
            n_c += BATCH - to_treatment
            x_t += rng.binomialvariate(to_treatment, treatment_rate)
            x_c += rng.binomialvariate(BATCH - to_treatment, control_rate)
            if decide(Arm(n_t, x_t), Arm(n_c, x_c)):
                decided += 1
                break
    return decided / runs


def tolerance(runs, share=0.05):
    """Three standard errors of a share estimated from `runs` runs."""
    return 3 * sqrt(share * (1 - share) / runs)


def test_aa_experiments_peeked_every_100_visitors_rarely_declare_a_winner(record_property):
    rate = share_deciding(runs=RUNS, control_rate=0.05, treatment_rate=0.05, visitors=10_000)
    record_property("aa_false_positive_rate", rate)
    print(f"A/A, 5 % conversion, 2,000 runs peeked every 100 visitors to 10,000: {rate:.2%}")
    assert rate <= 0.05 + tolerance(RUNS)


@pytest.mark.parametrize(
    ("base", "treatment_share"),
    [(0.20, 0.5), (0.05, 0.9)],  # a high rate; a variant against a 10 % holdout
)
def test_aa_stays_below_five_percent_at_other_rates_and_splits(base, treatment_share):
    runs = 1_000
    rate = share_deciding(
        runs=runs,
        control_rate=base,
        treatment_rate=base,
        visitors=10_000,
        treatment_share=treatment_share,
    )
    print(f"A/A, {base:.0%} conversion, {treatment_share:.0%} to the variant: {rate:.2%}")
    assert rate <= 0.05 + tolerance(runs)


def test_a_true_20_percent_lift_is_found_in_most_runs(record_property):
    # 5 % → 6 %: at 10,000 visitors even a fixed-horizon test finds it in only ~59 % of runs,
    # so the power is reported there, and asserted where most runs should find it.
    at_10k = share_deciding(runs=1_000, control_rate=0.05, treatment_rate=0.06, visitors=10_000)
    at_40k = share_deciding(runs=500, control_rate=0.05, treatment_rate=0.06, visitors=40_000)
    at_10k_10 = share_deciding(runs=1_000, control_rate=0.10, treatment_rate=0.12, visitors=10_000)
    record_property("power_5pct_10k", at_10k)
    record_property("power_5pct_40k", at_40k)
    record_property("power_10pct_10k", at_10k_10)
    print(
        f"power for a 20 % lift: 5 %→6 % by 10,000 visitors {at_10k:.1%}, by 40,000 "
        f"{at_40k:.1%}; 10 %→12 % by 10,000 {at_10k_10:.1%}"
    )
    assert at_10k >= 0.2
    assert at_40k >= 0.85
    assert at_10k_10 >= 0.55


def test_the_visitors_needed_guidance_is_about_right():
    # "About N more visitors for a 20 % lift" at a 5 % rate, from a fresh start: by then most
    # runs (the approximation aims at 80 %) have found a true 20 % lift.
    needed = visitors_needed(treatment=Arm(10_000, 500), control=Arm(10_000, 500), planned_lift=0.2)
    total = needed + 20_000
    found = share_deciding(
        runs=300, control_rate=0.05, treatment_rate=0.06, visitors=total // BATCH * BATCH
    )
    print(f"needed for 20 % at 5 %: {total:,} visitors; found by then in {found:.1%} of runs")
    assert 0.7 <= found <= 0.97


def test_the_simulation_catches_naive_peeking():
    # A fixed-horizon 95 % interval looked at after every batch declares a winner in far more
    # than 5 % of A/A runs: the check above is able to fail.
    def naive(treatment, control):
        if not treatment.converted or not control.converted:
            return False
        difference = treatment.rate - control.rate
        error = sqrt(
            treatment.rate * (1 - treatment.rate) / treatment.exposed
            + control.rate * (1 - control.rate) / control.exposed
        )
        return abs(difference) > 1.96 * error

    runs = 500
    rate = share_deciding(
        runs=runs, control_rate=0.05, treatment_rate=0.05, visitors=10_000, decide=naive
    )
    assert rate > 0.05 + tolerance(runs)
