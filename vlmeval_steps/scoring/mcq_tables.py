"""MCQ tables of their own: MMT-Bench's report_acc_MMT and GMAI-MMBench's one table per grouping column
(upstream vlmeval/dataset/utils/multiple_choice.py and image_mcq.py GMAIMMBenchDataset at e8e78f05).

Upstream lower-cases every column of the prediction file except the option letters before scoring;
these tables read the lower-cased names too. Splits are listed sorted and NaN values are left out
of the category breakdowns, as in scoring/mcq.py (docs/parity.md, "Deliberate deviations").
"""
from __future__ import annotations

import string

import numpy as np
import pandas as pd

#: MMT-Bench's 32 l2-categories and their column names, in upstream's order
MMT_ABBRS = {
    "visual_recognition": "VR", "localization": "Loc", "ocr": "OCR", "counting": "Count", "hallucination": "HLN",
    "image_retrieval": "IR", "threed": "3D", "visual_captioning": "VC", "visual_grounding": "VG",
    "doc_understanding": "DU", "action_recognition": "AR", "pixel_level_perception": "PLP",
    "image-to-image_translation": "I2IT", "relation_reasoning": "RR", "intelligence_quotient_test": "IQT",
    "emotion": "Emo", "visual_illusion": "VI", "meme_understanding": "MemU", "visual_prompt_understanding": "VPU",
    "anomaly_detection": "AND", "keypoint_detection": "KD", "visual_commonsense_reasoning": "VCR",
    "image_evaluation_judgement": "IEJ", "multiple_image_analysis": "MIA", "cross_image_matching": "CIM",
    "temporal_understanding": "TU", "visual_code": "VP", "medical_understanding": "MedU",
    "autonomous_driving": "AUD", "discipline_knowledge_reasoning": "DKR", "embodied_ai": "EA",
    "gui_navigation": "GN",
}
#: GMAI-MMBench writes `{name}_{column}_acc.csv` for each of these
GMAI_GROUPS = ("clinical vqa task", "department", "perceptual granularity")


def lower_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Upstream's `data[k.lower() if k not in ascii_uppercase else k] = data.pop(k)`."""
    return df.rename(columns={c: c if c in string.ascii_uppercase else str(c).lower() for c in df.columns})


def _mean(hits) -> float:
    return float(np.mean(hits)) if len(hits) else float("nan")


def _values(sub: pd.DataFrame, splits: list[str]) -> list[float]:
    return [_mean(sub.loc[sub["split"] == sp, "hit"]) for sp in splits]


def _sorted_present(series: pd.Series) -> list:
    return sorted(x for x in set(series) if not pd.isna(x))


def report_acc_mmt(df: pd.DataFrame) -> pd.DataFrame:
    """One row per split plus 'ALL'. Columns: split, Overall, the 32 l2-categories (upstream's order; each the
    mean of its sub-tasks' accuracies, not of its questions), then every category (sub-task) sorted.

    Deviation: an l2-category with no question is NaN; upstream raises (columns of unequal length), so a
    subset of MMT-Bench (`--limit`) could not be scored there.
    """
    df, splits = _with_splits(df)
    res: dict[str, list] = {"split": splits + ["ALL"], "Overall": _values(df, splits) + [_mean(df["hit"])]}
    for name in MMT_ABBRS.values():
        res[name] = [float("nan")] * (len(splits) + 1)
    if "category" in df:
        for cat in _sorted_present(df["category"]):
            sub = df[df["category"] == cat]
            res[cat] = _values(sub, splits) + [_mean(sub["hit"])]
    if "l2-category" in df:
        for l2 in _sorted_present(df["l2-category"]):
            tasks = df.loc[df["l2-category"] == l2, "category"].unique() if "category" in df else [None]
            # per split and overall: the unweighted mean over the l2-category's sub-tasks (upstream)
            per_task = []
            for task in tasks:
                sub = df[df["category"] == task] if task is not None else df.iloc[0:0]
                per_task.append(_values(sub, splits) + [_mean(sub["hit"])])
            res[MMT_ABBRS.get(l2, l2)] = [sum(col) / len(per_task) for col in zip(*per_task)]
    return pd.DataFrame(res)


def _with_splits(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Lower-cased columns (as upstream reads the file) and the sorted splits ('none' without a split column)."""
    df = lower_columns(df)
    if "split" not in df:
        df["split"] = "none"
        return df, ["none"]
    df["split"] = df["split"].astype(str)
    return df, sorted(set(df["split"]))


def report_acc_by_group(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """GMAI's report_acc_by_groups: split, Overall, one column per value of `column` (sorted).

    Quirk copied: a NaN value becomes a column named 'None' whose cells are NaN (upstream compares the
    column with the string 'None', which matches no row).
    """
    df, splits = _with_splits(df)
    res: dict[str, list] = {"split": splits, "Overall": _values(df, splits)}
    values = sorted({"None" if isinstance(v, float) and pd.isna(v) else v for v in df[column]}, key=str)
    for value in values:
        res[value] = _values(df[df[column] == value], splits)
    return pd.DataFrame(res)
