"""can_infer follows upstream's rules at e8e78f05 (reference §3.1)."""
from __future__ import annotations

import pytest

from vlmeval_steps.judge.matching import can_infer, can_infer_option, can_infer_text

CHOICES = {"A": "red", "B": "green", "C": "blue", "D": "yellow"}


@pytest.mark.parametrize("answer, expected", [
    ("A", "A"),
    ("(B)", "B"),
    ("The answer is C.", "C"),
    ("C. blue", "C"),
    ("blue", "C"),                              # option text instead of a letter
    ("A or B", False),                          # two letters: undecided
    ("I choose A because the shape is round and bright red", False),  # letter not in the last 4 tokens
    ("Z", "Z"),
    ("Cannot determine the answer", "Z"),       # a refusal
    ("Failed to obtain answer via API.", False),
    ("The correct answer is **D**", "D"),       # the 'answer is X' fallback
    ("the answer is a red circle", "A"),        # upstream quirk: '... is a' reads as A
    ("red and green", False),                   # two option texts
    ("", False),
])
def test_can_infer(answer, expected):
    assert can_infer(answer, dict(CHOICES)) == expected


def test_text_match_rejects_answers_longer_than_twice_the_options():
    total = sum(len(v) for v in CHOICES.values())  # 18 characters
    assert can_infer_text("blue" + " " * (2 * total - 4), CHOICES) == "C"
    assert can_infer_text("blue" + " " * (2 * total - 3), CHOICES) is False


def test_letter_position_rule_counts_tokens_after_separators():
    # "A" is the 1st of 5 tokens: index 0 > 5 - 5 is False, so no option is inferred
    assert can_infer_option("A: it is so red", CHOICES) is False
    # 4 tokens: index 0 > 4 - 5
    assert can_infer_option("A: it is red", CHOICES) == "A"


def test_numeric_options_match_as_text():
    assert can_infer("3.5", {"A": 1.0, "B": 3.5}) == "B"
