"""MCQ accuracy: vanilla and circular hits, and upstream's report_acc table.

Deliberate deviations (docs/parity.md, "Deliberate deviations"): splits are listed sorted (upstream uses set order,
which changes with PYTHONHASHSEED), and NaN category values are left out of the breakdown
(upstream fails to sort them).
"""
from __future__ import annotations

import string

import numpy as np
import pandas as pd

from ..errors import InputError
from .common import attach_extracted, require_answers

MMB_ABBRS = {
    "coarse_perception": "CP",
    "finegrained_perception (instance-level)": "FP-S",
    "finegrained_perception (cross-instance)": "FP-C",
    "logic_reasoning": "LR",
    "relation_reasoning": "RR",
    "attribute_reasoning": "AR",
}
CIRCULAR_MARKERS = ("mmbench", "ccbench", "circular", "mmcr")
LETTERS = frozenset(string.ascii_uppercase)


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


def ground_truth(answer, dataset_name: str):
    """MMMU's open questions are scored as "A (the answer) vs B (Other Answers)", so any GT that is
    not an option letter becomes 'A' (upstream's MMMU_preproc)."""
    if "MMMU" in dataset_name and answer not in LETTERS:
        return "A"
    return answer


NO_JUDGE_LOG = "Failed in Prefetch, no GPT-based answer matching under `exact_matching` policy."


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str) -> dict[str, pd.DataFrame]:
    """{'acc': report table, 'result': upstream's per-question `_result.xlsx` rows}.

    The result rows hold the prediction file's columns (MMMU's open questions rewritten to
    'A. <answer>' / 'B. Other Answers', as upstream's MMMU_preproc leaves them), circular
    benchmarks' `g_index`, then upstream's `hit` and `log`; our `extracted` (the option the
    rules or the judge found) comes last."""
    require_answers(data, dataset_name, partial_ok=True)
    df = attach_extracted(data, extracted, dataset_name, columns=("extracted", "log", "method"))
    df = df.rename(columns={"log": "match_log"})
    if "MMMU" in dataset_name and "A" in df and "B" in df:
        open_question = df["A"].isna()
        df.loc[open_question, "B"] = "Other Answers"
        df.loc[open_question, "A"] = df.loc[open_question, "answer"]
    df["hit"] = [int(str(e) == str(ground_truth(a, dataset_name))) for e, a in zip(df["extracted"], df["answer"])]
    df["log"] = [f"Match Log: {m}. " for m in df["match_log"]]
    if is_circular(dataset_name):
        df = circular_hits(df)
    df = df.sort_values("index", kind="stable").reset_index(drop=True)
    ours = ["extracted"]
    upstream = [c for c in df.columns if c not in ours + ["match_log", "method", "hit", "log"]] + ["hit", "log"]
    return {"acc": report_acc(df), "result": df[upstream + ours]}


def circular_hits(df: pd.DataFrame) -> pd.DataFrame:
    """One row per question group (index == g_index): hit only if every rotation is right, with
    the group's log as upstream's mcq_circular_eval writes it."""
    df = df.copy()
    try:
        df["index"] = df["index"].astype(int)
        if "g_index" not in df:
            # rotated copies of question i have index i + k * 1e6
            df["g_index"] = (df["index"] % int(1e6)).astype(int)
        df["g_index"] = df["g_index"].astype(int)
    except (ValueError, TypeError) as exc:
        raise InputError(f"circular evaluation needs integer 'index' and 'g_index' values ({exc}); "
                         "the prediction file is not from a circular (MMBench-style) TSV.") from exc
    outcome = {g: circular_group(group) for g, group in df.sort_values("index", kind="stable").groupby("g_index")}
    main = df[df["index"] == df["g_index"]].copy()
    main["hit"] = [outcome[g][0] for g in main["g_index"]]
    main["log"] = [outcome[g][1] for g in main["g_index"]]
    return main


def circular_group(group: pd.DataFrame) -> tuple[int, str]:
    """(hit, log) of one question's rotations (in index order), as upstream's
    prefetch_circular_group and eval_circular_group decide and word them. A rotation the rules
    matched is "pre-fetched"; the judge's option stands in for the others."""
    rows = list(group[["answer", "prediction", "extracted", "match_log", "method"]].itertuples(index=False))
    for i, r in enumerate(rows):
        if r.method == "rule" and str(r.extracted) != str(r.answer):
            return 0, (f"Failed in Prefetching Rolling {i}: Answer is {r.answer}, Prediction is {r.prediction}, "
                       f"Pre-fetched is {r.extracted}. ")
    if all(r.method == "rule" for r in rows):
        return 1, "Succeed During Pre-fetching"
    if any(r.method != "rule" and r.method != "judge" for r in rows):
        return 0, NO_JUDGE_LOG  # exact matching: upstream does not look further
    log = ""
    for i, r in enumerate(rows):
        if r.method == "rule":
            log += f"Rolling {i} Matched.\n"
        elif str(r.extracted) != str(r.answer):
            return 0, log + (f"Failed in Rolling {i}: Answer is {r.answer}; Prediction is {r.prediction}; "
                             f"Pre-fetched is {r.extracted}; Match Log is {r.match_log}.\n")
        else:
            log += f"Rolling {i}: Answer is {r.answer}, Prediction is {r.prediction}, Pre-fetched is {r.extracted}.\n"
    return 1, log


def outcomes(tables: dict, dataset_name: str, units=None, unit_name: str | None = None):
    """Per-row outcomes (stats/outcomes.py): one line per question, or per circular group (its
    unit of resampling: a group is right only if every rotation is). `units` (one per result row, with
    its `unit_name`): another unit, e.g. the video a question is about."""
    from .rows import accuracy, group_columns

    df = tables["result"]
    circular = is_circular(dataset_name)
    if units is None:
        units = df["g_index"] if circular and "g_index" in df else df["index"]
        unit_name = "circular group" if circular else "question"
    return accuracy(df, units, df["hit"], 100.0, unit_name, group_columns(df))
