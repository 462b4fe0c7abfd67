"""Yes/No answer extraction (upstream's YOrN_Extraction and YOrN_auxeval).

Rules first: the prediction's words, after the VQA punctuation clean-up, contain "yes" and not
"no" (or the reverse). A prediction the rules leave at "Unknown" goes to the LLM judge, if one
is configured, with upstream's matching prompt, up to five times at temperatures 0, 0.5, ..., 2.0.
"""
from __future__ import annotations

from ..scoring.text import process_punctuation

UNKNOWN = "Unknown"
TRIES = 5
NO_JUDGE_LOG = "Unknown after rule-based extraction; no LLM judge configured (exact matching)."

MATCH_PROMPT = (
    "You are an AI assistant who will help me to match an answer with two options of a question. "
    "The options are only Yes / No. "
    "You are provided with a question and an answer, "
    "and you need to find which option (Yes / No) is most similar to the answer. "
    "If the meaning of all options are significantly different from the answer, output Unknown. "
    "Your should output a single word among the following 3 choices: Yes, No, Unknown.\n"
    "Example 1: \n"
    "Question: Is the word in this image 'Hello'?\nAnswer: The word in this image is 'Hello'.\nYour output: Yes\n"
    "Example 2: \n"
    "Question: Is the word in this image 'Hello'?\n"
    "Answer: The word in this image is not 'Hello'.\nYour output: No\n"
    "Example 3: \n"
    "Question: {}?\nAnswer: {}\nYour output: "
)


def yorn_extraction(prediction: str) -> str:
    """'Yes', 'No' or 'Unknown' from a free-form answer."""
    words = process_punctuation(prediction.lower()).split()
    if "yes" in words and "no" not in words:
        return "Yes"
    if "yes" not in words and "no" in words:
        return "No"
    return UNKNOWN


def match_prompt(question, prediction) -> str:
    return MATCH_PROMPT.format(question, prediction)


def ask_judge(judge, question, prediction) -> tuple[str, str]:
    """(answer, log): the judge's reply run through the same rules, temperature raised per try."""
    prompt = match_prompt(question, prediction)
    log = []
    for i in range(TRIES):
        reply = judge.ask(prompt, temperature=0.5 * i)
        answer = yorn_extraction(reply) if reply is not None else UNKNOWN
        log.append(f"Try {i}: {'judge failed' if reply is None else repr(reply)} -> {answer}")
        if answer != UNKNOWN:
            return answer, "\n".join(log)
    return UNKNOWN, "\n".join(log)


def extract(data, judge=None) -> list[dict]:
    """One record per row of the prediction frame: {'index', 'extracted', 'log', 'method'}."""
    from .parallel import map_rows

    def one(line):
        prediction = str(line["prediction"])
        answer = yorn_extraction(prediction)
        if answer != UNKNOWN:
            return dict(index=line["index"], extracted=answer, log=prediction, method="rule")
        if judge is None:
            return dict(index=line["index"], extracted=UNKNOWN, log=NO_JUDGE_LOG, method="none")
        answer, log = ask_judge(judge, line["question"], prediction)
        return dict(index=line["index"], extracted=answer, log=log, method="judge")

    return map_rows(one, data, judge)
