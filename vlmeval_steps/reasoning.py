"""Reasoning traces (`<think>...</think>`): thinking models write one before the answer; the answer is scored.

Extraction, the LLM judge and the metrics see the text after the trace, as upstream's SPLIT_THINK run gives
them (`vlmeval/inference.py`: the text after the last `</think>`, stripped, is the prediction; what comes
before it is the `thinking`). The prediction files keep the raw text. One deviation from SPLIT_THINK (docs/parity.md,
deviations): a trace the token limit cut off (it opens and never closes) holds no answer, so it counts as a
failed prediction instead of being scored as if the trace were the answer.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .errors import FAIL_MSG

#: the tags whose traces are taken off by default; the config's `reasoning_tags` changes them ([] turns it off)
DEFAULT_TAGS = ("think",)


@dataclass(frozen=True)
class Split:
    answer: str
    trace: str            # '' when there is none
    unterminated: bool = False


def split_trace(text: str, tags=DEFAULT_TAGS) -> Split:
    """The answer and the trace of one prediction (the first tag that closes or opens one decides)."""
    for tag in tags:
        opening, closing = f"<{tag}>", f"</{tag}>"
        if closing in text:
            # upstream: the answer is what follows the last closing tag; the trace what precedes it, without
            # its opening tag when there is exactly one of each (a chat template often writes the opening tag
            # into the prompt, so the reply starts inside the trace)
            parts = text.split(closing)
            before = parts[:-1]
            if len(before) == 1 and opening in before[0]:
                trace = before[0].split(opening, 1)[1].strip()
            else:
                trace = closing.join(before) + closing
            return Split(parts[-1].strip(), trace)
        if text.lstrip().startswith(opening):
            return Split(FAIL_MSG, text, unterminated=True)
    return Split(text, "")


def answers_only(data: pd.DataFrame, tags=DEFAULT_TAGS) -> tuple[pd.DataFrame, dict]:
    """`data` with each prediction's trace taken off (into a `thinking` column, when any row has one), and the
    counts the provenance records: rows with a trace, traces cut off, and the traces' lengths in characters."""
    tags = tuple(tags or ())
    counts = dict(rows_with_trace=0, unterminated=0, trace_chars_mean=0, trace_chars_max=0)
    if not tags or "prediction" not in data:
        return data, counts
    splits = [split_trace(p, tags) if isinstance(p, str) else Split(p, "") for p in data["prediction"]]
    traced = [s for s in splits if s.trace]
    if not traced:
        return data, counts
    lengths = [len(s.trace) for s in traced]
    counts.update(rows_with_trace=len(traced), unterminated=sum(s.unterminated for s in traced),
                  trace_chars_mean=round(sum(lengths) / len(lengths)), trace_chars_max=max(lengths))
    data = data.copy()
    data["prediction"] = [s.answer for s in splits]
    data["thinking"] = [s.trace for s in splits]
    return data, counts
