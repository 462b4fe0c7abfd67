"""The LLM judge for multiple choice: upstream's matching prompt, up to three tries.

Called for the rows upstream's rules (`can_infer`) cannot decide. The prompt strings are
upstream's (vlmeval/dataset/utils/multiple_choice.py at e8e78f05) byte for byte, because the
judge's reply, and so the score, depends on them: the English one, and the Chinese one for
questions with CJK characters. The question gets a '?' appended and the options come as
'There are several options: \\n' + 'A. text\\n' lines, exactly as upstream builds them.

Deliberate deviation: after three replies that name no option, upstream picks a random option
(unseeded). We return 'Z' (never a correct answer) with a log saying so, so a rerun scores the
same. A prediction that failed at inference is not sent to the judge at all.
"""
from __future__ import annotations

import re

from .matching import FAIL_MSG, can_infer

TRIES = 3
CJK = re.compile("[\u4e00-\u9fff]")
OPTIONS_HEAD = "There are several options: \n"

PROMPT_EN = (
    "You are an AI assistant who will help me to match an answer with several options of a single-choice question. "
    "You are provided with a question, several options, and an answer, and you need to find which option is most "
    "similar to the answer. If the meaning of all options are significantly different from the answer, output Z. "
    "Your should output a single uppercase character in A, B, C, D (if they are valid options), and Z. \n"
    "Example 1: \n"
    "Question: What is the main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\n"
    "Answer: a cute teddy bear\nYour output: A\n"
    "Example 2: \n"
    "Question: What is the main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\n"
    "Answer: Spider\nYour output: Z\n"
    "Example 3: \n"
    "Question: {question}?\nOptions: {options}\nAnswer: {prediction}\nYour output: "
)
PROMPT_CN = (
    "你是一个帮助我匹配答案与单选题中多个选项的 AI 助手。"
    "你会被提供：一个问题，多个选项，一个答案。你的任务是找到与答案意义最相近的选项。"
    "如果所有选项的意义都与答案显著不同，则输出 Z。"
    "你应该输出一个单个的大写字母，例如 A, B, C, D（如果它们是有效选项），或 Z。"
    "例 1:"
    "问题: 图中最主要的物体是什么?\n选项: A. 泰迪熊 B. 兔子 C. 猫 D. 狗\n答案: 一只可爱的泰迪熊\n输出: A\n"
    "例 2: \n"
    "问题: 图中最主要的物体是什么?\n选项: A. 泰迪熊 B. 兔子 C. 猫 D. 狗\n答案: 蜘蛛\n输出: Z\n"
    "例 3: \n"
    "问题: {question}?\n选项: {options}\n答案: {prediction}\n输出: "
)
# BLINK's own matching prompt (upstream build_prompt_blink, chosen when the dataset is exactly 'BLINK'),
# byte for byte: note the missing space after "etc., output Z." and the '(Z) Failed' line after the options
PROMPT_BLINK = (
    "You are an AI assistant who will help me to match an answer with several options of a single-choice question. "
    "You are provided with a question, several options, and an answer, "
    "and you need to find which option is most similar to the answer. "
    "If the answer says things like refuse to answer, I'm sorry cannot help, etc., output Z."
    "If the meaning of all options are significantly different from the answer, "
    "or the answer does not select any option, output Z. "
    "Your should output one of the choices, A, B, C, D (if they are valid options), or Z.\n"
    "Example 1: \n"
    "Question: Which point is closer to the camera?\nSelect from the following choices.\n"
    "Options: A. Point A\nB. Point B\n(Z) Failed\n"
    "Answer: Point B, where the child is sitting, is closer to the camera.\nYour output: (B)\n"
    "Example 2: \n"
    "Question: Which point is closer to the camera?\nSelect from the following choices.\n"
    "Options: (A) Point A\n(B) Point B\n(Z) Failed\n"
    "Answer: I'm sorry, but I can't assist with that request.\nYour output: (Z)\n"
    "Example 3: \n"
    "Question: Which point is corresponding to the reference point?\nSelect from the following choices.\n"
    "Options: (A) Point A\n(B) Point B\n(Z) Failed\n"
    "Answer:The reference point (REF) on the first image is at the tip of the pot, "
    "which is the part used to Poke if the pots were used for that action. Looking at the second image, "
    "we need to find the part of the object that would correspond to poking.\n"
    "(A) Point A is at the tip of the spoon's handle, which is not used for poking.\n"
    "(B) Point B is at the bottom of the spoon, which is not used for poking.\n"
    "(C) Point C is on the side of the pspoonot, which is not used for poking.\n"
    "(D) Point D is at the tip of the spoon, which is not used for poking.\n"
    "\nTherefore, there is no correct answer in the choices\nYour output: (Z)\n"
    "Example 4: \n"
    "Question: {question}?\nOptions: {options}\n(Z) Failed\nAnswer: {prediction}\nYour output: "
)
FAILED_PREDICTION_LOG = "The prediction failed at inference (no answer from the model); not sent to the judge."
FALLBACK_LOG = ("Failed to predict after {n} judge replies naming no option; Z chosen (deterministic; upstream "
                "picks a random option here). Replies: {replies}")
JUDGE_DOWN_LOG = "The judge failed to answer (after its retries); Z. Replies: {replies}"


def option_string(choices: dict) -> str:
    return OPTIONS_HEAD + "".join(f"{key}. {text}\n" for key, text in choices.items())


def judge_prompt(question, choices: dict, prediction: str, dataset_name: str | None = None) -> str:
    if dataset_name == "BLINK":  # checked before the Chinese prompt, as upstream
        template = PROMPT_BLINK
    else:
        template = PROMPT_CN if CJK.search(str(question)) else PROMPT_EN
    return template.format(question=question, options=option_string(choices), prediction=prediction)


def extract_with_judge(judge, line, choices: dict, dataset_name: str | None = None) -> tuple[str, str]:
    """(option letter or 'Z', log) for a row the rules could not decide."""
    prediction = str(line["prediction"]).strip()
    if FAIL_MSG in prediction:
        return "Z", FAILED_PREDICTION_LOG
    prompt = judge_prompt(line["question"], choices, prediction, dataset_name)
    replies = []
    for attempt in range(TRIES):
        reply = judge.ask(prompt, attempt=attempt)
        replies.append(reply)
        if reply is None:
            continue  # the judge itself failed; its stage reports that and fails unless told to keep going
        opt = can_infer(reply, choices)
        if opt:
            return opt, reply
    if all(r is None for r in replies):
        return "Z", JUDGE_DOWN_LOG.format(replies=replies)
    return "Z", FALLBACK_LOG.format(n=TRIES, replies=replies)
