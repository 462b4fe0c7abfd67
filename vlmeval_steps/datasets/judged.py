"""Benchmarks only an LLM judge can score: MathVista and MM-Vet.

Their prompt is the question as the TSV has it (MathVista's carries its own "Hint: ..."
instruction). Without a judge they stop with an error instead of writing a score.
"""
from __future__ import annotations

import pandas as pd

from ..errors import InputError
from ..judge import mathvista as mathvista_judge
from ..judge import mmvet as mmvet_judge
from ..scoring import mathvista as mathvista_scoring
from ..scoring import mmvet as mmvet_scoring
from .base import ImageBaseDataset
from ..stats.outcomes import Outcomes


class JudgeOnlyDataset(ImageBaseDataset):
    TYPE = "VQA"
    JUDGE_REQUIRED = True

    def _need_judge(self, judge) -> None:
        if judge is None:
            raise InputError(f"{self.dataset_name} can only be scored by an LLM judge (upstream default: "
                             f"{self.DEFAULT_JUDGE}); configure judge.model. No score is written without one.")


class MathVista(JudgeOnlyDataset):
    DEFAULT_JUDGE = "gpt-4o-mini"

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        self._need_judge(judge)
        return mathvista_judge.extract(data, judge, self.dataset_name)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return mathvista_scoring.score(data, extracted, self.dataset_name)

    def outcomes(self, tables: dict) -> Outcomes:
        return mathvista_scoring.outcomes(tables, self.dataset_name)


class MMVet(JudgeOnlyDataset):
    DEFAULT_JUDGE = "gpt-4-turbo"

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        self._need_judge(judge)
        return mmvet_judge.extract(data, judge, self.dataset_name)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return mmvet_scoring.score(data, extracted, self.dataset_name)

    def outcomes(self, tables: dict) -> Outcomes:
        return mmvet_scoring.outcomes(tables, self.dataset_name)
