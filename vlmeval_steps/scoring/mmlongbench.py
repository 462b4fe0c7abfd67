"""MMLongBench-Doc scoring (upstream's MMLongBench_acc and eval_score, vlmeval/dataset/mmlongbenchdoc.py),
and the ANLS that DUDE and SlideVQA share with it.

Each row's judge-extracted answer (`pred`) is compared with `answer` by `answer_format`: Int (int
equality), Float (within 1% or equal at the shorter precision, also as a percentage), Str (exact for
URLs, file names, 'page...', phone numbers, times, dates and e-mail addresses; else ANLS), otherwise
List (same length, sorted, cleaned; exact when the first item is a number or exact-match text, else
the minimum ANLS). An error while comparing scores 0, as upstream.

Upstream reads the extracted answers back from an xlsx file, so an empty answer (and 'None', 'NA',
...) is NaN when scored: `read_back` reproduces that. The table: category (overall_f1, overall_acc,
text, layout, table, chart, image, single-page, multi-page, unanswerable), num, avg_score (a fraction).
Upstream's main file is `{dataset}_{judge}_score.csv`.
"""
from __future__ import annotations

import ast
import math
import re

import pandas as pd

from ..errors import InputError
from .common import attach_extracted, require_answers
from .vqa import levenshtein

# what pandas reads as NaN from a cell (its default na_values): upstream's reloaded `pred` is NaN then
NA_STRINGS = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                        "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})
CATEGORIES = ("overall_f1", "overall_acc", "text", "layout", "table", "chart", "image", "single-page",
              "multi-page", "unanswerable")
SOURCES = {"text": "Pure-text (Plain-text)", "layout": "Generalized-text (Layout)", "table": "Table",
           "chart": "Chart", "image": "Figure"}


def read_back(value):
    """The value as upstream's reloaded intermediate file holds it: NaN for pandas' NA strings."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return float("nan")
    return float("nan") if isinstance(value, str) and value in NA_STRINGS else value


def anls_compute(groundtruth: str, prediction: str, threshold: float = 0.5) -> float:
    """Upstream's mmlongbenchdoc anls_compute: no normalisation; 0 at or below the threshold."""
    dist = levenshtein(groundtruth, prediction)
    length = max(len(groundtruth.upper()), len(prediction.upper()))
    value = 0.0 if length == 0 else float(dist) / float(length)
    anls = 1.0 - value
    return 0.0 if anls <= threshold else anls


def _precision(x) -> int:
    return len(str(x).split(".")[-1]) if "." in str(x) else 3


def is_float_equal(reference, prediction, include_percentage: bool = False, is_close: bool = False) -> bool:
    reference = float(str(reference).strip().rstrip("%").strip())
    try:
        prediction = float(str(prediction).strip().rstrip("%").strip())
    except ValueError:
        return False
    candidates = [reference / 100, reference, reference * 100] if include_percentage else [reference]
    for item in candidates:
        try:
            if is_close and math.isclose(item, prediction, rel_tol=0.01):
                return True
            precision = max(min(_precision(prediction), _precision(item)), 2)
            if round(prediction, precision) == round(item, precision):
                return True
        except (ValueError, OverflowError, TypeError):
            continue
    return False


def get_clean_string(s) -> str:
    s = str(s).lower().strip()
    # upstream strips 'mile', 'miles', 'million' without keeping the result (a no-op, copied as such)
    s = re.sub(r"\s*\([^)]*\)", "", s).strip()
    s = re.sub(r"^['\"]|['\"]$", "", s).strip()
    s = s.strip().lstrip("$").strip()
    s = s.strip().rstrip("%").strip()
    return s


