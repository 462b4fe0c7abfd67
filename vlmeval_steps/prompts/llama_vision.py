"""Llama-3.2-Vision's prompts (upstream's llama_vision.build_prompt), for AI2D, MMMU, MathVista, ChartQA and
DocVQA only. AI2D's and ChartQA's differ between the 11B and the 90B model (upstream picks by the model's
name), hence two builders. Text first, then the images.

Upstream also changes max_new_tokens per dataset (AI2D 400, ChartQA and DocVQA 512, MMMU and MathVista
2048); a model entry has one max_new_tokens here (docs/parity.md, deviations).
"""
from __future__ import annotations

from . import PromptBuilder, register
from .common import image_items, options_of

DATASETS = ("AI2D", "MMMU", "MathVista", "ChartQA", "DocVQA")
COT = "<cot_start>Let's think step by step."
AI2D = {
    "11b": ("Look at the scientific diagram carefully and answer the following question: {q}\n"
            "Think step by step and finally respond to the question with only the correct option number as "
            "\"FINAL ANSWER\"." + COT),
    "90b": "Look at the scientific diagram carefully and answer the following question: {q}\n"
           "Respond only with the correct option digit.",
}
CHARTQA = {
    "11b": ("You are provided a chart image and will be asked a question. You have to think through your answer and "
            "provide a step-by-step solution. Once you have the solution, write the final answer in at most a few "
            "words at the end with the phrase \"FINAL ANSWER:\". The question is: {q}" + COT),
    "90b": ("You are provided a chart image and will be asked a question. Follow these steps carefully:\n "
            "Step 1: Analyze the question to understand what specific data or information is being asked for. "
            "Focus on whether the question is asking for a specific number or category from the chart image.\n "
            "Step 2: Identify any numbers, categories, or groups mentioned in the question and take note of them. "
            "Focus on detecting and matching them directly to the image. \n"
            "Step 3: Study the image carefully and find the relevant data corresponding to the categories or numbers "
            "mentioned. Avoid unnecessary assumptions or calculations; simply read the correct data from the image.\n "
            "Step 4: Develop a clear plan to solve the question by locating the right data. Focus only on the "
            "specific category or group that matches the question. \n"
            "Step 5: Use step-by-step reasoning to ensure you are referencing the correct numbers or data points from "
            "the image, avoiding unnecessary extra steps or interpretations.\n "
            "Step 6: Provide the final answer, starting with \"FINAL ANSWER:\" and using as few words as possible, "
            "simply stating the number or data point requested. \n\n "
            "The question is: {q}" + COT),
}
DOCVQA = ("Read the text in the image carefully and answer the question with the text as seen exactly in the image. "
          "For yes/no questions, just respond Yes or No. If the answer is numeric, just respond with the number and "
          "nothing else. If the answer has multiple words, just respond with the words and absolutely nothing else. "
          "Never respond in a sentence or a phrase.\n Question: {q}")


def applies(dataset_name: str, dataset_type: str) -> bool:
    return any(d in dataset_name for d in DATASETS)


def text_for(size: str, name: str, line, n_images: int) -> str:
    question = str(line["question"])
    options = options_of(line)
    if "AI2D" in name:
        return AI2D[size].format(q=question + "".join(f"\n{k}. {v}" for k, v in options.items()))
    if "MMMU" in name:
        listed = "\n".join(f"{k}. {v}" for k, v in options.items())
        prompt = (f"Look at the image carefully and solve the following question step-by-step. "
                  f"Question: {question} Options: {listed} Indicate the correct answer at the end.")
        for i in range(n_images):
            prompt = prompt.replace(f"<image {i + 1}>", "")
        return prompt
    if "MathVista" in name:
        return question
    if "ChartQA" in name:
        return CHARTQA[size].format(q=question)
    return DOCVQA.format(q=question)


def builder(size: str) -> PromptBuilder:
    def build(dataset, line) -> list[dict]:
        images = image_items(dataset, line)
        return [dict(type="text", value=text_for(size, dataset.dataset_name, line, len(images)))] + images

    return PromptBuilder(id=f"llama_vision_{size}", applies=applies, build=build)


for _size in ("11b", "90b"):
    register(builder(_size))
