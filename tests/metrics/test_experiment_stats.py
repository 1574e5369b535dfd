"""The lift statistics (metrics/experiment_stats.py): pure tables."""

from math import exp, isfinite, log, sqrt

import pytest

from metrics.experiment_stats import (
    ALPHA,
    INCONCLUSIVE,
    LOSER,
    MIXTURE_VARIANCE,
    WINNER,
    Arm,
    compare,
    guidance,
    half_width,
    lift,
    log_ratio,
    round_visitors,
    signed_percent,
    visitors_needed,
)


def mixture_likelihood_ratio(theta_hat, theta0, variance, tau2=MIXTURE_VARIANCE):
    """Johari et al.'s mSPRT statistic with a normal mixture N(θ0, τ²), written out anew."""
    return sqrt(variance / (variance + tau2)) * exp(
        tau2 * (theta_hat - theta0) ** 2 / (2 * variance * (variance + tau2))
    )


@pytest.mark.parametrize("variance", [1.0, 0.05, 0.01, 0.001, 1e-5])
def test_the_interval_ends_where_the_mixture_likelihood_ratio_reaches_one_over_alpha(variance):
    radius = half_width(variance)
    assert mixture_likelihood_ratio(0.3, 0.3 - radius, variance) == pytest.approx(1 / ALPHA)
    assert mixture_likelihood_ratio(0.3, 0.3 + radius, variance) == pytest.approx(1 / ALPHA)
    # Inside: not rejected; outside: rejected.
    assert mixture_likelihood_ratio(0.3, 0.3 + radius * 0.99, variance) < 1 / ALPHA
    assert mixture_likelihood_ratio(0.3, 0.3 + radius * 1.01, variance) > 1 / ALPHA


@pytest.mark.parametrize("variance", [0.05, 0.01, 0.001])
def test_the_always_valid_interval_is_wider_than_a_fixed_horizon_one(variance):
    assert half_width(variance) > 1.96 * sqrt(variance)


def test_log_ratio_and_its_delta_method_variance():
    # Half a conversion and half a non-conversion are added to each arm (Haldane–Anscombe).
    theta, variance = log_ratio(Arm(exposed=999, converted=59), Arm(exposed=999, converted=49))
    assert theta == pytest.approx(log(59.5 / 49.5))
    assert variance == pytest.approx(1 / 59.5 - 1 / 1000 + 1 / 49.5 - 1 / 1000)


@pytest.mark.parametrize(
    ("treatment", "control", "decision"),
    [
        (Arm(10_000, 700), Arm(10_000, 500), WINNER),
        (Arm(10_000, 500), Arm(10_000, 700), LOSER),
        (Arm(10_000, 510), Arm(10_000, 500), INCONCLUSIVE),
        (Arm(1_000, 60), Arm(1_000, 50), INCONCLUSIVE),
        # Too few exposed in an arm, or too few conversions, for any decision.
        (Arm(99, 40), Arm(5_000, 50), INCONCLUSIVE),
        (Arm(5_000, 9), Arm(5_000, 0), INCONCLUSIVE),
        # A holdout a tenth the size of the variant.
        (Arm(9_000, 630), Arm(1_000, 40), WINNER),
    ],
)
def test_decisions(treatment, control, decision):
    result = lift(treatment=treatment, control=control)
    assert result.decision == decision
    assert result.low < result.estimate < result.high


def test_the_estimate_is_the_plain_ratio_of_the_rates():
    result = lift(treatment=Arm(1000, 60), control=Arm(1000, 50))
    assert result.estimate == pytest.approx(0.2)


def test_an_arm_without_exposed_visitors_has_no_lift():
    result = lift(treatment=Arm(0, 0), control=Arm(100, 5))
    assert (result.estimate, result.low, result.high, result.decision) == (
        None, None, None, INCONCLUSIVE,
    )  # fmt: skip


def test_a_control_without_conversions_still_gets_a_finite_interval():
    result = lift(treatment=Arm(500, 8), control=Arm(500, 0))
    # Nothing rules out a huge lift yet, but the interval is a number, not infinity.
    assert result.estimate > 0 and isfinite(result.high) and -1 < result.low < 0


