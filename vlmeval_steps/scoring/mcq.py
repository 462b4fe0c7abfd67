"""MCQ accuracy: vanilla and circular hits, and upstream's report_acc table.

Deliberate deviations (README, "Deviations"): splits are listed sorted (upstream uses set order,
which changes with PYTHONHASHSEED), and NaN category values are left out of the breakdown
(upstream fails to sort them).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MMB_ABBRS = {
    "coarse_perception": "CP",
    "finegrained_perception (instance-level)": "FP-S",
    "finegrained_perception (cross-instance)": "FP-C",
    "logic_reasoning": "LR",
    "relation_reasoning": "RR",
    "attribute_reasoning": "AR",
}
CIRCULAR_MARKERS = ("mmbench", "ccbench", "circular", "mmcr")


def is_circular(dataset_name: str) -> bool:
    return any(m in dataset_name.lower() for m in CIRCULAR_MARKERS)


def report_acc(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    res: dict[str, list] = {}
    if "split" in df:
        res["split"] = sorted(set(df["split"].astype(str)))
        df["split"] = df["split"].astype(str)
    else:
        df["split"] = "none"
        res["split"] = ["none"]

    def mean_hit(sub: pd.DataFrame, split: str) -> float:
        hits = sub.loc[sub["split"] == split, "hit"]
        return float(np.mean(hits)) if len(hits) else float("nan")

    res["Overall"] = [mean_hit(df, sp) for sp in res["split"]]
    for group in ("l2-category", "category"):
        if group not in df:
            continue
        for ability in sorted(x for x in set(df[group]) if not pd.isna(x)):
            sub = df[df[group] == ability]
            res[MMB_ABBRS.get(ability, ability)] = [mean_hit(sub, sp) for sp in res["split"]]
    return pd.DataFrame(res)


def _answers_match(extracted, answer) -> bool:
    return not pd.isna(answer) and str(extracted) == str(answer)


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str) -> dict[str, pd.DataFrame]:
    """{'acc': report table, 'result': per-question hit and log} from predictions + extractions."""
    if "answer" not in data.columns:
        raise ValueError(f"{dataset_name}: the predictions have no 'answer' column, so they cannot be scored "
                         "(a test split without ground truth is inference-only).")
    ext = extracted.set_index(extracted["index"].astype(str))
    df = data.copy()
    keys = df["index"].astype(str)
    missing = sorted(set(keys) - set(ext.index))
    if missing:
        raise ValueError(f"{dataset_name}: no extracted answer for indices {missing[:5]}")
    df["extracted"] = [ext.at[k, "extracted"] for k in keys]
    df["log"] = [ext.at[k, "log"] for k in keys]
    df["hit"] = [int(_answers_match(e, a)) for e, a in zip(df["extracted"], df["answer"])]
    if is_circular(dataset_name):
        df = circular_hits(df)
    return {"acc": report_acc(df), "result": df.sort_values("index", kind="stable").reset_index(drop=True)}


def circular_hits(df: pd.DataFrame) -> pd.DataFrame:
    """One row per question group (index == g_index); hit only if every rotation is right."""
    df = df.copy()
    df["index"] = df["index"].astype(int)
    if "g_index" not in df:
        df["g_index"] = (df["index"] % int(1e6)).astype(int)
    df["g_index"] = df["g_index"].astype(int)
    group_hit = df.groupby("g_index")["hit"].min()
    main = df[df["index"] == df["g_index"]].copy()
    main["hit"] = main["g_index"].map(group_hit).astype(int)
    return main
