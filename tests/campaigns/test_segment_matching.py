import pytest

from campaigns.segment_matching import condition_matches, segment_matches


def cond(trait, operator, value=None):
    return {"trait": trait, "operator": operator, "value": value}


@pytest.mark.parametrize(
    ("condition", "traits", "expected"),
    [
        (cond("plan", "equals", "pro"), {"plan": "pro"}, True),
        (cond("plan", "equals", "pro"), {"plan": "Pro "}, True),
        (cond("plan", "equals", "pro"), {"plan": "free"}, False),
        (cond("plan", "equals", "pro"), {}, False),
        (cond("seats", "equals", "42"), {"seats": 42}, True),
        (cond("seats", "equals", "42.0"), {"seats": 42}, True),
        (cond("beta", "equals", "true"), {"beta": True}, True),
        (cond("beta", "equals", "true"), {"beta": False}, False),
        (cond("tags", "equals", "vip"), {"tags": ["new", "VIP"]}, True),
        (cond("plan", "not_equals", "pro"), {"plan": "free"}, True),
        (cond("plan", "not_equals", "pro"), {"plan": "pro"}, False),
        (cond("plan", "not_equals", "pro"), {}, True),
        (cond("plan", "not_equals", "pro"), {"plan": None}, True),
        (cond("email", "contains", "@acme."), {"email": "Ann@ACME.com"}, True),
        (cond("email", "contains", "@acme."), {"email": "ann@other.com"}, False),
        (cond("tags", "contains", "vip"), {"tags": ["vip"]}, True),
        (cond("tags", "contains", "vi"), {"tags": ["vip"]}, False),
        (cond("email", "exists"), {"email": "a@b.c"}, True),
        (cond("email", "exists"), {"email": ""}, False),
        (cond("email", "exists"), {"email": None}, False),
        (cond("email", "exists"), {}, False),
        (cond("seats", "greater_than", "10"), {"seats": 11}, True),
        (cond("seats", "greater_than", "10"), {"seats": "10"}, False),
        (cond("seats", "less_than", "10"), {"seats": 9.5}, True),
        (cond("seats", "less_than", "10"), {"seats": "many"}, False),
        (cond("signed_up", "greater_than", "2025-01-31"), {"signed_up": "2025-02-01"}, True),
        (cond("signed_up", "less_than", "2025-01-31"), {"signed_up": "2025-01-30T23:00:00Z"}, True),
        (cond("company.size", "greater_than", "100"), {"company": {"size": 250}}, True),
        (cond("company.size", "greater_than", "100"), {"company": "big"}, False),
        (cond("plan", "sounds_like", "pro"), {"plan": "pro"}, False),
    ],
)
def test_condition_table(condition, traits, expected):
    assert condition_matches(condition, traits) is expected


@pytest.mark.parametrize(
    ("match", "traits", "expected"),
    [
        ("all", {"plan": "pro", "seats": 20}, True),
        ("all", {"plan": "pro", "seats": 5}, False),
        ("any", {"plan": "free", "seats": 20}, True),
        ("any", {"plan": "free", "seats": 5}, False),
    ],
)
def test_all_needs_every_condition_and_any_needs_one(match, traits, expected):
    conditions = [cond("plan", "equals", "pro"), cond("seats", "greater_than", "10")]
    assert segment_matches(match=match, conditions=conditions, traits=traits) is expected


def test_a_segment_without_conditions_matches_nobody():
    assert segment_matches(match="all", conditions=[], traits={"plan": "pro"}) is False
