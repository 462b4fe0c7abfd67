"""Open-answer benchmarks scored by rules: ImageVQADataset (TextVQA, ChartQA, DocVQA, InfoVQA)
and OCRBench.

There is nothing to extract: upstream scores the prediction as it is, so the judge stage
passes it through (method "rule") and the score stage applies the metric.
"""
from __future__ import annotations

import pandas as pd

from ..scoring import ocrbench as ocrbench_scoring
from ..scoring import vqa as vqa_scoring
from .base import ImageBaseDataset
from ..stats.outcomes import Outcomes

VQA_SUFFIX = "\nAnswer the question using a single word or phrase."


def passthrough(data: pd.DataFrame) -> list[dict]:
    return [dict(index=i, extracted=str(p), log="", method="rule") for i, p in zip(data["index"], data["prediction"])]


class ImageVQADataset(ImageBaseDataset):
    TYPE = "VQA"

    def build_prompt(self, line) -> list[dict]:
        msgs = super().build_prompt(line)
        msgs[-1]["value"] += VQA_SUFFIX
        return msgs

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        return passthrough(data)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return vqa_scoring.score(data, extracted, self.dataset_name)

    def outcomes(self, tables: dict) -> Outcomes:
        return vqa_scoring.outcomes(tables, self.dataset_name)


class OCRBench(ImageBaseDataset):
    """The question as given (no suffix); substring matching against the accepted answers."""

    TYPE = "VQA"
    REQUIRED_COLUMNS = ("index", "question", "category")

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        return passthrough(data)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return ocrbench_scoring.score(data, extracted, self.dataset_name)

    def outcomes(self, tables: dict) -> Outcomes:
        return ocrbench_scoring.outcomes(tables, self.dataset_name)
