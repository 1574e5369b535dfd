"""Segment conditions: the pure validator shared by the Segments pages, the admin and metrics."""

import pytest

from campaigns.segment_conditions import (
    ConditionError,
    clean_condition,
    clean_conditions,
    describe_condition,
)

VALID = [
    # (trait, operator, value, stored)
    ("plan", "equals", "pro", {"trait": "plan", "operator": "equals", "value": "pro"}),
    ("  plan ", "not_equals", " free ", {"trait": "plan", "operator": "not_equals", "value": "free"}),
    ("email", "contains", "@acme.com", {"trait": "email", "operator": "contains", "value": "@acme.com"}),
    ("company.size", "greater_than", "50", {"trait": "company.size", "operator": "greater_than", "value": "50"}),
    ("score", "less_than", "-4.5", {"trait": "score", "operator": "less_than", "value": "-4.5"}),
    ("score", "less_than", "1e3", {"trait": "score", "operator": "less_than", "value": "1e3"}),
    ("signed_up_at", "greater_than", "2025-01-31", {"trait": "signed_up_at", "operator": "greater_than", "value": "2025-01-31"}),
    ("signed_up_at", "less_than", "2025-01-31T09:00:00+01:00", {"trait": "signed_up_at", "operator": "less_than", "value": "2025-01-31T09:00:00+01:00"}),
    ("phone", "exists", "", {"trait": "phone", "operator": "exists", "value": None}),
    ("phone", "exists", "ignored", {"trait": "phone", "operator": "exists", "value": None}),
    ("phone", "exists", None, {"trait": "phone", "operator": "exists", "value": None}),
    ("age", "equals", 30, {"trait": "age", "operator": "equals", "value": "30"}),
    ("age", "greater_than", 17.5, {"trait": "age", "operator": "greater_than", "value": "17.5"}),
]  # fmt: skip


@pytest.mark.parametrize(("trait", "operator", "value", "stored"), VALID)
def test_a_valid_condition_is_stored_trimmed(trait, operator, value, stored):
    assert clean_condition(trait=trait, operator=operator, value=value) == stored


INVALID = [
    # (trait, operator, value, field, words)
    ("", "equals", "pro", "trait", "Enter the trait name"),
    ("   ", "equals", "pro", "trait", "Enter the trait name"),
    (None, "exists", None, "trait", "Enter the trait name"),
    ("t" * 201, "equals", "pro", "trait", "at most 200"),
    ("plan", "like", "pro", "operator", "Unknown operator"),
    ("plan", "", "pro", "operator", "Unknown operator"),
    ("plan", "equals", "", "value", "Enter the value"),
    ("plan", "contains", "   ", "value", "Enter the value"),
    ("plan", "not_equals", None, "value", "Enter the value"),
    ("plan", "equals", True, "value", "Enter the value"),
    ("plan", "equals", "v" * 501, "value", "at most 500"),
    ("size", "greater_than", "fifty", "value", "compare numbers or dates"),
    ("size", "less_than", "12abc", "value", "compare numbers or dates"),
    ("size", "greater_than", "nan", "value", "compare numbers or dates"),
    ("size", "greater_than", "inf", "value", "compare numbers or dates"),
    ("at", "less_than", "2025-13-01", "value", "compare numbers or dates"),
    ("pl\x00an", "equals", "pro", "trait", "NUL character"),
    ("plan", "equals", "pro\x00", "value", "NUL character"),
    ("plan\ud800", "equals", "pro", "trait", "not valid Unicode"),
]  # fmt: skip


@pytest.mark.parametrize(("trait", "operator", "value", "field", "words"), INVALID)
def test_an_invalid_condition_names_the_field_to_fix(trait, operator, value, field, words):
    with pytest.raises(ConditionError) as caught:
        clean_condition(trait=trait, operator=operator, value=value)

    assert caught.value.field == field
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("match", "conditions", "field"),
    [
        ("some", [{"trait": "a", "operator": "exists"}], "match"),
        ("all", [], "conditions"),
        ("all", None, "conditions"),
        ("any", [{"trait": "a", "operator": "exists"}] * 51, "conditions"),
        ("all", ["plan equals pro"], "conditions[0]"),
        ("any", [{"trait": "a", "operator": "exists"}, {"trait": "b", "operator": "equals"}], "conditions[1].value"),
    ],
)  # fmt: skip
def test_a_whole_segment_is_checked_and_the_error_points_at_the_condition(match, conditions, field):
    with pytest.raises(ConditionError) as caught:
        clean_conditions(match=match, conditions=conditions)

    assert caught.value.field == field


def test_a_whole_valid_segment_is_cleaned_condition_by_condition():
    cleaned = clean_conditions(
        match="any",
        conditions=[
            {"trait": " plan", "operator": "equals", "value": "pro "},
            {"trait": "vip", "operator": "exists", "value": "x"},
        ],
    )

    assert cleaned == [
        {"trait": "plan", "operator": "equals", "value": "pro"},
        {"trait": "vip", "operator": "exists", "value": None},
    ]


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        ({"trait": "plan", "operator": "equals", "value": "pro"}, "plan equals “pro”"),
        ({"trait": "size", "operator": "greater_than", "value": "5"}, "size is greater than “5”"),
        ({"trait": "phone", "operator": "exists", "value": None}, "phone exists"),
    ],
)
def test_a_condition_reads_as_a_phrase(condition, text):
    assert describe_condition(condition) == text
