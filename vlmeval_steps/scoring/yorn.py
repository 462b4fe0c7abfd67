"""Yes/No benchmarks: per-row scores and upstream's rating tables (MME, POPE, HallusionBench).

All values are percentages, as upstream's `_score.csv`. Rows of the category breakdowns that
upstream lists in Python set order are sorted here (a deliberate deviation; see docs/parity.md).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from ..errors import InputError
from .common import attach_extracted, require_answers

MME_PERCEPTION = ("OCR", "artwork", "celebrity", "color", "count", "existence", "landmark", "position", "posters",
                  "scene")
MME_REASONING = ("code_reasoning", "commonsense_reasoning", "numerical_calculation", "text_translation")


def rows_with_scores(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str) -> pd.DataFrame:
    """The prediction rows with `extracted` and `score` (exact, case-sensitive match with `answer`)."""
    require_answers(data, dataset_name, partial_ok=True)
    df = attach_extracted(data, extracted, dataset_name, columns=("extracted",))
    df["score"] = [a == e for a, e in zip(df["answer"], df["extracted"])]
    return df


def rating(df: pd.DataFrame, dataset_name: str) -> pd.DataFrame:
    """The table upstream picks by dataset name."""
    if "MME" in dataset_name:
        return mme_rating(df)
    if "Hallusion" in dataset_name:
        return hallusion_rating(df)
    if "POPE" in dataset_name:
        return pope_rating(df)
    return default_rating(df)


def mme_rating(df: pd.DataFrame) -> pd.DataFrame:
    """acc + acc+ per category (max 200); perception and reasoning are sums of their categories.

    acc+ pairs the two questions asked about each image (rows sharing `image_path`): an image
    counts only when both are right. Categories keep their order of first appearance.
    """
    if "image_path" not in df:
        raise InputError("MME: the predictions have no 'image_path' column, which pairs the two questions of each "
                         "image for acc+. Score the prediction file made from the MME TSV, which has it.")
    stats: dict[str, dict[str, list]] = defaultdict(dict)
    for category, image, score in zip(df["category"], df["image_path"], df["score"]):
        stats[category].setdefault(str(image), []).append(bool(score))

    def acc(per_image: dict[str, list]) -> float:
        return float(np.mean([s for scores in per_image.values() for s in scores])) * 100

    def acc_plus(per_image: dict[str, list]) -> float:
        # upstream multiplies the first two answers of an image; an image left with a single
        # question (only in a limited run) counts that one answer instead of failing
        return float(np.mean([scores[0] * scores[1] if len(scores) > 1 else scores[0]
                              for scores in per_image.values()])) * 100

    scores = {cat: acc(per_image) + acc_plus(per_image) for cat, per_image in stats.items()}
    # upstream needs every category present; a limited run sums the ones it has
    table = {"perception": sum(scores[c] for c in MME_PERCEPTION if c in scores),
             "reasoning": sum(scores[c] for c in MME_REASONING if c in scores)}
    table.update(scores)
    return pd.DataFrame({k: [v] for k, v in table.items()})


def _f1(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float, float]:
    tp = int(np.sum(y_true & y_pred))
    fp = int(np.sum(~y_true & y_pred))
    fn = int(np.sum(y_true & ~y_pred))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f1, precision, recall


def pope_rating(df: pd.DataFrame) -> pd.DataFrame:
    """F1 ('Overall'), accuracy, precision and recall with 'Yes' as the positive class.

    A row listed in several comma-separated categories counts once in each, Overall included
    (upstream explodes the rows before computing anything).
    """
    df = df.copy()
    categories = df["category"] if "category" in df else [np.nan] * len(df)
    df["category"] = [c.split(",") if isinstance(c, str) else c for c in categories]
    df = df.explode("category", ignore_index=True)
    res = dict(split=[], Overall=[], acc=[], precision=[], recall=[])

    def add(name, sub):
        f1, precision, recall = _f1(np.array([a == "Yes" for a in sub["answer"]], dtype=bool),
                                    np.array([e == "Yes" for e in sub["extracted"]], dtype=bool))
        res["split"].append(name)
        res["Overall"].append(f1 * 100)
        res["acc"].append(float(np.mean(sub["score"])) * 100)
        res["precision"].append(precision * 100)
        res["recall"].append(recall * 100)

    add("Overall", df)
    for cat in sorted({c for c in df["category"] if not pd.isna(c)}):
        add(cat, df[df["category"] == cat])
    return pd.DataFrame(res)


def hallusion_rating(df: pd.DataFrame) -> pd.DataFrame:
    """aAcc (per question), fAcc (per figure) and qAcc (per question across figures), in %.

    The ids come from the string index: fields 3, 4 and 5 of its '_'-separated parts are the
    set, figure and question ids. A figure or question group counts only if all its answers are
    right.
    """
    df = df.copy()
    parts = []
    for idx in df["index"]:
        fields = str(idx).split("_")
        if len(fields) < 6:
            raise InputError(f"HallusionBench: index {idx!r} does not have the form "
                             "'<..>_<..>_<..>_<set>_<figure>_<question>' that fAcc and qAcc are computed from.")
        parts.append(fields[3:6])
    df["set_id"], df["figure_id"], df["question_id"] = zip(*parts) if parts else ((), (), ())
    l2 = df["l2-category"] if "l2-category" in df else pd.Series([np.nan] * len(df), index=df.index)

    def group_acc(sub: pd.DataFrame, key: str) -> float:
        groups: dict[str, list] = defaultdict(list)
        for c, s, k, score in zip(l2.loc[sub.index], sub["set_id"], sub[key], sub["score"]):
            groups[f"{c}_{s}_{k}"].append(bool(score))
        return float(np.mean([all(v) for v in groups.values()])) * 100

    res = dict(split=[], aAcc=[], fAcc=[], qAcc=[])

    def add(name, sub):
        res["split"].append(name)
        res["aAcc"].append(float(np.mean(sub["score"])) * 100)
        res["fAcc"].append(group_acc(sub, "figure_id"))
        res["qAcc"].append(group_acc(sub, "question_id"))

    add("Overall", df)
    for column in ("category", "l2-category"):
        if column in df:
            for value in sorted({v for v in df[column] if not pd.isna(v)}):
                add(value, df[df[column] == value])
    return pd.DataFrame(res)


def default_rating(df: pd.DataFrame) -> pd.DataFrame:
    """Overall accuracy, then each category and l2-category (sorted), in %."""
    table = {"Overall": float(np.mean(df["score"])) * 100}
    for column in ("category", "l2-category"):
        if column in df:
            for value in sorted({v for v in df[column] if not pd.isna(v)}):
                table[value] = float(np.mean(df.loc[df[column] == value, "score"])) * 100
    return pd.DataFrame({k: [v] for k, v in table.items()})


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str) -> dict:
    """{'acc': the rating, 'score': the same table under upstream's name, 'auxmatch.xlsx': rows}."""
    df = rows_with_scores(data, extracted, dataset_name)
    table = rating(df, dataset_name)
    return {"acc": table, "score": table, "auxmatch.xlsx": df}


def outcomes(tables: dict, dataset_name: str):
    """Per-row outcomes (stats/outcomes.py) on the unit each metric depends on: the image for MME
    (acc+ pairs its questions; images are drawn within their category, whose scores add up), the
    question for POPE (one line per category it is listed in), the question set for HallusionBench
    (its figure and question groups both nest in a set)."""
    from ..stats.outcomes import Outcomes
    from ..stats.spec import RatioSpec
    from .rows import accuracy, frame, group_columns

    df = tables["auxmatch.xlsx"].reset_index(drop=True)
    score = [int(bool(s)) for s in df["score"]]
    if "MME" in dataset_name:
        seen: dict[tuple, list[int]] = {}
        for i, (category, image) in enumerate(zip(df["category"], df["image_path"])):
            seen.setdefault((category, str(image)), []).append(i)
        plus, first = [0] * len(df), [0] * len(df)
        for lines in seen.values():
            s = [score[i] for i in lines]
            plus[lines[0]] = s[0] * s[1] if len(s) > 1 else s[0]  # as mme_rating's acc+
            first[lines[0]] = 1
        unit = [f"{c}/{p}" for c, p in zip(df["category"], df["image_path"])]
        rows = frame(df, unit, {"score": score, "one": [1] * len(df), "plus": plus, "image": first},
                     group_columns(df, ("category",)), correct=score)
        spec = RatioSpec(terms=(("score", "one"), ("plus", "image")), strata="category", across="sum", scale=100.0,
                         unit_name="image", groups=("category",))
        return Outcomes(rows, spec)
    if "Hallusion" in dataset_name:
        fields = [str(i).split("_") for i in df["index"]]
        l2 = df["l2-category"] if "l2-category" in df else [np.nan] * len(df)
        sets = [f"{c}_{f[3]}" for c, f in zip(l2, fields)]
        values = {"score": score, "one": [1] * len(df)}
        for name, part in (("figure", 4), ("question", 5)):
            groups: dict[str, list] = defaultdict(list)
            for i, (s, f) in enumerate(zip(sets, fields)):
                groups[f"{s}_{f[part]}"].append(i)
            ok, lead = [0] * len(df), [0] * len(df)
            for lines in groups.values():
                ok[lines[0]] = int(all(score[i] for i in lines))
                lead[lines[0]] = 1
            values[f"{name}_ok"], values[f"{name}s"] = ok, lead
        rows = frame(df, sets, values, group_columns(df, ("l2-category", "category")), correct=score)
        spec = RatioSpec(terms=(("score", "one"), ("figure_ok", "figures"), ("question_ok", "questions")),
                         within="mean", scale=100.0, unit_name="question set", groups=tuple(group_columns(
                             df, ("l2-category", "category"))))
        return Outcomes(rows, spec)
    if "POPE" in dataset_name:
        ex = df.copy()
        ex["category"] = [c.split(",") if isinstance(c, str) else c for c in
                          (ex["category"] if "category" in ex else [np.nan] * len(ex))]
        ex = ex.explode("category", ignore_index=True)
        truth = np.array([a == "Yes" for a in ex["answer"]])
        said = np.array([e == "Yes" for e in ex["extracted"]])
        tp, fp, fn = truth & said, ~truth & said, truth & ~said
        rows = frame(ex, ex["index"], {"f1_num": 2 * tp.astype(int), "f1_den": (2 * tp + fp + fn).astype(int)},
                     {"category": ex["category"]}, correct=[int(bool(s)) for s in ex["score"]])
        spec = RatioSpec(terms=(("f1_num", "f1_den"),), scale=100.0, unit_name="question", groups=("category",))
        return Outcomes(rows, spec)
    return accuracy(df, df["index"], score, 100.0, "question", group_columns(df, ("l2-category", "category")))
