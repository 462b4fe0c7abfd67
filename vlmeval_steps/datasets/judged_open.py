"""Open-answer benchmarks an LLM judge scores (issue 11): MathVision (rules first, the judge on
the misses) and LLaVABench (the judge grades every answer against a reference answer).

Their prompt is the question as the TSV has it, after the image, as upstream's base class builds it.
"""
from __future__ import annotations

import pandas as pd

from ..judge import llavabench as llavabench_judge
from ..judge import mathvision as mathvision_judge
from ..scoring import llavabench as llavabench_scoring
from ..scoring import mathvision as mathvision_scoring
from .judged import JudgeOnlyDataset


class MathVision(JudgeOnlyDataset):
    DEFAULT_JUDGE = "gpt-4o-mini"
    SCORE_COLUMNS = ("answer", "choices", "category")

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        self._need_judge(judge)
        return mathvision_judge.extract(data, judge, self.dataset_name)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return mathvision_scoring.score(data, extracted, self.dataset_name)


class LLaVABench(JudgeOnlyDataset):
    DEFAULT_JUDGE = "gpt-4-turbo"
    SCORE_COLUMNS = ("category",)

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        self._need_judge(judge)
        return llavabench_judge.extract(data, judge, self.dataset_name)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return llavabench_scoring.score(data, extracted, self.dataset_name)
