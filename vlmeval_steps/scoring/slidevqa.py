"""SlideVQA scoring (upstream's SlideVQA_acc and get_f1, vlmeval/dataset/slidevqa.py): ANLS, exact
match and bag-of-words F1 of the judge-extracted answer.

A missing answer is 'Not answerable'; newlines are removed from the answer and both sides are
lower-cased. The extracted answer is `str()` of what upstream reads back from its xlsx file, so an
empty extraction (and 'None', 'NA', ...) becomes the text 'nan', as upstream. EM compares the
stripped strings; F1 counts prediction words found among the answer's words (duplicates count each
time, as upstream). The table: category (anls, EM, F1), num, avg (fractions). Upstream's main file is
`{dataset}_{judge}_score.csv`.
"""
from __future__ import annotations

import re

import pandas as pd

from .common import attach_extracted
from .dude import answer_text, need_answers
from .mmlongbench import anls_compute, read_back, rows_table


def get_f1(gt: str, pred: str) -> float:
    gt_bow, pred_bow = gt.strip().split(), pred.strip().split()
    if not gt_bow or not pred_bow:
        return 0.0
    common = len([p for p in pred_bow if p in gt_bow])
    recall, precision = common / len(gt_bow), common / len(pred_bow)
    return 2 * recall * precision / (recall + precision) if (recall + precision) > 1e-4 else 0.0


def row_scores(answer, pred) -> tuple[float, bool, float]:
    """(anls, em, f1) of one row, from the answer cell and the extracted answer."""
    answer = re.sub("\n", "", answer_text(answer)).lower()
    pred = str(read_back(pred)).lower()
    return anls_compute(answer, pred), answer.strip() == pred.strip(), get_f1(answer, pred)


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str = "SLIDEVQA") -> dict:
    need_answers(data, dataset_name)
    df = attach_extracted(data, extracted, dataset_name)
    ext = [e if isinstance(e, dict) else {} for e in df["extracted"]]
    anls, em, f1 = (list(x) for x in zip(*[row_scores(a, e.get("pred", "")) for a, e in zip(df["answer"], ext)]))
    n = len(df)
    table = pd.DataFrame({"category": ["anls", "EM", "F1"], "num": [n, n, n],
                          "avg": [sum(anls) / n, sum(em) / n, sum(f1) / n]})
    rows = rows_table(df, ext, {"anls": anls, "em": em, "f1": f1})
    return {"acc": table, "{judge}_score": table, "{judge}.xlsx": rows}


def outcomes(tables: dict, dataset_name: str):
    """Per-row outcomes (stats/outcomes.py): exact matches in % (the summary's main metric, EM)."""
    from .dude import row_outcomes

    return row_outcomes(tables, "em")
