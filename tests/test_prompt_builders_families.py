"""The LLaVA and Llama-3.2-Vision prompt builders (upstream's LLaVA / LLaVA_Next and llama_vision build_prompt)
against upstream's strings (checked once against upstream's own functions on these rows)."""
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


@pytest.mark.parametrize("name, kind, expected", [
    ("AI2D_TEST", "MCQ", "llama_vision_11b"), ("MMMU_DEV_VAL", "MCQ", "llama_vision_11b"),
    ("MathVista_MINI", "VQA", "llama_vision_11b"), ("ChartQA_TEST", "VQA", "llama_vision_11b"),
    ("DocVQA_VAL", "VQA", "llama_vision_11b"), ("MMStar", "MCQ", DEFAULT), ("TextVQA_VAL", "VQA", DEFAULT),
])
def test_llama_vision_applies_to_its_five_benchmarks(name, kind, expected):
    assert prompt_id_for("llama_vision_11b", name, kind) == expected


def test_llama_vision_prompts(tmp_path, monkeypatch):
    ai2d = dict(question="Which shape?", A="circle", B="square", answer="A")
    assert prompt("llama_vision_11b", "AI2D_TEST", ai2d, tmp_path / "a", monkeypatch) == [dict(
        type="text", value="Look at the scientific diagram carefully and answer the following question: Which shape?"
                           "\nA. circle\nB. square\nThink step by step and finally respond to the question with only "
                           "the correct option number as \"FINAL ANSWER\".<cot_start>Let's think step by step."), IMG]
    assert prompt("llama_vision_90b", "AI2D_TEST", ai2d, tmp_path / "b", monkeypatch)[0]["value"] == (
        "Look at the scientific diagram carefully and answer the following question: Which shape?\nA. circle\n"
        "B. square\nRespond only with the correct option digit.")
    mmmu = dict(question="Is <image 1> round?", A="yes", B="no", answer="A", split="dev")
    assert prompt("llama_vision_11b", "MMMU_DEV_VAL", mmmu, tmp_path / "c", monkeypatch)[0]["value"] == (
        "Look at the image carefully and solve the following question step-by-step. Question: Is  round? "
        "Options: A. yes\nB. no Indicate the correct answer at the end.")
    vqa = dict(question="Value?", answer="['1']")
    assert prompt("llama_vision_90b", "DocVQA_VAL", vqa, tmp_path / "d", monkeypatch)[0]["value"] == (
        "Read the text in the image carefully and answer the question with the text as seen exactly in the image. "
        "For yes/no questions, just respond Yes or No. If the answer is numeric, just respond with the number and "
        "nothing else. If the answer has multiple words, just respond with the words and absolutely nothing else. "
        "Never respond in a sentence or a phrase.\n Question: Value?")
    chart = prompt("llama_vision_11b", "ChartQA_TEST", vqa, tmp_path / "e", monkeypatch)[0]["value"]
    assert chart.startswith("You are provided a chart image and will be asked a question. You have to think")
    assert chart.endswith("The question is: Value?<cot_start>Let's think step by step.")
    chart90 = prompt("llama_vision_90b", "ChartQA_TEST", vqa, tmp_path / "f", monkeypatch)[0]["value"]
    assert "Step 6: Provide the final answer" in chart90
    assert chart90.endswith("Value?<cot_start>Let's think step by step.")
