"""Building per-row outcome tables (stats/outcomes.py) from a scorer's per-row results.

Each scoring family has an `outcomes(tables, dataset_name)` beside its `score()`, which its dataset class's
`outcomes(tables)` calls; this module holds what they share.
"""
from __future__ import annotations

import itertools
import string

import pandas as pd

from ..stats.outcomes import Outcomes
from ..stats.spec import RatioSpec


def _text(series) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v) for v in series]


def option_lines(df: pd.DataFrame) -> list[str] | None:
    """Each row's options as 'A. square\nB. circle' from its letter columns (A, B, ...); None when the
    table has none. The report shows them, so that an answer 'B' says what B is."""
    letters = list(itertools.takewhile(lambda c: c in df.columns, string.ascii_uppercase))  # A, B, ... in a row
    if not letters:
        return None
    return ["\n".join(f"{k}. {v}" for k, v in zip(letters, _text(row)) if v.strip())
            for row in df[letters].itertuples(index=False)]


def candidate_lines(candidates) -> list[str]:
    """Option lists (one list per row, as video benchmarks hold them) lettered A, B, ... as the prompt letters them."""
    return ["\n".join(f"{chr(ord('A') + i)}. {c}" for i, c in enumerate(cands)) for cands in candidates]


def frame(df: pd.DataFrame, unit, values: dict, groups: dict | None = None, correct=None,
          extracted="extracted", options=None) -> pd.DataFrame:
    """index, unit, value columns, group columns, then the text people read (`options`: one text per
    row; by default from the letter columns of a multiple-choice table)."""
    out = pd.DataFrame({"index": _text(df["index"]), "unit": _text(unit)})
    for name, col in values.items():
        out[name] = list(col)
    for name, col in (groups or {}).items():
        out[name] = _text(col)
    for name in ("question", "prediction", "answer"):
        out[name] = _text(df[name]) if name in df else ""
    options = option_lines(df) if options is None else _text(options)
    if options is not None:
        out["options"] = options
    out["extracted"] = _text(df[extracted]) if isinstance(extracted, str) and extracted in df else (
        _text(extracted) if not isinstance(extracted, str) else "")
    out["correct"] = [int(bool(c)) for c in correct] if correct is not None else ""
    return out


def group_columns(df: pd.DataFrame, names=("split", "l2-category", "category")) -> dict:
    """The category columns a table has, broad first (split, then l2-category, then category)."""
    return {n: df[n] for n in names if n in df}


def accuracy(df: pd.DataFrame, unit, score, scale: float, unit_name: str, groups: dict | None = None,
             binary: bool = True, correct=None, extracted="extracted", options=None) -> Outcomes:
    """The mean of a per-row score (0/1 or a fraction) times `scale`."""
    score = [float(s) for s in score]
    rows = frame(df, unit, {"score": score, "one": [1] * len(df)}, groups,
                 correct=correct if correct is not None else [s >= 1.0 for s in score], extracted=extracted,
                 options=options)
    spec = RatioSpec(terms=(("score", "one"),), scale=scale, unit_name=unit_name, groups=tuple(groups or {}),
                     binary="score" if binary else None)
    return Outcomes(rows, spec)

