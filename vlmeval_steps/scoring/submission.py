"""Answers withheld: the file an official evaluation server takes, and why no score is written.

A registry entry with `withheld` is inference only, as upstream's run.py treats it: the score stage
writes the submission file where upstream writes one (`submission`), then stops with the entry's text,
which says where to send the predictions and which split carries answers. Any family can use it
(MCQ, VQA, ...): the writers read only the prediction file and the judge stage's records.
"""
from __future__ import annotations

import csv
import json
import string
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..fileio import atomic_write_text, replacing
from ..judge.matching import can_infer
from .common import attach_extracted
from .mcq_tables import lower_columns

#: columns each submission writer reads (checked when the prompts are built, before any inference)
COLUMNS = {"mmmu_json": ("id",), "mmt_tsv": ()}


def _options(line) -> dict:
    return {c: line[c] for c in string.ascii_uppercase if c in line and not pd.isna(line[c])}


def mmmu_json(data: pd.DataFrame, extracted, out_stem: Path, judge_name: str) -> Path:
    """Upstream's MMMU_result_transfer: {id: option letter (can_infer on the raw prediction, false when
    none) for multiple-choice rows, the prediction itself for open rows}, as `<name>.json`."""
    res = {}
    for line in data.to_dict("records"):
        if "A" in line and not pd.isna(line["A"]):
            res[str(line["id"])] = can_infer(line["prediction"], _options(line))
        else:
            res[str(line["id"])] = line["prediction"]
    path = out_stem.with_name(out_stem.name + ".json")
    atomic_write_text(path, json.dumps(res, indent=4, ensure_ascii=False))  # upstream's dump: no final newline
    return path


def mmt_tsv(data: pd.DataFrame, extracted, out_stem: Path, judge_name: str) -> Path:
    """Upstream's MMTBench_result_transfer: the prediction rows sorted by index, columns lower-cased
    (option letters kept), with the extracted option `opt` and its `log`, as `<name>_<judge>_submission.tsv`."""
    df = attach_extracted(data, extracted, out_stem.name)
    df = df.rename(columns={"extracted": "opt"})
    df = lower_columns(df.sort_values("index", kind="stable"))
    if "method" in df:
        df = df.drop(columns=["method"])
    path = out_stem.with_name(f"{out_stem.name}_{judge_name}_submission.tsv")
    df = df[[c for c in df.columns if c not in ("opt", "log")] + ["opt", "log"]]
    with replacing(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, encoding="utf-8", quoting=csv.QUOTE_ALL)  # upstream's dump of a .tsv
    return path


WRITERS = {"mmmu_json": mmmu_json, "mmt_tsv": mmt_tsv}


def write_submission(info, data: pd.DataFrame, extracted, out_stem: Path, judge_name: str) -> Path | None:
    """The submission file for `info` (None when upstream writes none), beside the score table."""
    if not info.submission:
        return None
    missing = [c for c in COLUMNS[info.submission] if c not in data.columns]
    if missing:
        raise InputError(f"{info.name}: the predictions lack column(s) {missing}, which the official server's "
                         f"submission file needs; the columns are {list(data.columns)}. Use the benchmark's TSV in "
                         "upstream's layout.")
    return WRITERS[info.submission](data, extracted, out_stem, judge_name)


def withheld_message(info, submission: Path | None) -> str:
    wrote = f" The submission file is {submission}." if submission else ""
    return (f"{info.name}: no score, by design. {info.withheld}{wrote} The predictions are in "
            f"results/<model>/{info.name}.xlsx (and .tsv).")
