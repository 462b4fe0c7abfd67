"""MM-Vet scores per capability (upstream's MMVet_acc), in %.

A row's `category` lists its capabilities ("rec,ocr"). The main table has one row per
capability (rec, ocr, know, gen, spat, math; a row counts for every capability whose name
occurs in its category) and Overall; the fine table one row per distinct capability
combination (commas as underscores, order of first appearance) and Overall. Each value is
sum(score) / count * 100.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from .common import attach_extracted

CAPABILITIES = ("rec", "ocr", "know", "gen", "spat", "math")


def _table(keys, tot, total) -> pd.DataFrame:
    # upstream divides by zero for a capability with no rows (only possible in a limited run);
    # we leave that cell empty instead
    return pd.DataFrame({"Category": list(keys), "tot": [tot[k] for k in keys],
                         "acc": [total[k] / tot[k] * 100 if tot[k] else np.nan for k in keys]})


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str = "MMVet") -> dict:
    """{'acc', '{judge}_score' (same), '{judge}_score_fine', '{judge}.xlsx' (rows with score and log)}."""
    df = attach_extracted(data, extracted, dataset_name)
    tot, total = defaultdict(int), defaultdict(float)
    combos = []
    for category, grade in zip(df["category"], df["extracted"]):
        category = str(category)
        combo = category.replace(",", "_")
        if combo not in combos:
            combos.append(combo)
        grade = float(grade)
        for cap in CAPABILITIES:
            if cap in category:
                tot[cap] += 1
                total[cap] += grade
        # one counter for capabilities and combinations, as upstream: a row whose category is a
        # single capability ("rec") counts twice for it, which weights the capability table
        for k in ("Overall", combo):
            tot[k] += 1
            total[k] += grade
    main = _table([*CAPABILITIES, "Overall"], tot, total)
    fine = _table([*combos, "Overall"], tot, total)
    rows = df.drop(columns=["extracted"])
    rows.insert(len(rows.columns) - 1, "score", [float(g) for g in df["extracted"]])
    return {"acc": main, "{judge}_score": main, "{judge}_score_fine": fine, "{judge}.xlsx": rows}


def outcomes(tables: dict, dataset_name: str):
    """Per-row outcomes (stats/outcomes.py): the judge's 0-1 grades, in %, by capability (a row
    has several) and by capability combination."""
    from dataclasses import replace

    from .rows import accuracy

    df = tables["{judge}.xlsx"]
    caps = ["|".join(c for c in CAPABILITIES if c in str(cat)) for cat in df["category"]]
    combos = [str(c).replace(",", "_") for c in df["category"]]
    out = accuracy(df, df["index"], df["score"], 100.0, "question", {"capability": caps, "category": combos},
                   binary=False, extracted="score")
    return type(out)(out.rows, replace(out.spec, multi=("capability",)))
