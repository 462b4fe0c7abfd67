"""LLaVA's prompt builder (upstream's LLaVA / LLaVA_Next build_prompt) against upstream's strings."""
from __future__ import annotations

import pytest

from tests.test_prompt_builders import IMG, MCQ, MCQ_CN, prompt
from vlmeval_steps.prompts import DEFAULT, prompt_id_for


@pytest.mark.parametrize("name, kind, expected", [
    ("MMStar", "MCQ", "llava"), ("MMBench_DEV_EN", "MCQ", "llava"), ("MMMU_DEV_VAL", "MCQ", "llava"),
    ("MME", "Y/N", DEFAULT), ("POPE", "Y/N", DEFAULT), ("TextVQA_VAL", "VQA", DEFAULT), ("MMVet", "VQA", DEFAULT),
])
def test_llava_applies_to_multiple_choice_only(name, kind, expected):
    assert prompt_id_for("llava", name, kind) == expected


def test_llava_prompts(tmp_path, monkeypatch):
    # images first, then hint, question, options and upstream's instruction
    assert prompt("llava", "MMStar", MCQ, tmp_path / "a", monkeypatch) == [IMG, dict(
        type="text", value="A hint.\nWhich shape?\nA. circle\nB. square\n"
                           "Answer with the option's letter from the given choices directly.")]
    assert prompt("llava", "MMBench_DEV_CN", dict(MCQ_CN, category="c", split="dev"), tmp_path / "b",
                  monkeypatch) == [IMG, dict(type="text", value="哪个形状？\nA. 圆\nB. 方\n请直接回答选项字母。")]
    # a multiple-choice row without options (MMMU's open questions) asks for a direct answer
    assert prompt("llava", "MMMU_DEV_VAL", dict(question="What is 6*7?", answer="42", split="dev"),
                  tmp_path / "c", monkeypatch)[-1]["value"] == "What is 6*7?\nAnswer the question directly."
