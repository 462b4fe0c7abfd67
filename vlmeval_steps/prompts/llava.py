"""LLaVA's prompts (upstream's LLaVA.build_prompt and LLaVA_Next.build_prompt: the same text).

Replaces the dataset's prompt for multiple-choice benchmarks only: hint, question, the options
as "A. ...", then the instruction (Chinese when the prompt has Chinese). Images come first.
"""
from __future__ import annotations

from . import PromptBuilder, register
from .common import image_items
from .internvl import multi_choice_text

ID = "llava"


def applies(dataset_name: str, dataset_type: str) -> bool:
    return dataset_type == "MCQ"


def build(dataset, line) -> list[dict]:
    # InternVL's multiple-choice text is upstream's LLaVA text to the character (both copy it); only the
    # place of the images differs
    return image_items(dataset, line) + [dict(type="text", value=multi_choice_text(line))]


register(PromptBuilder(id=ID, applies=applies, build=build))
