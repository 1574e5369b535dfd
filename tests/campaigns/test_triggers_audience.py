"""The pure rules of display triggers and audience conditions (DESIGN.md §5)."""

import pytest

from campaigns import audience, triggers
from campaigns.audience import Visit


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (None, {"type": "page_load"}),
        ({"type": "page_load", "seconds": 5}, {"type": "page_load"}),
        ({"type": "delay", "seconds": 5, "percent": 3}, {"type": "delay", "seconds": 5}),
        ({"type": "delay", "seconds": "600"}, {"type": "delay", "seconds": 600}),
        ({"type": "scroll", "percent": 100}, {"type": "scroll", "percent": 100}),
        ({"type": "exit_intent"}, {"type": "exit_intent", "fallbackSeconds": None}),
        (
            {"type": "exit_intent", "fallbackSeconds": 10},
            {"type": "exit_intent", "fallbackSeconds": 10},
        ),
        ({"type": "inactivity", "seconds": 30}, {"type": "inactivity", "seconds": 30}),
        ({"type": "click", "selector": " #cta "}, {"type": "click", "selector": "#cta"}),
        ({"type": "click", "selector": "a.btn, button[data-x='1']"}, None),
    ],
)
def test_triggers_are_stored_in_one_shape(raw, stored):
    result = triggers.normalise_trigger(raw)
    assert result == (stored or raw)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("delay", "type"),
        ({"type": "hover"}, "type"),
        ({"type": "delay"}, "seconds"),
        ({"type": "delay", "seconds": 0}, "seconds"),
        ({"type": "delay", "seconds": 601}, "seconds"),
        ({"type": "delay", "seconds": True}, "seconds"),
        ({"type": "delay", "seconds": 2.5}, "seconds"),
        ({"type": "scroll", "percent": 101}, "percent"),
        ({"type": "inactivity", "seconds": -1}, "seconds"),
        ({"type": "exit_intent", "fallbackSeconds": 0}, "fallbackSeconds"),
        ({"type": "click"}, "selector"),
        ({"type": "click", "selector": "div >"}, "selector"),
        ({"type": "click", "selector": "[data-x"}, "selector"),
        ({"type": "click", "selector": "#" + "a" * 200}, "selector"),
    ],
)
def test_bad_triggers_name_their_field(raw, field):
    with pytest.raises(triggers.TriggerError) as caught:
        triggers.normalise_trigger(raw)
    assert caught.value.field == field


def test_triggers_read_as_sentences():
    assert triggers.describe_trigger(None) == "As soon as the page loads"
    assert triggers.describe_trigger({"type": "delay", "seconds": 1}) == (
        "After 1 second on the page"
    )
    assert "never on touch" in triggers.describe_trigger(
        {"type": "exit_intent", "fallbackSeconds": None}
    )


@pytest.mark.parametrize(
    ("condition", "visit", "holds"),
    [
        # Referrer: the session's external referrer's domain; "" is a direct visit.
        (
            {"attribute": "referrer", "operator": "is", "value": "google.com"},
            Visit(referrer_domain="google.com"),
            True,
        ),
        (
            {"attribute": "referrer", "operator": "is", "value": "google.com"},
            Visit(referrer_domain="news.google.com"),
            False,
        ),
        (
            {"attribute": "referrer", "operator": "contains", "value": "google"},
            Visit(referrer_domain="news.google.com"),
            True,
        ),
        (
            {"attribute": "referrer", "operator": "is_not", "value": "google.com"},
            Visit(referrer_domain=""),
            True,
        ),
        ({"attribute": "referrer", "operator": "is_not", "value": "google.com"}, Visit(), False),
        (
            {"attribute": "referrer", "operator": "contains", "value": "google"},
            Visit(referrer_domain=""),
            False,
        ),
        (
            {"attribute": "utm_source", "operator": "is", "value": "newsletter"},
            Visit(utm_source="Newsletter"),
            True,
        ),
        (
            {"attribute": "utm_medium", "operator": "contains", "value": "mail"},
            Visit(utm_medium="email"),
            True,
        ),
        ({"attribute": "utm_campaign", "operator": "is", "value": "spring"}, Visit(), False),
        ({"attribute": "device", "operator": "is", "value": "phone"}, Visit(device="phone"), True),
        (
            {"attribute": "device", "operator": "is_not", "value": "phone"},
            Visit(device="tablet"),
            True,
        ),
        ({"attribute": "device", "operator": "is_not", "value": "phone"}, Visit(), False),
        (
            {"attribute": "language", "operator": "starts_with", "value": "de"},
            Visit(language="de-ch"),
            True,
        ),
        (
            {"attribute": "language", "operator": "starts_with", "value": "de"},
            Visit(language="en-us"),
            False,
        ),
        (
            {"attribute": "language", "operator": "is", "value": "de-ch"},
            Visit(language="DE-CH"),
            True,
        ),
        ({"attribute": "visitor", "operator": "is", "value": "new"}, Visit(sessions=1), True),
        ({"attribute": "visitor", "operator": "is", "value": "new"}, Visit(sessions=2), False),
        ({"attribute": "visitor", "operator": "is", "value": "returning"}, Visit(sessions=2), True),
        ({"attribute": "visitor", "operator": "is", "value": "returning"}, Visit(), False),
        ({"attribute": "sessions", "operator": "gte", "value": 3}, Visit(sessions=3), True),
        ({"attribute": "sessions", "operator": "gte", "value": 3}, Visit(sessions=2), False),
        (
            {"attribute": "session_pageviews", "operator": "gte", "value": 2},
            Visit(session_pageviews=2),
            True,
        ),
        ({"attribute": "session_pageviews", "operator": "gte", "value": 2}, Visit(), False),
    ],
)
def test_conditions(condition, visit, holds):
    stored = audience.normalise_condition(condition)
    assert audience.condition_holds(stored, visit) is holds


