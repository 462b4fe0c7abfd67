"""LLaVA-Bench (In-the-Wild) grading by an LLM judge (upstream's utils/llavabench.py).

The judge sees the image's caption, the question, the reference answer (`gpt4_ans`, Assistant 1)
and the model's answer (Assistant 2), with upstream's system prompt and temperature 0.2, and
answers with two scores on its first line. One request per row (upstream does not retry on an
unparsable reply: it scores [-1, -1], as here). The record's `extracted` is [gpt4_score, score].
"""
from __future__ import annotations

from ..errors import InputError

SYSTEM_PROMPT = "You are a helpful and precise assistant for checking the quality of the answer."
TEMPERATURE = 0.2
RULE = ("We would like to request your feedback on the performance of two AI assistants in response to the user "
        "question displayed above. The user asks the question on observing an image. For your reference, the visual "
        "content in the image is represented with a few sentences describing the image. \nPlease rate the "
        "helpfulness, relevance, accuracy, level of details of their responses. Each assistant receives an overall "
        "score on a scale of 1 to 10, where a higher score indicates better overall performance.\nPlease first "
        "output a single line containing only two values indicating the scores for Assistant 1 and 2, "
        "respectively. The two scores are separated by a space.\nIn the subsequent line, please provide a "
        "comprehensive explanation of your evaluation, avoiding any potential bias and ensuring that the order in "
        "which the responses were presented does not affect your judgment.")
#: upstream's rule_dict: the same role and rule for each category
CATEGORIES = ("conv", "detail", "complex")
ROLE = "Assistant"
COLUMNS = ("question", "caption", "gpt4_ans", "category")


def judge_prompt(line) -> str:
    if line["category"] not in CATEGORIES:
        raise InputError(f"LLaVABench: row index={line['index']}: category {line['category']!r} is not one of "
                         f"{list(CATEGORIES)} (upstream has a judge rule only for those).")
    return (f"[Context]\n{line['caption']}\n\n"
            f"[Question]\n{line['question']}\n\n"
            f"[{ROLE} 1]\n{line['gpt4_ans']}\n\n[End of {ROLE} 1]\n\n"
            f"[{ROLE} 2]\n{line['prediction']}\n\n[End of {ROLE} 2]\n\n"
            f"[System]\n{RULE}\n\n")


def parse_score(review) -> list[float]:
    """The two scores on the review's first line (commas count as spaces), else [-1, -1]."""
    try:
        parts = str(review).split("\n")[0].replace(",", " ").split(" ")
        if len(parts) == 2:
            return [float(parts[0]), float(parts[1])]
    except ValueError:
        pass
    return [-1.0, -1.0]


def use_system_prompt(judge) -> None:
    """Upstream builds this judge with its own system prompt. Our LLMJudge sends its client's
    system prompt with every request; the judge prompts are LLaVABench's own, so cached replies
    cannot be confused with another benchmark's."""
    client = getattr(judge, "client", None)
    if client is not None and hasattr(client, "system_prompt"):
        client.system_prompt = SYSTEM_PROMPT


def extract(data, judge, dataset_name: str = "LLaVABench") -> list[dict]:
    from .parallel import map_rows

    missing = [c for c in COLUMNS if c not in data.columns]
    if missing:
        raise InputError(f"{dataset_name}: the predictions lack LLaVABench's column(s) {missing}; score the "
                         "prediction file made from the LLaVABench TSV.")
    if judge is None:
        raise InputError(f"{dataset_name} is scored by an LLM judge only, and none is configured.")
    prompts = {str(line["index"]): judge_prompt(line) for line in data.to_dict("records")}
    use_system_prompt(judge)

    def grade(line):
        reply = judge.ask(prompts[str(line["index"])], temperature=TEMPERATURE)
        # None: the request failed (kept only with keep_failed) or the prediction failed at inference
        return dict(index=line["index"], extracted=parse_score(reply), log=str(reply), method="judge")
    return map_rows(grade, data, judge)
