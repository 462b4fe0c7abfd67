"""Multiple-choice benchmarks (upstream ImageMCQDataset): prompt, extraction, accuracy table."""
from __future__ import annotations

import string

import pandas as pd

from ..judge.matching import can_infer
from ..judge.parallel import map_rows
from ..scoring import mcq as mcq_scoring
from ..errors import InputError
from .base import ImageBaseDataset
from ..stats.outcomes import Outcomes

NO_JUDGE_LOG = mcq_scoring.NO_JUDGE_LOG  # upstream's exact-matching sentence


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

    def prepare_line(self, line: dict) -> dict:
        """The row as answer extraction sees it (MMMU rewrites its open questions)."""
        return line

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        def one(line):
            line = self.prepare_line(line)
            choices = options_of(line)
            prediction = str(line["prediction"])
            opt = can_infer(prediction, choices)
            if opt:
                return dict(index=line["index"], extracted=opt, log=prediction, method="rule")
            if judge is None:
                return dict(index=line["index"], extracted="Z", log=NO_JUDGE_LOG, method="none")
            from ..judge.mcq import extract_with_judge

            opt, log = extract_with_judge(judge, line, choices, self.upstream_name)
            return dict(index=line["index"], extracted=opt, log=log, method="judge")

        return map_rows(one, data, judge)  # in threads when the judge takes several requests at once

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict[str, pd.DataFrame]:
        return mcq_scoring.score(data, extracted, self.dataset_name)

    def outcomes(self, tables: dict) -> Outcomes:
        return mcq_scoring.outcomes(tables, self.dataset_name)


class MMMUDataset(ImageMCQDataset):
    """MMMU: the MCQ prompt with each `<image k>` tag replaced by image k, in place.

    Open questions (no option A) get no option list in the prompt; for extraction they become
    "A. <the answer>" vs "B. Other Answers" and are scored against 'A' (upstream's MMMU_preproc).
    """

    def build_prompt(self, line) -> list[dict]:
        return interleave_images(super().build_prompt(line), line["index"])

    def prepare_line(self, line: dict) -> dict:
        if "A" in line and pd.isna(line["A"]):
            line = dict(line, A=line.get("answer"), B="Other Answers")
        return line


def interleave_images(msgs: list[dict], index=None) -> list[dict]:
    """Split the one text item at each '<image k>' (k a single digit) and put image k there.

    Text without a tag keeps every image first. Empty text pieces are kept, as upstream.
    """
    images = [m["value"] for m in msgs if m["type"] == "image"]
    texts = [m["value"] for m in msgs if m["type"] == "text"]
    if len(texts) != 1:
        raise InputError(f"row index={index}: expected one text item to interleave images into, found {len(texts)}.")
    pieces = texts[0].split("<image ")
    if len(pieces) == 1:
        return msgs
    out = [dict(type="text", value=pieces[0])]
    for piece in pieces[1:]:
        if len(piece) < 2 or not piece[0].isdigit() or not piece[0].isascii() or piece[1] != ">":
            raise InputError(f"row index={index}: '<image {piece[:3]}' is not an image tag of the form '<image k>' "
                             "with k in 1..9.")
        k = int(piece[0])
        try:
            image = images[k - 1]  # as upstream: '<image 0>' would name the last image
        except IndexError:
            raise InputError(f"row index={index}: the question refers to <image {k}> but the row has "
                             f"{len(images)} image(s).") from None
        out.append(dict(type="image", value=image))
        out.append(dict(type="text", value=piece[2:]))
    return out
