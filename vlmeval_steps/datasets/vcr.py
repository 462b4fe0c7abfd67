"""VCR (upstream VCRDataset): restore the covered text in an image; the prompt is the TSV's question
as is (upstream's extra instruction is commented out), scored by exact match and Jaccard."""
from __future__ import annotations

import pandas as pd

from ..scoring import vcr as vcr_scoring
from .base import ImageBaseDataset
from .vqa import passthrough


class VCRDataset(ImageBaseDataset):
    TYPE = "VQA"
    SCORE_COLUMNS = ("answer",)

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        return passthrough(data)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return vcr_scoring.score(data, extracted, self.dataset_name)
