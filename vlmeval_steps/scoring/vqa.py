"""Open-answer VQA metrics as VLMEvalKit computes them (vlmeval/dataset/utils/vqa_eval.py).

The metric follows the dataset name, as upstream's: TextVQA -> VQA accuracy over the 10
human answers; ChartQA -> relaxed accuracy (5% tolerance on numbers); DocVQA and InfoVQA ->
ANLS with a 0.5 threshold; OCRVQA and GQA -> exact match; anything else -> VQA accuracy.
Table values are percentages (upstream's `_acc.csv`), not rounded.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..cells import parse_list
from .common import attach_extracted, require_answers
from .text import process_answer

ANLS_THRESHOLD = 0.5
RELAXED_TOLERANCE = 0.05


def method_for(dataset_name: str) -> str:
    if "TextVQA" in dataset_name:
        return "vqa_score"
    if "ChartQA" in dataset_name:
        return "relaxed_accuracy"
    if "OCRVQA" in dataset_name or "GQA" in dataset_name:
        return "accuracy"
    if "DocVQA" in dataset_name or "InfoVQA" in dataset_name:
        return "anls"
    return "vqa_score"


def parse_answers(answer) -> list:
    """A stringified Python list is the list of accepted answers; anything else is one answer."""
    text = str(answer)
    # upstream's istype(x, list) then eval: any literal, not only '[...]'; the items stay as parsed
    answers = parse_list(text, brackets=False)
    return [text] if answers is None else answers


def vqa_match(answers: list, prediction: str) -> list:
    """For each human answer i: min(1, (other answers equal to the prediction) / 3); as upstream's
    `min(1, x)`, a full match is the int 1 (it shows as `1`, not `1.0`, in the results file)."""
    gts = [process_answer(str(a)) for a in answers]
    pred = process_answer(prediction)
    return [min(1, float(sum(1 for j, g in enumerate(gts) if j != i and g == pred)) / 3) for i in range(len(gts))]


def _to_float(text: str):
    try:
        if text.endswith("%"):
            return float(text.rstrip("%")) / 100.0
        return float(text)
    except ValueError:
        return None


def relaxed_correctness(target, prediction: str) -> bool:
    """Numbers within 5% of a non-zero target (a trailing % divides by 100); else exact, any case."""
    target, prediction = str(target), str(prediction)
    p, t = _to_float(prediction), _to_float(target)
    if p is not None and t:
        return abs(p - t) / abs(t) <= RELAXED_TOLERANCE
    return prediction.lower() == target.lower()


def levenshtein(a: str, b: str) -> int:
    if len(a) > len(b):
        a, b = b, a
    previous = list(range(len(a) + 1))
    for i, cb in enumerate(b):
        current = [i + 1]
        for j, ca in enumerate(a):
            current.append(previous[j] if ca == cb else 1 + min(previous[j], previous[j + 1], current[-1]))
        previous = current
    return previous[-1]


def anls_distance(groundtruth: str, prediction: str) -> float:
    """Normalised Levenshtein distance. The distance is between the lower-cased,
    whitespace-collapsed strings, but, as upstream, the length is of the strings as given
    (their upper-case forms)."""
    gt = " ".join(groundtruth.strip().lower().split())
    pred = " ".join(prediction.strip().lower().split())
    length = max(len(groundtruth.upper()), len(prediction.upper()))
    return 0.0 if length == 0 else levenshtein(gt, pred) / length


def process_line(method: str, answers: list, prediction: str) -> dict:
    """Upstream's process_line: {'gt', 'pred', 'match'} with upstream's normalisation and types
    (vqa_score: normalised strings, 1 or a float; anls: as given, distances; relaxed_accuracy:
    prediction stripped, bools; accuracy: prediction stripped, 1.0 or 0.0)."""
    if method == "vqa_score":
        return dict(gt=[process_answer(str(a)) for a in answers], pred=process_answer(prediction),
                    match=vqa_match(answers, prediction))
    if method == "anls":
        return dict(gt=answers, pred=prediction, match=[anls_distance(str(a), prediction) for a in answers])
    if method == "relaxed_accuracy":
        pred = prediction.strip()
        return dict(gt=answers, pred=pred, match=[relaxed_correctness(a, pred) for a in answers])
    if method == "accuracy":
        pred = prediction.strip()
        return dict(gt=answers, pred=pred,
                    match=[1.0 if str(a).strip().lower() == pred.lower() else 0.0 for a in answers])
    raise ValueError(f"unknown VQA method {method!r}")


def row_match(method: str, answers: list, prediction: str) -> list:
    return process_line(method, answers, prediction)["match"]


def row_score(dataset_name: str, match: list) -> float:
    """Upstream's hit_calculate, which looks at the dataset name again (GQA: exact match, mean)."""
    if "TextVQA" in dataset_name:
        return float(np.mean(match))
    if "DocVQA" in dataset_name or "InfoVQA" in dataset_name:
        similarity = 1 - float(np.min(match))
        return 0.0 if similarity < ANLS_THRESHOLD else similarity
    if "ChartQA" in dataset_name or "OCRVQA" in dataset_name:
        return float(np.max(match))
    return float(np.mean(match))


