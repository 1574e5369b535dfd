"""campaigns.form_rows: adding and removing formset rows without JavaScript."""

import pytest
from django.http import QueryDict

from campaigns.form_rows import edited_rows, edits_rows

NAMES = ("trait", "value")
BLANK = {"trait": "", "value": "?"}


def posted(total, **extra) -> QueryDict:
    data = QueryDict(mutable=True)
    data["rows-TOTAL_FORMS"] = str(total)
    for index in range(3):
        data[f"rows-{index}-trait"] = f"t{index}"
        data[f"rows-{index}-value"] = f"v{index}"
    data.update(extra)
    return data


def traits(data, limit=3) -> list[str]:
    rows = edited_rows(data, prefix="rows", names=NAMES, limit=limit, blank=BLANK)
    return [row["trait"] or row["value"] for row in rows]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (posted(2), ["t0", "t1"]),
        (posted(2, add_condition="1"), ["t0", "t1", "?"]),
        (posted(3, add_condition="1"), ["t0", "t1", "t2"]),  # at the limit
        (posted(3, remove_condition="1"), ["t0", "t2"]),
        (posted(2, remove_condition="2"), ["t0", "t1"]),  # no such row
        (posted(2, remove_condition="²"), ["t0", "t1"]),  # a digit, not a number
        (posted(2, remove_condition="-1"), ["t0", "t1"]),
        (posted(9), ["t0", "t1", "t2"]),  # more than the limit: the limit
        (posted("x"), []),
        (posted(-2), []),
    ],
)
def test_edited_rows(data, expected):
    assert traits(data) == expected


def test_an_added_row_is_a_copy_of_the_blank_one():
    rows = edited_rows(posted(0, add_condition="1"), prefix="rows", names=NAMES, limit=3, blank=BLANK)  # fmt: skip
    rows[0]["trait"] = "typed"
    assert BLANK == {"trait": "", "value": "?"}


@pytest.mark.parametrize(
    ("keys", "edits"),
    [({"add_condition"}, True), ({"remove_condition"}, True), ({"name"}, False)],
)
def test_edits_rows(keys, edits):
    assert edits_rows(dict.fromkeys(keys, "0")) is edits
