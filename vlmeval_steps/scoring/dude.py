"""DUDE scoring (upstream's DUDE_acc, vlmeval/dataset/dude.py): ANLS of the judge-extracted answer.

A missing answer is 'Not answerable'; both sides are lower-cased and compared by MMLongBench-Doc's
ANLS (no whitespace normalisation; 0 at or below 0.5). The table has one row: category 'anls', num,
avg_score (a fraction). Upstream's main file is `{dataset}_{judge}_score.csv`.

Upstream reads the extracted answers back from an xlsx file and calls `.lower()` on them, so an
empty extraction (the judge failed, or read nothing) stops its evaluation with an error; here it is
the empty string and scores 0.
"""
from __future__ import annotations

import math

import pandas as pd

from ..errors import InputError
from .common import attach_extracted
from .mmlongbench import anls_compute, read_back, rows_table

UNANSWERABLE = "Not answerable"


def answer_text(value) -> str:
    """Upstream: a NaN answer is 'Not answerable'."""
    value = read_back(value)
    return UNANSWERABLE if isinstance(value, float) and math.isnan(value) else str(value)


def need_answers(data: pd.DataFrame, dataset_name: str) -> None:
    """An empty answer is a real case here ('Not answerable'); only a file without answers is refused."""
    if "answer" not in data.columns:
        raise InputError(f"{dataset_name}: the predictions have no 'answer' column, so they cannot be scored; score "
                         f"the prediction file made from the {dataset_name} TSV, which carries answers.")


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str = "DUDE") -> dict:
    need_answers(data, dataset_name)
    df = attach_extracted(data, extracted, dataset_name)
    ext = [e if isinstance(e, dict) else {} for e in df["extracted"]]
    scores = []
    for answer, e in zip(df["answer"], ext):
        pred = read_back(e.get("pred", ""))
        pred = "" if isinstance(pred, float) and math.isnan(pred) else str(pred)
        scores.append(anls_compute(answer_text(answer).lower(), pred.lower()))
    table = pd.DataFrame({"category": ["anls"], "num": [len(df)], "avg_score": [sum(scores) / len(df)]})
    return {"acc": table, "{judge}_score": table, "{judge}.xlsx": rows_table(df, ext, {"score": scores})}


def outcomes(tables: dict, dataset_name: str):
    """Per-row outcomes (stats/outcomes.py): each question's ANLS, in % (the table's avg_score)."""
    return row_outcomes(tables, "score")


def documents(df: pd.DataFrame) -> list[str]:
    """Each row's document: its `doc_id` where the TSV has one, else its page list (`image_path`: questions
    about one document name the same pages); a row with neither is its own document."""
    out = []
    for line in df.to_dict("records"):
        for col in ("doc_id", "image_path"):
            value = line.get(col)
            if value is not None and not (isinstance(value, float) and math.isnan(value)) and str(value).strip():
                out.append(f"{col}={value}")
                break
        else:
            out.append(f"index={line['index']}")
    return out


def row_outcomes(tables: dict, column: str):
    """One line per question; resampled by document, since a document's questions share its difficulty
    (how legible, how long), and are drawn together."""
    from .rows import accuracy

    df = tables["{judge}.xlsx"]
    scores = [float(s) for s in df[column]]
    return accuracy(df, documents(df), scores, 100.0, "document", binary=all(s in (0.0, 1.0) for s in scores),
                    extracted="pred")
