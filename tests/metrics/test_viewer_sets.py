from metrics.viewer_sets import deserialize, serialize, union


def test_serialisation_is_canonical_and_round_trips():
    ids = [5, 1, 2**40, 3, 4, 5, 1_000_000]
    data = serialize(ids)
    assert data == serialize(sorted(set(ids)))
    assert list(deserialize(data)) == sorted(set(ids))
    assert list(deserialize(memoryview(data))) == sorted(set(ids))  # what PostgreSQL returns


def test_the_empty_set_is_empty_bytes():
    assert serialize([]) == b""
    assert len(deserialize(b"")) == 0
    assert len(deserialize(None)) == 0


def test_union_counts_each_viewer_once():
    assert len(union([serialize([1, 2, 3]), serialize([3, 4]), b"", None])) == 4
    assert len(union([])) == 0
