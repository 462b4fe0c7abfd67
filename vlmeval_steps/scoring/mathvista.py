"""MathVista accuracy per task and skill (upstream's MathVista_acc).

The judge stage leaves, per row, the extracted `res` and its parsed form (a letter, int or
float, or null). A row is a hit when that equals the ground truth in the same form:
`answer_option` for multi-choice, int(answer) or float(answer) otherwise. Text and list
answers never score, as upstream. Percentages, one row per key in order of first appearance:
Overall, then each row's skills and task.
"""
from __future__ import annotations

from collections import defaultdict

import pandas as pd

from ..cells import parse_list
from .common import attach_extracted, require_answers

PREFETCH_LOG = "Prefetch succeed"


def ground_truth(line):
    """The answer in the form the judge stage parses `res` into; None when it does not parse (never a hit)."""
    try:
        if line["question_type"] == "multi_choice":
            return line["answer_option"]
        if line["answer_type"] == "integer":
            return int(line["answer"])
        if line["answer_type"] == "float":
            return float(line["answer"])
    except (ValueError, TypeError, OverflowError):
        return None
    return None


def skills_of(value) -> list:
    skills = parse_list(value, brackets=False, tuples=True)
    return [value] if skills is None else skills  # the cell itself (not its text) where it is no list


def is_hit(line) -> bool:
    parsed = line["extracted"].get("parsed") if isinstance(line["extracted"], dict) else None
    gt = ground_truth(line)
    return parsed is not None and gt is not None and parsed == gt


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str = "MathVista_MINI") -> dict:
    """{'acc': the Task&Skill table, '{judge}_score': the same, '{judge}.xlsx': rows with res and log}."""
    require_answers(data, dataset_name, partial_ok=True)
    df = attach_extracted(data, extracted, dataset_name)
    tot, fetch, hit = defaultdict(int), defaultdict(int), defaultdict(int)
    hits = []
    for line in df.to_dict("records"):
        keys = ["Overall", *skills_of(line["skills"]), line["task"]]
        ok = is_hit(line)
        hits.append(ok)
        for k in keys:
            tot[k] += 1
            fetch[k] += line["log"] == PREFETCH_LOG
            hit[k] += ok
    table = pd.DataFrame({
        "Task&Skill": list(tot),
        "tot": [tot[k] for k in tot],
        "prefetch": [fetch[k] for k in tot],
        "hit": [hit[k] for k in tot],
        "prefetch_rate": [fetch[k] / tot[k] * 100 for k in tot],
        "acc": [hit[k] / tot[k] * 100 for k in tot],
    })
    rows = df.drop(columns=["extracted"])
    rows.insert(len(rows.columns) - 1, "res", [e.get("res") if isinstance(e, dict) else None for e in df["extracted"]])
    rows["hit"] = [int(h) for h in hits]
    return {"acc": table, "{judge}_score": table, "{judge}.xlsx": rows}


def outcomes(tables: dict, dataset_name: str):
    """Per-row outcomes (stats/outcomes.py): hits in %, by task and by skill (a row has several)."""
    from .rows import accuracy

    df = tables["{judge}.xlsx"]
    groups = {"task": df["task"], "skills": ["|".join(map(str, skills_of(s))) for s in df["skills"]]}
    out = accuracy(df, df["index"], df["hit"], 100.0, "question", groups, extracted="res")
    from dataclasses import replace

    return type(out)(out.rows, replace(out.spec, multi=("skills",)))
