"""Yes/No benchmarks (upstream ImageYORNDataset): MME, POPE, HallusionBench.

The prompt is the question as the TSV has it (MME's questions carry their own instruction).
Extraction is upstream's yes/no word rule, with the LLM judge on what it leaves "Unknown";
scoring picks MME's, POPE's or HallusionBench's table by name, as upstream.
"""
from __future__ import annotations

import pandas as pd

from ..judge import yorn as yorn_judge
from ..scoring import yorn as yorn_scoring
from .base import ImageBaseDataset
from ..stats.outcomes import Outcomes


class ImageYORNDataset(ImageBaseDataset):
    TYPE = "Y/N"
    REQUIRED_COLUMNS = ("index", "question")

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        return yorn_judge.extract(data, judge)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return yorn_scoring.score(data, extracted, self.dataset_name)

    def outcomes(self, tables: dict) -> Outcomes:
        return yorn_scoring.outcomes(tables, self.dataset_name)
