import pytest

from metrics.viewer_sets import ALL_HOURS, keys, keys_seen_during, pack, unpack

MASKS = {-(2**63): 1, -5: 1 << 23, 0: ALL_HOURS, 7: 0b1010, 2**63 - 1: 1 << 12}


def test_packing_round_trips_and_sorts_the_keys():
    viewers, hours = pack(MASKS)
    assert len(viewers) == 8 * len(MASKS) and len(hours) == 4 * len(MASKS)
    assert unpack(viewers, hours) == MASKS
    assert list(keys(viewers)) == sorted(MASKS)
    assert unpack(memoryview(viewers), memoryview(hours)) == MASKS  # what PostgreSQL returns


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        (ALL_HOURS, sorted(MASKS)),
        (1, [-(2**63), 0]),
        (0b1000, [0, 7]),
        (1 << 23, [-5, 0]),
        (0, []),
    ],
)
def test_keys_seen_during_some_hours(mask, expected):
    assert sorted(keys_seen_during(*pack(MASKS), mask)) == expected


def test_an_empty_set_packs_to_nothing():
    assert pack({}) == (b"", b"")
    assert unpack(b"", b"") == {}
