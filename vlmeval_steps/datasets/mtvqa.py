"""MTVQA (upstream MTVQADataset): multilingual text-centric VQA, scored per language by rules."""
from __future__ import annotations

import pandas as pd

from ..scoring import mtvqa as mtvqa_scoring
from .base import ImageBaseDataset
from .vqa import passthrough

MTVQA_SUFFIX = "\nAnswer the question using a word or phrase in the language of the question."


class MTVQADataset(ImageBaseDataset):
    TYPE = "VQA"
    SCORE_COLUMNS = ("answer", "category")  # upstream asserts both

    def build_prompt(self, line) -> list[dict]:
        msgs = super().build_prompt(line)
        msgs[-1]["value"] += MTVQA_SUFFIX
        return msgs

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        return passthrough(data)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return mtvqa_scoring.score(data, extracted, self.dataset_name)
