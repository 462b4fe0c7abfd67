"""TSV cells that hold a Python list ("['a', 'b']", '[1, 2]'): the one parser every stage uses.

Upstream eval()s such cells; a literal is all they ever hold, so they are read with ast.literal_eval,
which runs no code. Upstream reads them in more than one way, and the differences can move a score,
so they are parameters here, not smoothed over:

- toliststr (image_path, MMDU turns): only a text that starts with '[' and ends with ']' is read;
  the items become strings.
- istype(x, list) then eval (VQA answers, MathVista skills, choice and reference lists): any text
  literal_eval reads (' [1]', with a leading blank, is a list too); the items stay as parsed.
"""
from __future__ import annotations

import ast

#: what ast.literal_eval raises on a text that is not a literal (TypeError: an unhashable key, as in '{[1]: 2}')
LITERAL_ERRORS = (ValueError, SyntaxError, MemoryError, RecursionError, TypeError)


def parse_list(value, *, brackets: bool = True, tuples: bool = False, strict: bool = False) -> list | None:
    """The list str(value) spells as a Python literal, items as parsed; None where it spells no list.

    brackets: read only a text that starts with '[' and ends with ']' (upstream's toliststr); False reads any text.
    tuples: a tuple counts as a list (the callers that only iterate the value).
    strict: a text that is read but is no literal raises (one of LITERAL_ERRORS) instead of giving None.
    """
    text = str(value)
    if brackets and not (text.startswith("[") and text.endswith("]")):
        return None
    try:
        parsed = ast.literal_eval(text)
    except LITERAL_ERRORS:
        if strict:
            raise
        return None
    if isinstance(parsed, list) or (tuples and isinstance(parsed, tuple)):
        return list(parsed)
    return None


def toliststr(value) -> list[str]:
    """Upstream's toliststr: a '[...]' text is the list it spells, items as strings; anything else one item."""
    items = parse_list(value)
    return [str(x) for x in items] if items is not None else [str(value)]


def to_list_or_str(value):
    """toliststr for image_path-like cells: a one-item list collapses to its item; a cell that is not a
    string (NaN, a number) is kept as it is."""
    if not isinstance(value, str):
        return value
    items = toliststr(value)
    return items[0] if len(items) == 1 else items
