"""MM-Vet grading by an LLM judge (upstream's MMVet_auxeval).

The judge completes upstream's few-shot table `Question | Ground truth | Prediction |
Correctness` with a score in 0.0 .. 1.0. Up to five tries at temperatures 0, 0.5, ..., 2.0;
a reply that is not a number in [0, 1] is retried, and after five failures the score is 0.0.
The record's `extracted` is that score.
"""
from __future__ import annotations

from ..errors import InputError

TRIES = 5
MAX_TOKENS = 2048  # upstream's judge default

FEW_SHOT = """
Compare the ground truth and prediction from AI models, to give a correctness score for the prediction.
<AND> in the ground truth means it is totally right
only when all elements in the ground truth are present in the prediction,
and <OR> means it is totally right when any one element in the ground truth is present in the prediction.
The correctness score is 0.0 (totally wrong), 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, or 1.0 (totally right).
Just complete the last space of the correctness score.

Question | Ground truth | Prediction | Correctness
--- | --- | --- | ---
What is x in the equation? | -1 <AND> -5 | x = 3 | 0.0
What is x in the equation? | -1 <AND> -5 | x = -1 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -5 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -5 or 5 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -1 or x = -5 | 1.0
Can you explain this meme? | This meme is poking fun at the fact that the names of the countries
Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes,
while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues
because the names of these countries do not accurately represent their landscapes. |
The meme talks about Iceland and Greenland. It's pointing out that despite their names,
Iceland is not very icy and Greenland isn't very green. | 0.4
Can you explain this meme? | This meme is poking fun at the fact that the names of the countries
Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes,
while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues
because the names of these countries do not accurately represent their landscapes. |
The meme is using humor to point out the misleading nature of Iceland's and Greenland's names.
Iceland, despite its name, has lush green landscapes while Greenland is mostly covered in ice and snow.
The text 'This is why I have trust issues' is a playful way to suggest
that these contradictions can lead to distrust or confusion.
The humor in this meme is derived from the unexpected contrast between the names of the countries
and their actual physical characteristics. | 1.0
"""


def judge_prompt(question, answer, prediction) -> str:
    gt = str(answer).replace("<AND>", " <AND> ").replace("<OR>", " <OR> ")
    return FEW_SHOT + "\n" + " | ".join([str(question), gt, str(prediction), ""])


def _as_float(reply):
    try:
        return float(reply)
    except (TypeError, ValueError):
        return None


def grade(judge, line) -> tuple[float, str]:
    prompt = judge_prompt(line["question"], line["answer"], line["prediction"])
    log = ""
    for i in range(TRIES):
        reply = judge.ask(prompt, temperature=i * 0.5, max_tokens=MAX_TOKENS)
        value = _as_float(reply)
        if value is None:
            log += f"Try {i}: output is {reply}, failed to parse.\n"
        elif value < 0 or value > 1:
            log += f"Try {i}: output is {reply}, invalid score: {value}.\n"
        else:
            return value, log + "Succeed"
    return 0.0, log + "All 5 retries failed.\n"


def extract(data, judge, dataset_name: str = "MMVet") -> list[dict]:
    from .parallel import map_rows

    if judge is None:
        raise InputError(f"{dataset_name} is scored by an LLM judge only, and none is configured.")
    missing = [c for c in ("question", "answer", "category") if c not in data.columns]
    if missing:
        raise InputError(f"{dataset_name}: the predictions lack column(s) {missing}; score the prediction file "
                         "made from the MMVet TSV.")

    def one(line):
        value, log = grade(judge, line)
        return dict(index=line["index"], extracted=value, log=log, method="judge")

    return map_rows(one, data, judge)
