"""Image captioning (upstream ImageCaptionDataset): COCO_VAL, scored by BLEU, ROUGE-L and CIDEr."""
from __future__ import annotations

import pandas as pd

from ..scoring import caption as caption_scoring
from .base import ImageBaseDataset
from .vqa import passthrough

#: upstream's instruction for a TSV without a 'question' column (COCO_VAL has none); trailing space kept
CAPTION_PROMPT = ('Please describe this image in general. Directly provide the description, '
                  'do not include prefix like "This image depicts". ')


class ImageCaptionDataset(ImageBaseDataset):
    TYPE = "Caption"
    REQUIRED_COLUMNS = ("index",)
    SCORE_COLUMNS = ("answer",)

    def build_prompt(self, line) -> list[dict]:
        if "question" not in line:
            line = dict(line, question=CAPTION_PROMPT)
        return super().build_prompt(line)

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        return passthrough(data)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return caption_scoring.score(data, extracted, self.dataset_name)
