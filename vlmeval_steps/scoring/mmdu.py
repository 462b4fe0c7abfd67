"""MMDU scores (upstream's MMDUDataset.calculat_metric), x10 so a perfect 10 reads 100.

Every turn of every row counts once per dimension ('all'); a turn whose score for a dimension is
missing or not an integer counts only in 'all' (as 0), not in 'valid'. Scores are int()-ed and
clipped to 0..10, as upstream. Upstream's main file is `MMDU_{judge}_score.csv`.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..judge.mmdu import DIMS
from .common import attach_extracted


def _as_int(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str = "MMDU") -> dict:
    df = attach_extracted(data, extracted, dataset_name)
    total = {k: 0 for k in DIMS}
    tot = {k: 0 for k in DIMS}
    valid = {k: 0 for k in DIMS}
    for rec in df["extracted"]:
        turns = rec.get("turns", []) if isinstance(rec, dict) else []
        # upstream builds a DataFrame of the turns: a dimension one turn lacks is NaN there
        for turn in turns:
            for k in DIMS:
                tot[k] += 1
                value = _as_int(turn.get(k) if isinstance(turn, dict) else None)
                if value is not None:
                    total[k] += int(np.clip(value, 0, 10))
                    valid[k] += 1
    rows = [dict(set="all", **{k: total[k] / tot[k] * 10 if tot[k] else np.nan for k in DIMS}),
            dict(set="valid", **{k: total[k] / valid[k] * 10 if valid[k] else np.nan for k in DIMS})]
    table = pd.DataFrame(rows)
    detail = df.drop(columns=["extracted"]).assign(turn_scores=[str(r.get("turns")) for r in df["extracted"]])
    return {"acc": table, "{judge}_score": table, "{judge}.xlsx": detail}
