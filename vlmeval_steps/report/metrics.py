"""Which number of a benchmark's `_acc.csv` is its headline score, as upstream and its leaderboard report it.

Adding a benchmark is one line in BY_NAME (by dataset name) or BY_TYPE (by dataset type). A table
that does not have the expected columns falls back to its `Overall` column, and the cell says so.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import pandas as pd


@dataclass(frozen=True)
class MainMetric:
    label: str                       # shown in the summary's legend
    columns: tuple[str, ...]         # the table's columns the score is made of
    row: str | None = None           # the row whose first column holds this value; None: the first row
    combine: str = "sum"             # how several columns make one score: 'sum' or 'mean'
    scale: float = 1.0               # MCQ tables hold fractions, the leaderboard shows percent
    unit: str = "%"
    exclude: tuple[str, ...] = ()    # columns that are neither the score nor a category (left out of breakdowns)
    category_unit: str | None = None  # the unit of one category's score, when not the metric's

    @property
    def long(self) -> bool:
        """Categories are rows (POPE, HallusionBench, MMVet, MathVista), not columns (MCQ, MME, OCRBench)."""
        return self.row is not None


OVERALL = MainMetric("Overall", ("Overall",))

#: first match wins; patterns are matched against the whole dataset name
BY_NAME: list[tuple[str, MainMetric]] = [
    (r"MME", MainMetric("perception + reasoning", ("perception", "reasoning"), unit="points (max 2800)",
                               category_unit="points (max 200)")),
    (r"POPE", MainMetric("Overall F1", ("Overall",), row="Overall", exclude=("acc", "precision", "recall"))),
    (r"HallusionBench", MainMetric("mean of aAcc, fAcc, qAcc", ("aAcc", "fAcc", "qAcc"), row="Overall",
                                   combine="mean")),
    (r"OCRBench", MainMetric("Final Score", ("Final Score",), unit="points (max 1000)",
                             exclude=("Final Score Norm",), category_unit="points")),
    (r"MathVista.*", MainMetric("Overall acc", ("acc",), row="Overall",
                                exclude=("tot", "prefetch", "hit", "prefetch_rate"))),
    (r"MMVet.*", MainMetric("Overall acc", ("acc",), row="Overall", exclude=("tot",))),
    (r"MMMU_DEV_VAL", MainMetric("Overall (validation)", ("Overall",), row="validation", scale=100.0)),
    # issue 11; upstream's primary-metric picker finds no 'overall'/'acc'/'score' key in these tables
    (r"MTVQA_TEST", MainMetric("Average", ("Average",))),
    (r"COCO_VAL", MainMetric("CIDEr", ("CIDEr",), exclude=("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "ROUGE_L"))),
    (r"VCR_.*", MainMetric("Exact_Match", ("Exact_Match",), scale=100.0, exclude=("Jaccard",))),
    (r"MathVision.*", MainMetric("Overall acc", ("acc",), row="Overall",
                                 exclude=("tot", "prefetch", "hit", "prefetch_rate"))),
    (r"MMDU", MainMetric("Overall Score (all turns)", ("Overall Score",), row="all",
                         exclude=("Creativity", "Richness", "Visual Perception", "Logical Coherence",
                                  "Answer Accuracy", "Image Relationship Understanding"))),
    (r"LLaVABench", MainMetric("Relative Score (main)", ("Relative Score (main)",), row="overall",
                               exclude=("VLM Score", "GPT4 Score"))),
    # issue 12: video; a setting suffix (_8frame, _1fps, _subs) may follow the name
    (r"MVBench(_MP4)?(_.+)?", MainMetric("overall acc", ("acc",), row="overall", exclude=("correct", "total"))),
    (r"Video-MME(_.+)?", MainMetric("overall acc", ("acc",), row="overall", scale=100.0)),
    (r"MMBench[-_]Video(_.+)?", MainMetric("Overall mean score (all)", ("all",), row="Overall", unit="points (max 3)",
                                        exclude=("valid",))),
]
BY_TYPE: dict[str, MainMetric] = {
    "MCQ": MainMetric("Overall", ("Overall",), scale=100.0),
    "MCQ_MMMU_Pro": MainMetric("Overall", ("Overall",), scale=100.0),
    "Y/N": OVERALL,
    "VQA": OVERALL,
}
KEY_COLUMNS = ("split", "Task&Skill", "Category", "category", "Unnamed: 0")


def metric_for(dataset: str, dataset_type: str | None = None) -> MainMetric:
    for pattern, metric in BY_NAME:
        if re.fullmatch(pattern, dataset):
            return metric
    return BY_TYPE.get(dataset_type or "", OVERALL)


@dataclass
class Score:
    value: float | None
    metric: MainMetric
    note: str = ""                                          # why the value is missing or how it was found
    categories: dict[str, float] | None = None


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def key_column(table: pd.DataFrame) -> str | None:
    """The column naming each row (split, Task&Skill, ...), if the table has one."""
    for col in KEY_COLUMNS:
        if col in table.columns:
            return col
    first = table.columns[0] if len(table.columns) else None
    if first is not None and table[first].map(_number).isna().all():
        return first
    return None


def _scale(metric: MainMetric, values: list[float]) -> float:
    # a fraction table scaled to percent; a table already in percent (any value > 1) is left as is
    return metric.scale if metric.scale != 1 and all(abs(v) <= 1.0 for v in values) else 1.0


def _combine(metric: MainMetric, values: list[float]) -> float:
    return sum(values) / len(values) if metric.combine == "mean" else sum(values)


def _row(table: pd.DataFrame, key: str | None, wanted: str | None) -> tuple[pd.Series | None, str]:
    if wanted is not None and key is not None:
        hits = table[table[key].astype(str) == wanted]
        if len(hits):
            return hits.iloc[0], ""
    if len(table) == 1 or (wanted is None and len(table)):
        note = f"row {wanted!r} not found, used the first row" if wanted is not None else ""
        return table.iloc[0], note
    return None, f"no row {wanted!r} in the table"


def _value(table: pd.DataFrame, key: str | None, metric: MainMetric) -> tuple[float | None, float, str]:
    """(score, scale used, note); score is None when the table lacks the metric's row or columns."""
    row, note = _row(table, key, metric.row)
    if row is None:
        return None, 1.0, note
    missing = [c for c in metric.columns if c not in table.columns or _number(row[c]) is None]
    if missing:
        return None, 1.0, f"no value for {missing} in the table"
    values = [_number(row[c]) for c in metric.columns]
    scale = _scale(metric, values)
    return _combine(metric, values) * scale, scale, note


