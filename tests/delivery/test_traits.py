"""Profile traits are bounded: 100 top-level keys and 16 KB, for one call and after any merge.

Rule (docs/tracking-api.md, "Traits"): an identify whose own traits pass a cap is refused
(400 naming `traits`); a merge that would pass a cap keeps the profile's existing traits and
drops the new keys that do not fit, and the call still succeeds.
"""

import json

import pytest

from delivery.models import Event, Profile, Visitor
from delivery.tracking.traits import (
    MAX_TRAIT_KEYS,
    MAX_TRAITS_BYTES,
    fill_traits,
    merge_traits,
    traits_problem,
    traits_size,
)
from tests.delivery.tracking_helpers import send
from tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db


def keys(prefix: str, count: int, value="v") -> dict:
    return {f"{prefix}{n:03}": value for n in range(count)}


def size(traits: dict) -> int:
    return len(json.dumps(traits, separators=(",", ":"), ensure_ascii=False).encode())


# --- Pure rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "traits",
    [{}, {"a": 1}, {"é": "😀", "n": [1, {"x": None}]}, keys("k", 100, "x" * 50)],
)
def test_traits_size_is_compact_utf8_json(traits):
    assert traits_size(traits) == size(traits)


@pytest.mark.parametrize(
    ("traits", "refused"),
    [
        (keys("k", MAX_TRAIT_KEYS), False),
        (keys("k", MAX_TRAIT_KEYS + 1), True),
        ({"blob": "x" * (MAX_TRAITS_BYTES - 12)}, False),  # {"blob":"…"} is 11 bytes more
        ({"blob": "x" * (MAX_TRAITS_BYTES - 10)}, True),
    ],
)
def test_one_calls_traits_are_checked_against_both_caps(traits, refused):
    assert (traits_problem(traits) is not None) is refused


@pytest.mark.parametrize(
    ("current", "incoming", "merged", "dropped"),
    [
        ({}, {"a": 1}, {"a": 1}, []),
        ({"a": 1}, {"a": 2}, {"a": 2}, []),
        ({"a": 1, "b": 2}, {"a": None, "c": None}, {"b": 2}, []),
        # Full: existing keys are still updated and removed, new ones are dropped.
        (keys("k", 100), {"k000": "w", "new": 1}, {**keys("k", 100), "k000": "w"}, ["new"]),
        (
            keys("k", 100),
            {"k000": None, "new": 1},
            {f"k{n:03}": "v" for n in range(1, 100)} | {"new": 1},
            [],
        ),
        (keys("k", 99), {"x": 1, "y": 2}, {**keys("k", 99), "x": 1}, ["y"]),
    ],
)
def test_merging_adds_keys_only_while_they_fit(current, incoming, merged, dropped):
    result = merge_traits(current, incoming)
    assert (result.traits, result.dropped) == (merged, dropped)


def test_merging_drops_a_value_that_would_pass_16_kb_and_keeps_the_old_one():
    current = {"a": "x" * 10_000, "b": "small"}

    result = merge_traits(current, {"b": "y" * 7_000, "c": "z" * 5_000, "d": 1})

    assert result.traits == {"a": "x" * 10_000, "b": "small", "c": "z" * 5_000, "d": 1}
    assert result.dropped == ["b"]
    assert traits_size(result.traits) <= MAX_TRAITS_BYTES


def test_a_profile_already_over_the_caps_never_grows_but_may_shrink():
    oversized = keys("k", 150)

    result = merge_traits(oversized, {"new": 1, "k000": "w", "k001": None, "k002": "longer"})

    assert result.dropped == ["new", "k002"]
    assert (result.traits["k000"], result.traits["k002"]) == ("w", "v")
    assert "k001" not in result.traits and len(result.traits) == 149


def test_filling_gaps_keeps_the_targets_traits_and_adds_the_sources_while_they_fit():
    result = fill_traits(keys("t", 98, "target"), {"t000": "source", "s1": 1, "s2": 2, "s3": 3})

    assert result.traits["t000"] == "target"
    assert {"s1", "s2"} <= set(result.traits) and len(result.traits) == MAX_TRAIT_KEYS
    assert result.dropped == ["s3"]


# --- Through the API --------------------------------------------------------------------------


def identify(client, workspace, traits, route="identify", **fields):
    body = {"userId": "u-1", "anonymousId": "anon-1", "traits": traits, **fields}
    return send(client, route, body, write_key=workspace.write_key)


def test_an_identify_with_more_than_100_traits_is_refused_naming_the_field(client, workspace):
    response = identify(client, workspace, keys("k", 101))

    assert response.status_code == 400
    assert (response.json()["error"], response.json()["field"]) == ("invalid", "traits")
    assert not Event.objects.exists() and not Profile.objects.exists()


def test_an_identify_with_traits_over_16_kb_is_refused_naming_the_field(client, workspace):
    response = identify(client, workspace, {"bio": "x" * MAX_TRAITS_BYTES})

    assert response.status_code == 400
    assert response.json()["field"] == "traits"


def test_a_batch_holding_an_identify_over_the_caps_is_refused_naming_it(client, workspace):
    body = {
        "batch": [
            {"type": "page", "anonymousId": "anon-1"},
            {"type": "identify", "userId": "u-1", "traits": keys("k", 101)},
        ]
    }

    response = send(client, "batch", body, write_key=workspace.write_key)

    assert response.status_code == 400
    assert response.json()["field"] == "batch[1].traits"
    assert not Event.objects.exists()


def test_many_identifies_never_merge_past_100_keys_and_the_first_ones_stay(client, workspace):
    for call in range(5):
        response = identify(client, workspace, keys(f"c{call}-", 30), messageId=f"m-{call}")
        assert response.status_code == 200

    traits = Profile.objects.get().traits
    assert len(traits) == MAX_TRAIT_KEYS
    assert set(keys("c0-", 30)) | set(keys("c1-", 30)) | set(keys("c2-", 30)) <= set(traits)
    assert Event.objects.count() == 5  # every call is stored
    assert Visitor.objects.get().profile is not None  # and the merge happened


def test_many_identifies_never_merge_past_16_kb(client, workspace):
    for call in range(5):
        traits = {f"bio{call}": "x" * 5_000, f"n{call}": call}
        assert identify(client, workspace, traits, messageId=f"m-{call}").status_code == 200

    traits = Profile.objects.get().traits
    assert size(traits) <= MAX_TRAITS_BYTES
    assert {"bio0", "bio1", "bio2", "n0", "n1", "n2", "n3", "n4"} <= set(traits)


def test_a_batch_of_identifies_is_capped_in_call_order(client, workspace):
    body = {
        "batch": [
            {"type": "identify", "userId": "u-1", "traits": keys(f"c{call}-", 40)}
            for call in range(3)
        ]
    }

    assert send(client, "batch", body, write_key=workspace.write_key).status_code == 200

    traits = Profile.objects.get().traits
    assert set(traits) == set(keys("c0-", 40)) | set(keys("c1-", 40)) | set(keys("c2-", 20))


def test_an_alias_folding_two_people_stays_within_the_caps(client, workspace):
    ProfileFactory(workspace=workspace, user_id="old", traits=keys("old", 80))
    ProfileFactory(workspace=workspace, user_id="new", traits=keys("new", 80))

    response = send(
        client, "alias", {"userId": "new", "previousId": "old"}, write_key=workspace.write_key
    )

    assert response.status_code == 200
    traits = Profile.objects.get(user_id="new").traits
    assert len(traits) == MAX_TRAIT_KEYS
    assert set(keys("new", 80)) <= set(traits)
