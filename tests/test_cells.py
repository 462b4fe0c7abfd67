"""The one parser of list cells (vlmeval_steps/cells.py) on the awkward cells a TSV holds."""
import math

import numpy as np
import pytest

from vlmeval_steps.cells import LITERAL_ERRORS, parse_list, to_list_or_str, toliststr

NAN = float("nan")


@pytest.mark.parametrize("cell, expected", [
    ("['a']", ["a"]),
    ("['a', 'b']", ["a", "b"]),
    ("[1, 2]", [1, 2]),            # items as parsed: the callers decide whether they become strings
    ("[]", []),
    ("[a", None),                  # malformed
    ("[a]", None),                 # a name, not a literal
    ("['a'] x", None),
    ("plain", None),
    ("", None),
    (NAN, None),
    (3, None),
    (np.int64(3), None),
    ("('a', 'b')", None),          # a tuple does not count unless asked for
    ("{[1]: 2}", None),            # literal_eval raises TypeError here
    (" ['a']", None),              # not '[...]': toliststr reads only a text that starts with '['
])
def test_parse_list_bracketed(cell, expected):
    assert parse_list(cell) == expected


def test_parse_list_any_literal_and_tuples():
    assert parse_list(" ['a']", brackets=False) == ["a"]  # upstream's eval reads past a leading blank
    assert parse_list("['a']\n", brackets=False) == ["a"]
    assert parse_list("('a', 'b')", brackets=False) is None
    assert parse_list("('a', 'b')", brackets=False, tuples=True) == ["a", "b"]
    assert parse_list("[1], [2]", tuples=True) == [[1], [2]]  # a bracketed text that spells a tuple
    assert parse_list("3", brackets=False) is None
    assert parse_list(NAN, brackets=False) is None
    assert parse_list(["a", "b"], brackets=False) == ["a", "b"]  # a list value reads back through its text


def test_parse_list_strict_raises_only_on_what_it_reads():
    for cell in ("[a]", "[{[1]: 2}]", "[1, 2,,]"):
        with pytest.raises(LITERAL_ERRORS):
            parse_list(cell, strict=True)
    assert parse_list("[a]", strict=False) is None
    assert parse_list("plain", strict=True) is None  # not bracketed: never read, so never malformed
    assert parse_list("[a", strict=True) is None  # malformed, but not "[...]" either


@pytest.mark.parametrize("cell, expected", [
    ("['a', 'b']", ["a", "b"]),
    ("[1, 2]", ["1", "2"]),
    ("['a']", ["a"]),
    ("[]", []),
    ("[a", ["[a"]),
    ("plain", ["plain"]),
    ("", [""]),
    (NAN, ["nan"]),
    (3, ["3"]),
])
def test_toliststr(cell, expected):
    assert toliststr(cell) == expected


@pytest.mark.parametrize("cell, expected", [
    ("['a', 'b']", ["a", "b"]),
    ("[1, 2]", ["1", "2"]),
    ("['a']", "a"),                # a one-item list collapses
    ("[]", []),
    ("[a", "[a"),
    ("plain", "plain"),
    ("", ""),
    (3, 3),                        # not a string: kept as it is
    ("[{[1]: 2}]", "[{[1]: 2}]"),
])
def test_to_list_or_str(cell, expected):
    assert to_list_or_str(cell) == expected


def test_to_list_or_str_keeps_nan():
    assert math.isnan(to_list_or_str(NAN))
