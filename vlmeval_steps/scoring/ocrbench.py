"""OCRBench: a question scores 1 when any accepted answer is contained in the prediction.

Handwritten mathematical expressions compare case-sensitively with all spaces and newlines
removed; every other category compares lower-cased, trimmed, newlines as spaces. Scores are
counts (the final score is out of 1000); `Final Score Norm` is that count divided by 10.
"""
from __future__ import annotations

import pandas as pd

from ..cells import parse_list
from ..errors import InputError
from .common import attach_extracted, require_answers

HME = "Handwritten Mathematical Expression Recognition"
RECOGNITION = ("Regular Text Recognition", "Irregular Text Recognition", "Artistic Text Recognition",
               "Handwriting Recognition", "Digit String Recognition", "Non-Semantic Text Recognition")
OTHERS = ("Scene Text-centric VQA", "Doc-oriented VQA", "Key Information Extraction", HME)
CATEGORIES = RECOGNITION + OTHERS


def answers_of(answer, index) -> list[str]:
    value = parse_list(answer, brackets=False)
    if value is None:
        raise InputError(f"OCRBench: row index={index}: 'answer' must be a Python list of accepted answers, "
                         f"found {str(answer)[:80]!r}.")
    return [str(a) for a in value]


def hit(category: str, answers: list[str], prediction: str) -> bool:
    if category == HME:
        squeeze = lambda s: s.strip().replace("\n", " ").replace(" ", "")  # noqa: E731
        return any(squeeze(a) in squeeze(prediction) for a in answers)
    norm = lambda s: s.lower().strip().replace("\n", " ")  # noqa: E731
    return any(norm(a) in norm(prediction) for a in answers)


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str = "OCRBench") -> dict:
    """{'acc': one-row table, 'score.json': the same numbers as upstream's dict, 'results.xlsx': rows}."""
    require_answers(data, dataset_name)
    df = attach_extracted(data, extracted, dataset_name, columns=("extracted",))
    counts = dict.fromkeys(CATEGORIES, 0)
    hits = []
    for index, category, answer, prediction in zip(df["index"], df["category"], df["answer"], df["extracted"]):
        if category not in counts:
            raise InputError(f"{dataset_name}: row index={index}: unknown category {category!r}; "
                             f"OCRBench's categories are {list(CATEGORIES)}.")
        ok = hit(category, answers_of(answer, index), str(prediction))
        counts[category] += ok
        hits.append(int(ok))
    final = {"Text Recognition": sum(counts[c] for c in RECOGNITION)}
    final.update({c: counts[c] for c in OTHERS})
    final["Final Score"] = sum(final.values())
    final["Final Score Norm"] = float(final["Final Score"]) / 10
    df["hit"] = hits
    return {"acc": pd.DataFrame({k: [v] for k, v in final.items()}), "score.json": final,
            "results.xlsx": df.drop(columns=["extracted"])}


def outcomes(tables: dict, dataset_name: str):
    """Per-row outcomes (stats/outcomes.py): the Final Score is the count of hits."""
    from ..stats.outcomes import Outcomes
    from ..stats.spec import RatioSpec
    from .rows import frame

    df = tables["results.xlsx"]
    group = ["Text Recognition" if c in RECOGNITION else c for c in df["category"]]
    rows = frame(df, df["index"], {"hit": [int(h) for h in df["hit"]]},
                 {"score category": group, "category": df["category"]}, correct=df["hit"], extracted="prediction")
    spec = RatioSpec(terms=(("hit", None),), unit_name="question", groups=("score category", "category"),
                     binary="hit")
    return Outcomes(rows, spec)
