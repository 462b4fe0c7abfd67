"""Rule-based answer extraction, as upstream's vlmeval/utils/matching_util.py at e8e78f05.

`can_infer(answer, choices)` returns the option letter the answer names, 'Z' for a refusal,
or False when the rules cannot decide (the LLM judge, if any, gets those).
"""
from __future__ import annotations

import os
import re

from ..errors import FAIL_MSG  # noqa: F401 (re-exported: the extraction rules' callers use it from here)

REFUSALS = (
    "Sorry, I can't help with images of people yet.",
    "I can't process this file.",
    "I'm sorry, but without the image provided",
    "Cannot determine the answer",
)
SEPARATORS = ".()[],:;!*#{}"
ANSWER_IS = re.compile(r"(?i)(?:correct\s+)?answer\s+is\s+\**([ABCD])\**")


def _count_choice(splits: list[str], choices) -> int:
    return sum(1 for c in choices if c in splits)


def can_infer_option(answer: str, choices: dict):
    if "Failed to obtain answer via API" in answer:
        return False
    if any(err in answer for err in REFUSALS):
        return "Z"
    answer_mod = answer
    for ch in SEPARATORS:
        answer_mod = answer_mod.replace(ch, " ")
    splits = [x.strip() for x in answer_mod.split()]
    count = _count_choice(splits, choices)
    if count == 1:
        verbose = os.environ.get("VERBOSE", 0)
        for ch in choices:
            if "A" in splits and len(splits) > 3 and verbose:
                return False
            # the letter must be among the last four tokens (upstream #1175)
            if ch in splits and splits.index(ch) > (len(splits) - 5):
                return ch
    elif count == 0 and _count_choice(splits, {"Z", ""}) == 1:
        return "Z"
    m = ANSWER_IS.search(answer)
    if m and m.group(1).upper() in choices:
        return m.group(1).upper()
    return False


def can_infer_text(answer: str, choices: dict):
    answer = answer.lower()
    if len(answer) > 2 * sum(len(str(v)) for v in choices.values()):
        return False
    lowered = {k: str(v).lower() for k, v in choices.items()}
    cands = [k for k, v in lowered.items() if v in answer]
    return cands[0] if len(cands) == 1 else False


def can_infer(answer, choices: dict):
    answer = str(answer)
    return can_infer_option(answer, choices) or can_infer_text(answer, choices)
