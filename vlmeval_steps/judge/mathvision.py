"""MATH-Vision answer extraction (upstream's MATH_V_auxeval, vlmeval/dataset/utils/mathv.py).

Rules first: a *prefetch* on the raw prediction (with choices: the option letter the MCQ rules
find, right or wrong; free-form: the prediction itself when it already equals the answer by
is_equal). Only the rest go to the judge, which reads upstream's five in-context examples; up to
five tries at temperatures 0, 0.5, ..., max_tokens 128. The record's `extracted` is {"res": ...}.
"""
from __future__ import annotations

from ..errors import InputError
from ..scoring.mathvision import PREFETCH_LOG, choices_of, post_check
from . import mathvista

# the judge: upstream builds the MATH-Vision judge with max_tokens=128 and 5 tries, as MathVista's

# upstream's prompt byte for byte ("\n" inside the examples are real newlines followed by an
# empty line; "respone" misspelt; no newline before "Extracted answer:")
TASK_DESCRIPTION = """
Please read the following example.
Then extract the answer from the model response and type it at the end of the prompt.\n
"""
EXAMPLES = (
    """
Hint: Please answer the question and provide the final answer at the end.\n
Question: Which number is missing?\n
Model response: The number missing in the sequence is 14.\n
Extracted answer: 14
""",
    """
Hint: Please answer the question and provide the final answer at the end.\n
Question: What is the fraction of females facing the camera?\n
Model response: The fraction of females facing the camera is 0.6,
which means that six out of ten females in the group are facing the camera.\n
Extracted answer: 0.6
""",
    """
Hint: Please answer the question and provide the final answer at the end.\n
Question: How much money does Luca need to buy a sour apple candy and a butter-scotch candy? (Unit: $)\n
Model response: Luca needs $1.45 to buy a sour apple candy and a butterscotch candy.\n
Extracted answer: 1.45
""",
    """
Hint: Please answer the question and provide the final answer at the end.\n
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


def judge_prompt(question: str, prediction: str) -> str:
    return mathvista.judge_prompt(question, prediction, TASK_DESCRIPTION, EXAMPLES)


def ask_judge(judge, line) -> dict:
    reply, log = mathvista.ask_with_retries(judge, judge_prompt(str(line["question"]), str(line["prediction"])),
                                            line["prediction"])
    return dict(index=line["index"], extracted=dict(res=reply or ""), log=log, method="judge")


def extract(data, judge, dataset_name: str = "MathVision") -> list[dict]:
    from .parallel import map_rows

    missing = [c for c in ("question", "answer", "choices", "category") if c not in data.columns]
    if missing:
        raise InputError(f"{dataset_name}: the predictions lack MATH-Vision's column(s) {missing}; score the "
                         "prediction file made from the MathVision TSV.")
    rows = data.to_dict("records")
    # the rules run here, in the main thread (is_equal's time limit is a signal alarm)
    prefetched = {}
    for line in rows:
        choices_of(line, dataset_name)  # a malformed cell stops here, naming its row
        res = post_check(line, str(line["prediction"]), prefetch=True, dataset_name=dataset_name)
        if res:
            prefetched[str(line["index"])] = dict(index=line["index"], extracted=dict(res=res), log=PREFETCH_LOG,
                                                  method="rule")
    rest = data[[str(i) not in prefetched for i in data["index"]]]
    if len(rest) and judge is None:
        raise InputError(f"{dataset_name}: {len(rest)} answer(s) need the LLM judge (upstream requires one), and "
                         "none is configured.")
    asked = {}
    if len(rest):
        asked = {str(r["index"]): r for r in map_rows(lambda line: ask_judge(judge, line), rest, judge)}
    return [prefetched.get(str(i)) or asked[str(i)] for i in data["index"]]
