"""MTVQA scores (upstream MTVQADataset.evaluate): per language and on average, in %.

A row scores 1 when its answer, stripped, lower-cased and with every '.' removed, occurs in the
prediction treated the same way (a substring test, as upstream). The table's keys are in
upstream's order: the first row's category, then 'Average', then the other categories in order of
first appearance (upstream fills one dict as it goes). Upstream writes it as `_acc.json`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .common import attach_extracted, require_answers


def _norm(text) -> str:
    return str(text).strip().lower().replace(".", "")


def row_score(answer, prediction) -> float:
    return 1.0 if _norm(answer) in _norm(prediction) else 0.0


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str = "MTVQA_TEST") -> dict:
    """{'acc': one-row table, 'acc.json': upstream's dict, 'results.xlsx': per-row scores}."""
    require_answers(data, dataset_name)
    if "split" in data and not all(str(s).lower() == "test" for s in data["split"]):
        raise InputError(f"{dataset_name}: rows whose 'split' is not 'test'; upstream scores only MTVQA_TEST "
                         "(\"We only support MTVQA_TEST for now\"). Remove those rows or the column.")
    df = attach_extracted(data, extracted, dataset_name, columns=("extracted",))
    by_category: dict = {}
    scores = []
    for category, answer, prediction in zip(df["category"], df["answer"], df["extracted"]):
        s = row_score(answer, prediction)
        scores.append(s)
        by_category.setdefault(category, []).append(s)
        by_category.setdefault("Average", []).append(s)
    # an empty category is NaN, which json writes as the key "NaN" in upstream's file
    table = {("NaN" if pd.isna(k) else str(k)): float(np.mean(v)) * 100 for k, v in by_category.items()}
    df["score"] = scores
    return {"acc": pd.DataFrame({k: [v] for k, v in table.items()}), "acc.json": table,
            "results.xlsx": df.drop(columns=["extracted"])}