def test_all_conditions_must_hold():
    conditions = audience.normalise_audience(
        [
            {"attribute": "device", "operator": "is", "value": "phone"},
            {"attribute": "utm_source", "operator": "is", "value": "ads"},
        ]
    )
    assert audience.audience_matches(conditions, Visit(device="phone", utm_source="ads"))
    assert not audience.audience_matches(conditions, Visit(device="phone"))
    assert audience.audience_matches([], Visit())


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([{"attribute": "country", "operator": "is", "value": "de"}], "attribute"),
        ([{"attribute": "device", "operator": "contains", "value": "ph"}], "operator"),
        ([{"attribute": "device", "operator": "is", "value": "watch"}], "value"),
        ([{"attribute": "sessions", "operator": "gte", "value": 0}], "value"),
        ([{"attribute": "sessions", "operator": "gte", "value": "many"}], "value"),
        ([{"attribute": "utm_source", "operator": "is", "value": "  "}], "value"),
        ([{"attribute": "referrer", "operator": "is", "value": "https://"}], "value"),
        ([{"attribute": "utm_source", "operator": "is", "value": "x" * 201}], "value"),
        (["device"], "attribute"),
    ],
)
def test_bad_conditions_name_their_field(raw, field):
    with pytest.raises(audience.AudienceError) as caught:
        audience.normalise_audience(raw)
    assert caught.value.field == field


def test_referrer_values_are_domains():
    stored = audience.normalise_condition(
        {"attribute": "referrer", "operator": "is", "value": "https://www.Google.com/search?q=x"}
    )
    assert stored["value"] == "google.com"


def test_too_many_conditions():
    raw = [{"attribute": "sessions", "operator": "gte", "value": 1}] * 11
    with pytest.raises(audience.AudienceError):
        audience.normalise_audience(raw)


@pytest.mark.parametrize(
    ("weights", "holdout", "codes"),
    [
        ([("A", 100)], 0, []),
        ([("A", 50), ("B", 50)], 10, []),
        ([("A", 25), ("B", 25), ("C", 25), ("D", 25)], 50, []),
        ([("A", 50), ("B", 40)], 0, ["weights_sum"]),
        ([("A", 50), ("C", 50)], 0, ["variant_keys"]),
        ([("A", 20)] * 5, 0, ["too_many_variants"]),
        ([("A", 50), ("B", "fifty")], 0, ["weight_invalid"]),
        ([("A", 50), ("B", 50)], 51, ["holdout_invalid"]),
        ([("A", 50), ("B", 50)], -1, ["holdout_invalid"]),
    ],
)
def test_experiment_split(weights, holdout, codes):
    from campaigns import validation

    problems = validation.check_experiment(weights=weights, holdout_percent=holdout)
    assert [problem.code for problem in problems] == codes


# --- Contradictions: conditions no visit can meet ----------------------------------------------


def cond(attribute, operator, value):
    return {"attribute": attribute, "operator": operator, "value": value}


@pytest.mark.parametrize(
    "conditions",
    [
        [cond("device", "is", "phone"), cond("device", "is", "desktop")],
        [
            cond("device", "is_not", "phone"),
            cond("device", "is_not", "tablet"),
            cond("device", "is_not", "desktop"),
        ],
        [cond("visitor", "is", "new"), cond("sessions", "gte", 2)],
        [cond("utm_source", "is", "Newsletter"), cond("utm_source", "is_not", "newsletter")],
        [cond("utm_source", "is", "newsletter"), cond("utm_source", "is", "ads")],
        [cond("utm_medium", "starts_with", "mail"), cond("utm_medium", "starts_with", "social")],
        [cond("language", "is", "de"), cond("language", "contains", "fr")],
        [cond("referrer", "is", "bing.com"), cond("referrer", "starts_with", "google")],
    ],
)
def test_conditions_no_visit_can_meet_are_named(conditions):
    found = audience.contradiction(conditions)
    assert found == "; ".join(audience.describe_condition(c) for c in conditions)


@pytest.mark.parametrize(
    "conditions",
    [
        [],
        [cond("device", "is_not", "phone"), cond("device", "is_not", "tablet")],
        [cond("visitor", "is", "returning"), cond("sessions", "gte", 5)],
        [cond("visitor", "is", "new"), cond("session_pageviews", "gte", 3)],
        [
            cond("utm_source", "starts_with", "news"),
            cond("utm_source", "starts_with", "newsletter"),
        ],
        [cond("utm_source", "starts_with", "news"), cond("utm_source", "is", "newsletter")],
        [cond("referrer", "contains", "goo"), cond("referrer", "is_not", "google.com")],
        # Different attributes never contradict each other (except visitor and sessions).
        [cond("device", "is", "phone"), cond("utm_source", "is", "ads")],
    ],
)
def test_conditions_some_visit_meets_are_not_a_contradiction(conditions):
    assert audience.contradiction(conditions) is None