def test_the_interval_narrows_as_data_accumulates():
    widths = [
        (r.high - r.low)
        for n in (1_000, 10_000, 100_000)
        for r in [lift(treatment=Arm(n, n // 20), control=Arm(n, n // 20))]
    ]
    assert widths[0] > widths[1] > widths[2]


@pytest.mark.parametrize(
    ("arms", "expected"),
    [
        ({"A": Arm(10, 1), "B": Arm(10, 1), "holdout": Arm(2, 0)}, [("A", "holdout"), ("B", "holdout")]),
        ({"A": Arm(10, 1), "B": Arm(10, 1), "C": Arm(1, 0)}, [("B", "A"), ("C", "A")]),
        ({"A": Arm(10, 1), "holdout": Arm(2, 0)}, [("A", "holdout")]),
        ({"A": Arm(10, 1)}, []),
        ({"B": Arm(10, 1)}, []),
    ],
)  # fmt: skip
def test_variants_are_compared_with_the_holdout_else_with_a(arms, expected):
    assert [(c.key, c.versus) for c in compare(arms)] == expected


def test_visitors_needed_shrinks_as_data_accumulates_and_needs_a_rate():
    assert visitors_needed(treatment=Arm(100, 0), control=Arm(100, 0)) is None
    first = visitors_needed(treatment=Arm(1_000, 50), control=Arm(1_000, 50))
    later = visitors_needed(treatment=Arm(20_000, 1_000), control=Arm(20_000, 1_000))
    assert first - later == pytest.approx(38_000, abs=1)  # the same total, 38,000 visitors on
    # Rarer conversions need more visitors.
    rare = visitors_needed(treatment=Arm(1_000, 10), control=Arm(1_000, 10))
    assert rare > first
    # An unequal split (a small holdout) needs more visitors in all.
    unequal = visitors_needed(treatment=Arm(1_800, 90), control=Arm(200, 10))
    assert unequal > first


@pytest.mark.parametrize(
    ("number", "rounded"),
    [(0, 100), (99, 100), (101, 100), (1_234, 1_200), (37_654, 38_000), (1_049_999, 1_000_000)],
)
def test_round_visitors(number, rounded):
    assert round_visitors(number) == rounded


@pytest.mark.parametrize(
    ("value", "text"), [(0.1234, "+12%"), (-0.054, "−5.4%"), (0.0, "0%"), (1.5, "+150%")]
)
def test_signed_percent(value, text):
    assert signed_percent(value) == text


@pytest.mark.parametrize(
    ("arms", "start"),
    [
        ({"A": Arm(10_000, 500), "B": Arm(10_000, 700)}, "B beats A: +40% conversion (95% interval +"),
        ({"A": Arm(10_000, 700), "B": Arm(10_000, 500)}, "B does worse than A: −29% conversion"),
        ({"A": Arm(1_000, 50), "holdout": Arm(1_000, 50)}, "Not enough data yet for A versus the holdout (about "),
        ({"A": Arm(500_000, 25_000), "B": Arm(500_000, 25_100)}, "No detectable effect of B over A: the lift is between −"),
        ({"A": Arm(200, 0), "B": Arm(200, 0)}, "Not enough data yet for B versus A: nobody converted yet."),
        ({"A": Arm(0, 0), "B": Arm(20, 1)}, "Not enough data yet for B versus A: no exposed visitor in both yet."),
    ],
)  # fmt: skip
def test_guidance_in_plain_words(arms, start):
    (comparison,) = compare(arms)
    assert guidance(comparison).startswith(start)


def test_guidance_names_how_many_more_visitors():
    (comparison,) = compare({"A": Arm(1_000, 50), "B": Arm(1_000, 50)})
    more = visitors_needed(treatment=comparison.treatment, control=comparison.control)
    assert f"about {round_visitors(more):,} more exposed visitors needed for a 10% lift" in (
        guidance(comparison)
    )


def test_several_variants_share_the_five_percent():
    """Three variants against the holdout: each interval is at 1 − 5 %/3, so that the chance of
    any false decision stays at 5 %; with one variant it is the plain 95 % interval."""
    arms = {
        "A": Arm(5_000, 328),
        "B": Arm(5_000, 280),
        "C": Arm(5_000, 300),
        "holdout": Arm(5_000, 250),
    }
    comparisons = compare(arms)
    assert [c.alpha for c in comparisons] == [pytest.approx(0.05 / 3)] * 3
    for comparison in comparisons:
        assert comparison.lift == lift(
            treatment=comparison.treatment, control=comparison.control, alpha=0.05 / 3
        )
        plain = lift(treatment=comparison.treatment, control=comparison.control)
        assert comparison.lift.low < plain.low and comparison.lift.high > plain.high
    # A lift the plain interval would call (A: +31 %) is not called when three share the 5 %.
    assert lift(treatment=arms["A"], control=arms["holdout"]).decision == "winner"
    assert comparisons[0].lift.decision == "inconclusive"
    # More visitors are needed, too.
    (single,) = compare({"A": arms["A"], "holdout": arms["holdout"]})
    assert single.alpha == 0.05
    assert visitors_needed(
        treatment=arms["A"], control=arms["holdout"], alpha=0.05 / 3
    ) > visitors_needed(treatment=arms["A"], control=arms["holdout"])