def acc_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row: each split then Overall, or Overall then each category; in %."""
    table = {}
    if "split" in df:
        for sp in sorted({s for s in df["split"] if not pd.isna(s)}, key=str):
            table[sp] = float(np.mean(df.loc[df["split"] == sp, "hit"])) * 100
        table["Overall"] = float(np.mean(df["hit"])) * 100
    else:
        table["Overall"] = float(np.mean(df["hit"])) * 100
        if "category" in df:
            for c in sorted({c for c in df["category"] if not pd.isna(c)}, key=str):
                table[c] = float(np.mean(df.loc[df["category"] == c, "hit"])) * 100
    return pd.DataFrame({k: [v] for k, v in table.items()})


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str) -> dict:
    """{'acc': the one-row table, 'results.xlsx': upstream's per-row `_results.xlsx`}.

    The per-row file holds upstream's columns with upstream's values: `answer` and `prediction`
    as text (a missing answer reads 'nan', as upstream scores it), then `eval_gt`, `eval_pred`
    and `eval_match` as upstream's process_line leaves them (lists written as their Python
    text), `eval_score` = the mean of eval_match (for DocVQA/InfoVQA the mean normalised
    Levenshtein distance, not the ANLS). Our one extra column, `hit`, is the row's share of the
    metric (upstream's hit_calculate), which the table averages."""
    require_answers(data, dataset_name, partial_ok=True)
    df = attach_extracted(data, extracted, dataset_name, columns=("extracted",))
    method = method_for(dataset_name)
    df["answer"] = [str(a) for a in df["answer"]]
    df["prediction"] = [str(p) for p in df["prediction"]]
    rows = [process_line(method, parse_answers(a), str(p)) for a, p in zip(df["answer"], df["extracted"])]
    df = df.drop(columns=["extracted"])
    df["eval_gt"] = [str(r["gt"]) for r in rows]
    df["eval_pred"] = [str(r["pred"]) for r in rows]
    df["eval_match"] = [str(r["match"]) for r in rows]
    df["eval_score"] = [float(np.mean(r["match"])) for r in rows]
    df["hit"] = [row_score(dataset_name, r["match"]) for r in rows]
    return {"acc": acc_table(df), "results.xlsx": df}


def outcomes(tables: dict, dataset_name: str):
    """Per-row outcomes (stats/outcomes.py): the mean of each question's score, in %."""
    from .rows import accuracy, group_columns

    df = tables["results.xlsx"]
    scores = [float(s) for s in df["hit"]]  # the row's share of the metric (eval_score is upstream's)
    groups = group_columns(df, ("split",)) or group_columns(df, ("category",))
    return accuracy(df, df["index"], scores, 100.0, "question", groups, binary=all(s in (0.0, 1.0) for s in scores))
