"""Test splits whose answers are withheld (upstream: DocVQA_TEST, InfoVQA_TEST): inference only.

Upstream's run.py infers them, writes the prediction file and skips evaluation ("a test split
without ground-truth"); it writes no file for an official server for these two (unlike MMMU_TEST
or MMT-Bench_ALL), so neither do we: `results/{model}/{dataset}.xlsx` is the file to submit.
Extraction passes predictions through; asked for a score, the score stage stops and names the
split that carries answers.
"""
from __future__ import annotations

from ..errors import InputError
from .vqa import ImageVQADataset

#: withheld split -> (the split with public answers, where the test split is scored)
ANSWERS_ELSEWHERE = {
    "DocVQA_TEST": ("DocVQA_VAL", "the DocVQA challenge server (rrc.cvc.uab.es, task 1)"),
    "InfoVQA_TEST": ("InfoVQA_VAL", "the InfographicVQA challenge server (rrc.cvc.uab.es, task 3)"),
}


class WithheldVQADataset(ImageVQADataset):
    """Prompts as ImageVQADataset's; no scoring."""

    def answers_withheld(self) -> str:
        scored, where = ANSWERS_ELSEWHERE.get(self.dataset_name, (None, "the benchmark's official server"))
        other = f" For a local score, evaluate {scored}, the split that carries answers." if scored else ""
        return (f"{self.dataset_name} is a test split whose answers are withheld: it is inference only, as "
                f"upstream (test_split_without_ground_truth). Its predictions are in the merged prediction file "
                f"(results/{{model}}/{self.dataset_name}.xlsx); submit that to {where}.{other}")

    def score(self, data, extracted) -> dict:
        raise InputError(self.answers_withheld())