def main_score(table: pd.DataFrame, dataset: str, dataset_type: str | None = None) -> Score:
    """The headline score of one `_acc.csv`, with the per-category breakdown next to it."""
    metric = metric_for(dataset, dataset_type)
    if table.empty:
        return Score(None, metric, "the table is empty")
    key = key_column(table)
    value, scale, note = _value(table, key, metric)
    if value is None and metric.columns != ("Overall",) and "Overall" in table.columns:
        # a table of another shape than expected: its Overall is the best guess, and the cell says so
        fallback = replace(metric, label="Overall", columns=("Overall",), combine="sum")
        value, scale, fb_note = _value(table, key, fallback)
        if value is not None:
            note = f"{note}; used Overall instead"
            metric = fallback
    if value is None:
        return Score(None, metric, note)
    return Score(value, metric, note, _categories(table, key, metric, scale))


def _categories(table: pd.DataFrame, key: str | None, metric: MainMetric, scale: float) -> dict[str, float]:
    """Per-category scores in the metric's unit: other rows of a long table, other columns of a wide one."""
    out: dict[str, float] = {}
    if metric.long and key is not None:
        for _, r in table.iterrows():
            name = str(r[key])
            if name == metric.row:
                continue
            vals = [_number(r[c]) for c in metric.columns if c in table.columns]
            if vals and all(v is not None for v in vals):
                out[name] = _combine(metric, vals) * scale
        return out
    row, _ = _row(table, key, metric.row)
    if row is None:
        return out
    skip = {key, "split", "Overall", *metric.columns, *metric.exclude}
    for col in table.columns:
        if col not in skip and _number(row[col]) is not None:
            out[str(col)] = _number(row[col]) * scale
    return out
