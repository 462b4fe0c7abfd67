"""InternVL's prompts (upstream's InternVLChat.build_prompt, InternVL2 / 2.5 / 3 without CoT).

Used for every image benchmark. The text comes first and the images after it (InternVL
places them itself). The chain-of-thought (USE_COT=1) and MPO prompt variants are not
included.
"""
from __future__ import annotations

from . import PromptBuilder, register
from .common import has_chinese, hint_of, image_items, options_of

ID = "internvl"
SHORT = "\nAnswer the question using a single word or phrase."
MCQ_EN = "\nAnswer with the option's letter from the given choices directly."
MCQ_CN = "\n请直接回答选项字母。"
OPEN_EN = "\nAnswer the question directly."
OPEN_CN = "\n请直接回答问题。"
DETAILED = ("LLaVABench", "WildVision")
SHORT_ANSWER = ("OCRVQA", "TextVQA", "ChartQA", "DocVQA", "InfoVQA", "OCRBench", "DUDE", "SLIDEVQA", "GQA",
                "MMLongBench_DOC")
AS_IS = ("MathVista", "MathVision", "VCR", "MTVQA", "MMVet", "MathVerse", "MMDU", "CRPE", "MIA-Bench", "MM-Math",
         "DynaMath", "QSpatial", "WeMath", "LogicVista")


def _any_in(names, dataset_name: str) -> bool:
    return any(n in dataset_name for n in names)


def applies(dataset_name: str, dataset_type: str) -> bool:
    return True


def multi_choice_text(line) -> str:
    question = str(line["question"])
    hint = hint_of(line)
    if hint is not None:
        question = f"{hint}\n{question}"
    options = options_of(line)
    prompt = question + "".join(f"\n{k}. {v}" for k, v in options.items())
    chinese = has_chinese(prompt)
    if options:
        prompt += MCQ_CN if chinese else MCQ_EN
    else:
        prompt += OPEN_CN if chinese else OPEN_EN
    return prompt


def text_for(name: str, kind: str, line) -> str:
    question = line["question"]
    if kind == "Y/N":
        if "MME" in name:
            return f"{question} Answer the question using a single word or phrase."
        if _any_in(("HallusionBench", "AMBER"), name):
            return f"{question} Please answer yes or no. Answer the question using a single word or phrase."
        return question
    if kind == "MCQ":
        return multi_choice_text(line)
    if kind == "VQA":
        if _any_in(DETAILED, name):
            return f"{question}\nAnswer this question in detail."
        if _any_in(SHORT_ANSWER, name):
            return f"{question}{SHORT}"
        if _any_in(AS_IS, name):
            return question
        return f"{question}{SHORT}"
    return question


def build(dataset, line) -> list[dict]:
    return [dict(type="text", value=text_for(dataset.dataset_name, dataset.TYPE, line))] + image_items(dataset, line)


register(PromptBuilder(id=ID, applies=applies, build=build))
