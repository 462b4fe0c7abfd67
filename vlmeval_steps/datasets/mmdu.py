"""MMDU (upstream ImageMTDataset / MMDUDataset): multi-turn, multi-image dialogs, graded per turn
by an LLM judge (upstream: gpt-4o).

`question` and `answer` are stringified lists, one entry per turn; `<ImageHere>` in a question
places the row's next image there. The prompt is a dialog (user turn, reference answer, ...); the
infer stage answers each user turn with the conversation so far (models/multiturn.py).
"""
from __future__ import annotations

import pandas as pd

from ..cells import toliststr
from ..errors import InputError
from ..judge import mmdu as mmdu_judge
from ..scoring import mmdu as mmdu_scoring
from .judged import JudgeOnlyDataset

IMAGE_TAG = "<ImageHere>"


class MMDUDataset(JudgeOnlyDataset):
    TYPE = "MT"
    DEFAULT_JUDGE = "gpt-4o"
    SCORE_COLUMNS = ("question", "answer")

    def build_prompt(self, line) -> list[dict]:
        images = self.dump_image(line)
        questions = toliststr(line["question"])
        answers = toliststr(line["answer"]) if "answer" in line else [""] * len(questions)
        if len(questions) != len(answers):
            raise InputError(f"{self.dataset_name}: row index={line['index']}: {len(questions)} questions but "
                             f"{len(answers)} answers; every turn needs one of each.")
        dialog, used = [], 0
        for q, a in zip(questions, answers):
            n = q.count(IMAGE_TAG)
            if used + n > len(images):
                raise InputError(f"{self.dataset_name}: row index={line['index']}: the questions have more "
                                 f"{IMAGE_TAG} tags than the row has images ({len(images)}).")
            if n:
                pieces, content = q.split(IMAGE_TAG), []
                for text, image in zip(pieces[:-1], images[used:used + n]):
                    if text != "":
                        content.append(dict(type="text", value=text))
                    content.append(dict(type="image", value=image))
                if pieces[-1] != "":
                    content.append(dict(type="text", value=pieces[-1]))
                used += n
            else:
                content = [dict(type="text", value=q)]
            dialog.append(dict(role="user", content=content))
            dialog.append(dict(role="assistant", content=[dict(type="text", value=a)]))
        return dialog

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        self._need_judge(judge)
        return mmdu_judge.extract(data, judge, self.dataset_name)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        return mmdu_scoring.score(data, extracted, self.dataset_name)
