"""Qwen2-VL's prompts (upstream's Qwen2VLPromptMixin; also used by Qwen2.5-VL and Qwen3-VL).

Replaces the dataset's prompt for MMMU, every MCQ benchmark, HallusionBench and POPE among
the Y/N ones (MME keeps its own), and every VQA benchmark except MMVet. Images come first.
"""
from __future__ import annotations

from . import PromptBuilder, register
from .common import has_chinese, hint_of, image_items, options_of

ID = "qwen2_vl"
MMMU = frozenset({"MMMU_DEV_VAL", "MMMU_TEST"})
MCQ_EN = "Please select the correct answer from the options above."
MCQ_CN = "请直接回答选项字母。"
YORN_SUFFIX = " Please answer yes or no."
VQA_SUFFIX = "\nPlease try to answer the question with short words or phrases if possible."


def applies(dataset_name: str, dataset_type: str) -> bool:
    if dataset_name in MMMU:
        return True
    if dataset_type == "MCQ":
        return "LEGO" not in dataset_name
    if dataset_type == "Y/N":
        return dataset_name in {"HallusionBench", "POPE"}
    if dataset_type == "VQA":
        return dataset_name not in {"MMVet", "ChartMuseum"}
    return False


def mcq_text(line, mmmu: bool) -> str:
    options = options_of(line)
    hint = hint_of(line)
    prompt = f"Hint: {hint}\n" if hint is not None else ""
    prompt += f"Question: {line['question']}\n"
    if options:
        prompt += "Options:\n" + "".join(f"{k}. {v}\n" for k, v in options.items())
        if mmmu:  # MMMU keeps the dataset's English instruction (then trimmed)
            prompt += "Please select the correct answer from the options above. \n"
        else:
            prompt += MCQ_CN if has_chinese(prompt) else MCQ_EN
    return prompt.rstrip()


def build(dataset, line) -> list[dict]:
    name, kind = dataset.dataset_name, dataset.TYPE
    if name in MMMU or kind == "MCQ":
        # for MMMU every image stays in front: no interleaving at the <image k> tags
        text = mcq_text(line, mmmu=name in MMMU)
    elif kind == "Y/N":
        text = f"{line['question']}{YORN_SUFFIX}"
    elif kind == "VQA":
        text = f"{line['question']}{VQA_SUFFIX}"
    else:
        raise ValueError(f"{ID}: no prompt for dataset type {kind!r} ({name})")
    return image_items(dataset, line) + [dict(type="text", value=text)]


register(PromptBuilder(id=ID, applies=applies, build=build))
