"""LLaVA-Bench scores (upstream's LLaVABench_score), rounded to one decimal as upstream.

Per split ('overall', then each category): Relative Score (main) = mean(model score) /
mean(reference score) x 100, VLM Score = mean(model score) x 10, GPT4 Score = mean(reference
score) x 10. Unparsable judge replies count as -1 for both, as upstream. Categories are sorted
(upstream lists them in set order). Upstream's main file is `LLaVABench_score.csv`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .common import attach_extracted


def score(data: pd.DataFrame, extracted: pd.DataFrame, dataset_name: str = "LLaVABench") -> dict:
    df = attach_extracted(data, extracted, dataset_name)
    df["gpt4_score"] = [float(e[0]) for e in df["extracted"]]
    df["score"] = [float(e[1]) for e in df["extracted"]]
    cates = ["overall"] + sorted({c for c in df["category"] if not pd.isna(c)}, key=str)
    table: dict = {"split": [], "Relative Score (main)": [], "VLM Score": [], "GPT4 Score": []}
    for c in cates:
        sub = df if c == "overall" else df[df["category"] == c]
        table["split"].append(c)
        table["Relative Score (main)"].append(np.mean(sub["score"]) / np.mean(sub["gpt4_score"]) * 100)
        table["VLM Score"].append(np.mean(sub["score"]) * 10)
        table["GPT4 Score"].append(np.mean(sub["gpt4_score"]) * 10)
    result = pd.DataFrame(table).round(1)
    rows = df.drop(columns=["extracted", "log"]).assign(review=df["log"])
    return {"acc": result, "score": result, "openai_result.xlsx": rows}
