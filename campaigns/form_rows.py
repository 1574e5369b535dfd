"""Adding and removing formset rows without JavaScript (segment conditions, audience conditions).

The form posts to its own view with `add_condition` (one blank row more, up to the limit) or
`remove_condition=<index>` (that row less); the view re-shows the rows as typed and saves
nothing. Pure: the POST's mapping in, plain rows out.
"""

from collections.abc import Mapping, Sequence

ADD = "add_condition"
REMOVE = "remove_condition"


def edits_rows(data: Mapping) -> bool:
    """Whether a POST adds or removes a row (rather than saving)."""
    return ADD in data or REMOVE in data


def posted_rows(data: Mapping, *, prefix: str, names: Sequence[str], limit: int) -> list[dict]:
    """The formset's rows of a POST as typed (not validated), at most `limit`."""
    try:
        total = int(data.get(f"{prefix}-TOTAL_FORMS", 0))
    except ValueError:
        total = 0
    return [
        {name: data.get(f"{prefix}-{index}-{name}", "") for name in names}
        for index in range(min(max(total, 0), limit))
    ]


def edited_rows(
    data: Mapping, *, prefix: str, names: Sequence[str], limit: int, blank: dict
) -> list[dict]:
    """The posted rows with a copy of `blank` added (`add_condition`, below `limit`) or the
    row `remove_condition` names removed (an index out of range or not a number: none)."""
    rows = posted_rows(data, prefix=prefix, names=names, limit=limit)
    if ADD in data and len(rows) < limit:
        rows.append(dict(blank))
    removed = data.get(REMOVE, "")
    if removed.isdecimal() and int(removed) < len(rows):
        del rows[int(removed)]
    return rows
