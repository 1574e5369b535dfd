"""Wildcard patterns (`*` = any run of characters, possibly none), matched in linear time.

Pure. A pattern translated to a regular expression (`.*` per `*`) backtracks: `/` + 40 `*` +
`x` against a long path took seconds. With `*` as the only wildcard, matching the literal
pieces between the stars left to right, each at its leftmost place, is exact and never goes
back: the first piece must start the text, the last must end it, and each piece in between is
found after the previous one.
"""


def wildcard_match(pattern: str, text: str) -> bool:
    """Whether the whole of `text` matches `pattern` (case sensitive: casefold both to ignore case)."""
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return pattern == text
    first, *middle, last = pieces
    if len(first) + len(last) > len(text) or not (text.startswith(first) and text.endswith(last)):
        return False
    position, end = len(first), len(text) - len(last)
    for piece in middle:
        if not piece:  # a run of stars is one star
            continue
        found = text.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def count_wildcards(pattern: str) -> int:
    return pattern.count("*")