def is_exact_match(s: str) -> bool:
    return bool(
        "https://" in s or s.endswith(".py") or s.endswith("ipynb") or s.startswith("page")
        or re.fullmatch(r"\b\d+(-\d+|\s\d+)?\b", s) or "a.m." in s or "p.m." in s
        or re.fullmatch(r"\b\d{4}[-\s]\d{2}[-\s]\d{2}\b", s) or re.fullmatch(r"\b\d{4}[-\s]\d{2}\b", s)
        or re.fullmatch(r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}", s))


def isfloat(num) -> bool:
    try:
        float(num)
        return True
    except ValueError:
        return False


def _as_list(value):
    """Upstream eval()s a '[...]' answer; a literal is what such an answer holds (anything else fails)."""
    if isinstance(value, str) and value.startswith("["):
        # not cells.parse_list: a malformed '[...' must raise here, so that safe_score gives it 0.0 as upstream does
        value = ast.literal_eval(value)
    return value if isinstance(value, list) else [value]


def eval_score(gt, pred, answer_type) -> float:
    if answer_type == "Int":
        try:
            gt, pred = int(gt), int(float(pred))
        except (ValueError, TypeError, OverflowError):
            pred = ""
        score = gt == pred
    elif answer_type == "Float":
        try:
            gt = float(get_clean_string(str(gt)))
            pred = float(get_clean_string(str(pred)))
        except ValueError:
            pred = ""
        score = is_float_equal(gt, pred, include_percentage=True, is_close=True)
    elif answer_type == "Str":
        gt, pred = get_clean_string(gt), get_clean_string(pred)
        score = (gt == pred) if is_exact_match(gt) else anls_compute(gt, pred)
    else:
        gt, pred = _as_list(gt), _as_list(pred)
        if len(gt) != len(pred):
            score = 0.0
        else:
            gt = sorted(get_clean_string(a) for a in gt)
            pred = sorted(get_clean_string(a) for a in pred)
            if isfloat(gt[0]) or is_exact_match(gt[0]):
                score = "-".join(gt) == "-".join(pred)
            else:
                score = min(anls_compute(g, p) for g, p in zip(gt, pred))
    return float(score)


def safe_score(gt, pred, answer_type) -> float:
    try:
        return eval_score(gt, pred, answer_type)
    except Exception:  # noqa: BLE001 - upstream: any error while comparing scores 0.0
        return 0.0


def _literal(value, column: str, index, dataset_name: str):
    try:
        return ast.literal_eval(str(value))
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        raise InputError(f"{dataset_name}: row index={index}: {column!r} must be a Python list (e.g. \"['Chart']\" "
                         f"or '[3, 5]'), found {str(value)[:80]!r}.") from None


def get_f1(answers: list, preds: list, scores: list) -> float:
    """Upstream's get_f1 over 'Not answerable': recall over answerable rows, precision over rows the judge
    did not read as 'Not answerable'. Upstream divides by zero when either set (or both means) is empty:
    that scores 0 here."""
    gt_pos = [s for a, s in zip(answers, scores) if a != "Not answerable"]
    pred_pos = [s for p, s in zip(preds, scores) if p != "Not answerable"]
    if not gt_pos or not pred_pos:
        return 0.0
    recall, precision = sum(gt_pos) / len(gt_pos), sum(pred_pos) / len(pred_pos)
    return 0.0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str = "MMLongBench_DOC") -> dict:
    """{'acc' and '{judge}_score': the category table; '{judge}.xlsx': the rows with res, pred, score}."""
    require_answers(data, dataset_name, partial_ok=True)
    df = attach_extracted(data, extracted, dataset_name)
    ext = [e if isinstance(e, dict) else {} for e in df["extracted"]]
    preds = [read_back(e.get("pred", "")) for e in ext]
    answers = [read_back(a) for a in df["answer"]]
    scores = [safe_score(a, p, f) for a, p, f in zip(answers, preds, df["answer_format"].map(read_back))]
    sources = [_literal(v, "evidence_sources", i, dataset_name) for v, i in zip(df["evidence_sources"], df["index"])]
    pages = [_literal(v, "evidence_pages", i, dataset_name) for v, i in zip(df["evidence_pages"], df["index"])]

    def mean_of(mask):
        picked = [s for s, m in zip(scores, mask) if m]
        return (sum(picked) / len(picked) if picked else 0.0), len(picked)

    n = len(df)
    groups = {k: mean_of([v in src for src in sources]) for k, v in SOURCES.items()}
    groups["single-page"] = mean_of([len(p) == 1 for p in pages])
    groups["multi-page"] = mean_of([len(p) > 1 for p in pages])
    groups["unanswerable"] = mean_of([len(p) == 0 for p in pages])
    values = {"overall_f1": (get_f1(answers, preds, scores), n), "overall_acc": (sum(scores) / n, n), **groups}
    table = pd.DataFrame({"category": list(CATEGORIES), "num": [values[c][1] for c in CATEGORIES],
                          "avg_score": [values[c][0] for c in CATEGORIES]})
    return {"acc": table, "{judge}_score": table, "{judge}.xlsx": rows_table(df, ext, {"score": scores})}


def rows_table(df: pd.DataFrame, ext: list[dict], columns: dict) -> pd.DataFrame:
    """Upstream's `{dataset}_{judge}.xlsx`: the prediction rows with the judge's res and log, pred, and scores."""
    rows = df.drop(columns=["extracted", "log"])
    rows["res"] = [e.get("res", "") for e in ext]  # upstream's column order: res, log, pred, then the scores
    rows["log"] = df["log"].tolist()
    rows["pred"] = [e.get("pred", "") for e in ext]
    for name, values in columns.items():
        rows[name] = values
    return rows


def outcomes(tables: dict, dataset_name: str):
    """Per-row outcomes (stats/outcomes.py): each question's score in % (overall_acc)."""
    from .dude import row_outcomes

    return row_outcomes(tables, "score")
