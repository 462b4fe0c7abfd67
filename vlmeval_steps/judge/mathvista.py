"""MathVista answer extraction (upstream's MathVista_auxeval and post_check).

For each row: a *prefetch* first, on the raw prediction (multi-choice: the option letter the
rules find, right or wrong; integer/float: the number, only when it already equals the answer);
otherwise the judge reads upstream's five in-context examples and extracts the answer, up to
five tries at temperatures 0, 0.5, ... The judge stage then parses what it got as the score
stage will compare it: a letter (multi-choice), an int or a float; text and list answers never
parse (upstream never scores them).

The record's `extracted` is {"res": what upstream stores in its `res` column, "parsed": the
parsed value or null}; `log` is 'Prefetch succeed' for prefetched rows, as upstream.
"""
from __future__ import annotations

import string

from ..cells import parse_list
from ..errors import InputError
from ..scoring.mathvista import ground_truth  # one definition for both stages
from .matching import FAIL_MSG, can_infer

TRIES = 5
MAX_TOKENS = 128  # upstream builds the MathVista judge with max_tokens=128
PREFETCH_LOG = "Prefetch succeed"

# upstream's prompt, kept byte for byte: escaped "\n" inside the examples are real newlines
# followed by an empty line, and "respone" is misspelt
TASK_DESCRIPTION = """
Please read the following example.
Then extract the answer from the model response and type it at the end of the prompt.\n
"""
EXAMPLES = (
    """
Hint: Please answer the question requiring an integer answer and provide the final value,
e.g., 1, 2, 3, at the end.\n
Question: Which number is missing?\n
Model response: The number missing in the sequence is 14.\n
Extracted answer: 14
""",
    """
Hint: Please answer the question requiring a floating-point number with one decimal place and provide the final value,
e.g., 1.2, 1.3, 1.4, at the end.\n
Question: What is the fraction of females facing the camera?\n
Model response: The fraction of females facing the camera is 0.6,
which means that six out of ten females in the group are facing the camera.\n
Extracted answer: 0.6
""",
    """
Hint: Please answer the question requiring a floating-point number with two decimal places and provide the final value,
e.g., 1.23, 1.34, 1.45, at the end.\n
Question: How much money does Luca need to buy a sour apple candy and a butter-scotch candy? (Unit: $)\n
Model response: Luca needs $1.45 to buy a sour apple candy and a butterscotch candy.\n
Extracted answer: 1.45
""",
    """
Hint: Please answer the question requiring a Python list as an answer and provide the final list,
e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.\n
Question: Between which two years does the line graph saw its maximum peak?\n
Model response: The line graph saw its maximum peak between 2007 and 2008.\n
Extracted answer: [2007, 2008]
""",
    """
Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.\n
Question: What fraction of the shape is blue?\n
Choices: (A) 3/11 (B) 8/11 (C) 6/11 (D) 3/5\n
Model response: The correct answer is (B) 8/11.\n
Extracted answer: B
""",
)


def judge_prompt(question: str, prediction: str, task: str = TASK_DESCRIPTION, examples=EXAMPLES) -> str:
    """Upstream's in-context extraction prompt (MathVista's; MATH-Vision passes its own examples)."""
    prompt = task + "".join(example + "\n" for example in examples)
    return prompt + question + "\n" + "Model respone: " + prediction + "Extracted answer:"


def choices_of(line) -> dict:
    """{'A': choice, ...} from the row's stringified list of choices."""
    values = parse_list(line["choices"], brackets=False, tuples=True)
    if values is None:
        raise InputError(f"MathVista: row index={line['index']}: 'choices' of a multi_choice question must be a "
                         f"Python list, found {str(line['choices'])[:80]!r}.")
    return {string.ascii_uppercase[i]: v for i, v in enumerate(values)}


def parse(line, response):
    """What upstream's post_check compares with the ground truth: a letter, int, float or None."""
    kind = line["question_type"] if line["question_type"] == "multi_choice" else line["answer_type"]
    try:
        if kind == "multi_choice":
            return can_infer(response, choices_of(line)) or None
        if kind == "integer":
            return int(response)
        if kind == "float":
            return float(response)
    except (ValueError, TypeError, OverflowError):
        return None
    return None  # text and list answers: upstream compares str(None) with the answer, never equal


def prefetch(line):
    """The prefetched `res`, or None to ask the judge. Falsy results (0, 0.0) ask the judge, as upstream."""
    prediction = str(line["prediction"])
    if line["question_type"] == "multi_choice":
        res = can_infer(prediction, choices_of(line))
        return res or None
    value = parse(line, prediction)
    gt = ground_truth(line)
    return value if (value is not None and gt is not None and value == gt and value) else None


def ask_with_retries(judge, prompt: str, prediction) -> tuple[str | None, str]:
    """Upstream's auxeval loop (MathVista, MATH-Vision, MMLongBench): up to 5 tries at temperatures 0, 0.5, ...;
    the reply (None when every try failed) and upstream's log of the tries."""
    log = ""
    for i in range(TRIES):
        reply = judge.ask(prompt, temperature=i * 0.5, max_tokens=MAX_TOKENS)
        if reply is None or FAIL_MSG in reply:
            log += f"Try {i}: output is {prediction}, failed to parse.\n"
            continue
        return reply, log + "Succeed"
    return None, log + "All 5 retries failed.\n"


def extract_row(judge, line) -> dict:
    res = prefetch(line)
    if res is not None:
        return dict(index=line["index"], extracted=dict(res=res, parsed=parse(line, str(res))), log=PREFETCH_LOG,
                    method="rule")
    reply, log = ask_with_retries(judge, judge_prompt(str(line["question"]), str(line["prediction"])),
                                  line["prediction"])
    if reply is None:
        return dict(index=line["index"], extracted=dict(res="", parsed=None), log=log, method="judge")
    return dict(index=line["index"], extracted=dict(res=reply, parsed=parse(line, reply)), log=log, method="judge")


def check_columns(data, dataset_name: str) -> None:
    needed = ["question", "question_type", "answer_type", "answer", "answer_option", "choices", "task", "skills"]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise InputError(f"{dataset_name}: the predictions lack MathVista's column(s) {missing}; score the "
                         "prediction file made from the MathVista TSV.")


def extract(data, judge, dataset_name: str = "MathVista_MINI") -> list[dict]:
    from .parallel import map_rows

    if judge is None:
        raise InputError(f"{dataset_name} is scored by an LLM judge only, and none is configured.")
    check_columns(data, dataset_name)
    return map_rows(lambda line: extract_row(judge, line), data, judge)
