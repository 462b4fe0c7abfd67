"""Multiple-choice benchmarks (upstream ImageMCQDataset): prompt, extraction, accuracy table."""
from __future__ import annotations

import string

import pandas as pd

from ..judge.matching import can_infer
from ..scoring import mcq as mcq_scoring
from .base import ImageBaseDataset

NO_JUDGE_LOG = "Failed in Prefetch, no GPT-based answer matching under `exact_matching` policy."


def options_of(line) -> dict:
    """Option columns present in the row: single upper-case letters with a non-NaN value."""
    return {c: line[c] for c in string.ascii_uppercase if c in line and not pd.isna(line[c])}


def mcq_prompt_text(line) -> str:
    """Upstream's exact MCQ prompt (note the space before the final newline)."""
    options = options_of(line)
    hint = line["hint"] if ("hint" in line and not pd.isna(line["hint"])) else None
    prompt = ""
    if hint is not None:
        prompt += f"Hint: {hint}\n"
    prompt += f"Question: {line['question']}\n"
    if options:
        prompt += "Options:\n" + "".join(f"{key}. {item}\n" for key, item in options.items())
        prompt += "Please select the correct answer from the options above. \n"
    return prompt


class ImageMCQDataset(ImageBaseDataset):
    TYPE = "MCQ"
    REQUIRED_COLUMNS = ("index", "question", "A", "B")

    def build_prompt(self, line) -> list[dict]:
        msgs = [dict(type="image", value=p) for p in self.dump_image(line)]
        msgs.append(dict(type="text", value=mcq_prompt_text(line)))
        return msgs

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        records = []
        for line in data.to_dict("records"):
            choices = options_of(line)
            prediction = str(line["prediction"])
            opt = can_infer(prediction, choices)
            if opt:
                records.append(dict(index=line["index"], extracted=opt, log=prediction, method="rule"))
            elif judge is None:
                records.append(dict(index=line["index"], extracted="Z", log=NO_JUDGE_LOG, method="none"))
            else:
                from ..judge.mcq import extract_with_judge

                opt, log = extract_with_judge(judge, line, choices, self.dataset_name)
                records.append(dict(index=line["index"], extracted=opt, log=log, method="judge"))
        return records

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return mcq_scoring.score(data, extracted, self.dataset_name)
