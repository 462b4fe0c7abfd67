"""Video-MME (upstream vlmeval/dataset/videomme.py and utils/videomme.py at e8e78f05).

Hub lmms-lab/Video-MME: videomme/test-00000-of-00001.parquet, video*.zip (unpacked flat into
video/) and subtitle.zip (into subtitle/). Frames: the base formulas on video/{videoID}.mp4.

Subtitles (use_subtitle): for each selected frame index, the time make_time(fps=video fps,
frames=index) in ms; the first subtitle line strictly spanning that time gives its text ('\\N' as a
space); non-blank texts are joined by newlines. A video without a subtitle file gets none (the
empty list in the template), as upstream.

Scoring: extract_characters_regex (upstream's answer prefixes, two of them fused by missing commas;
the first of A-D anywhere in what is left, so 'Failed to obtain answer via API.' reads as 'A');
when it finds nothing, upstream's extract_option, whose options come from the question's lines
after the first (the index has none there, so this yields 'Z' unless a question carries them).
"""
from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import InputError
from ...judge.matching import can_infer
from ..mcq import NO_JUDGE_LOG, options_of
from .base import VideoBaseDataset
from .mvbench import candidates_of
from .unpack import zips_into_folder
from ...stats.outcomes import Outcomes

log = logging.getLogger(__name__)

SYS = ""
FRAMES_TMPL_NOSUB = """
These are the frames of a video. \
Select the best answer to the following multiple-choice question based on the video. \
Respond with only the letter (A, B, C, or D) of the correct option.
"""
FRAMES_TMPL_SUB = """
These are the frames of a video. \
This video's subtitles are listed below:
{}
Select the best answer to the following multiple-choice question based on the video. \
Respond with only the letter (A, B, C, or D) of the correct option.
"""
PARQUET = "videomme/test-00000-of-00001.parquet"
PARQUET_COLUMNS = ("videoID", "duration", "domain", "sub_category", "task_type", "question", "options", "answer")
TSV_COLUMNS = ["index", "video", "video_path", "duration", "domain", "candidates", "sub_category", "task_type",
               "subtitle_path", "question", "answer"]

DURATIONS = ["short", "medium", "long"]
DOMAINS = ["Knowledge", "Film & Television", "Sports Competition", "Artistic Performance", "Life Record",
           "Multilingual"]
SUB_CATEGORIES = [
    "Humanity & History", "Literature & Art", "Biology & Medicine", "Finance & Commerce", "Astronomy", "Geography",
    "Law", "Life Tip", "Technology", "Animation", "Movie & TV Show", "Documentary", "News Report", "Esports",
    "Basketball", "Football", "Athletics", "Other Sports", "Stage Play", "Magic Show", "Variety Show", "Acrobatics",
    "Handicraft", "Food", "Fashion", "Daily Life", "Travel", "Pet & Animal", "Exercise", "Multilingual",
]
TASK_CATEGORIES = [
    "Temporal Perception", "Spatial Perception", "Attribute Perception", "Action Recognition", "Object Recognition",
    "OCR Problems", "Counting Problem", "Temporal Reasoning", "Spatial Reasoning", "Action Reasoning",
    "Object Reasoning", "Information Synopsis",
]
# upstream's list, commas missing after two entries included: those pairs are one (never-seen) prefix each
ANSWER_PREFIXES = [
    "The best answer is",
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option is" "The correct option is",
    "Best answer:" "Best option:",
    "Answer:",
    "Option:",
]


def extract_characters_regex(s: str) -> str:
    s = s.strip()
    for prefix in ANSWER_PREFIXES:
        s = s.replace(prefix, "")
    if len(s.split()) > 10 and not re.search("[ABCD]", s):
        return ""
    matches = re.search(r"[ABCD]", s)
    return "" if matches is None else matches[0]


def option_item(line) -> dict:
    """Upstream's extract_option: options 'X. text' found in the question's lines after the first."""
    item = dict(line)
    for i, option in enumerate(str(item["question"]).split("\n")[1:]):
        option_id = chr(ord("A") + i) + "."
        if option.find(option_id) >= 0:
            item[chr(ord("A") + i)] = option[option.find(option_id) + len(option_id):].strip(". \n")
    return item


def subtitle_lines(srt_path: Path, indices: list[int], video_fps: float) -> str:
    """Upstream's subtitle selection for the chosen frames (pysubs2, as upstream)."""
    import pysubs2

    subs = pysubs2.load(str(srt_path), encoding="utf-8")
    picked = []
    for frame in indices:
        text = ""
        cur_time = pysubs2.make_time(fps=video_fps, frames=frame)
        for sub in subs:
            if sub.start < cur_time and sub.end > cur_time:
                text = sub.text.replace("\\N", " ")
                break
        if text.strip():
            picked.append(text)
    return "\n".join(picked)


def _mean3(values) -> str:
    kept = [x for x in values if x >= 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty category is 'nan', as upstream
        return f"{np.mean(kept):.3f}"


def dimension_rating(df: pd.DataFrame, dataset_name: str = "Video-MME") -> dict:
    """Upstream's get_dimension_rating: per duration and overall, the mean score by domain, sub-category and
    task type (strings with 3 decimals; 'nan' for an empty one)."""
    rating = {}
    for duration in DURATIONS + ["overall"]:
        rating[duration] = {"overall": "", "domain": {k: [] for k in DOMAINS},
                            "sub_category": {k: [] for k in SUB_CATEGORIES},
                            "task_type": {k: [] for k in TASK_CATEGORIES}}
    for line in df.to_dict("records"):
        for col, known in (("duration", DURATIONS), ("domain", DOMAINS), ("sub_category", SUB_CATEGORIES),
                           ("task_type", TASK_CATEGORIES)):
            if line[col] not in known:
                raise InputError(f"{dataset_name}: row index={line['index']}: {col} {line[col]!r} is not one of "
                                 f"upstream's {col} values {known}.")
        for duration in (line["duration"], "overall"):
            rating[duration]["domain"][line["domain"]].append(line["score"])
            rating[duration]["sub_category"][line["sub_category"]].append(line["score"])
            rating[duration]["task_type"][line["task_type"]].append(line["score"])
    for duration in DURATIONS + ["overall"]:
        r = rating[duration]
        r["overall"] = _mean3(sum(r["domain"].values(), []))
        for group in ("domain", "sub_category", "task_type"):
            for k in r[group]:
                r[group][k] = _mean3(r[group][k])
    return rating


class VideoMME(VideoBaseDataset):
    TYPE = "Video-MCQ"
    HF_REPO = "lmms-lab/Video-MME"
    INDEX_MD5 = "85bdd91f9b29a99354c23b97ab7c113c"
    DEFAULT_JUDGE = "gpt-4o-mini"  # upstream run.py's choice for Video-MME
    REQUIRED_COLUMNS = ("index", "question", "video", "candidates", "answer", "duration", "domain", "sub_category",
                        "task_type", "subtitle_path")
    SCORE_COLUMNS = ("answer", "duration", "domain", "sub_category", "task_type")

    # ----- download
    def unpack(self, root: Path) -> None:
        root = Path(root)
        zips = [p for p in root.iterdir() if p.name.endswith(".zip") and p.name.startswith("video")]
        zips_into_folder(zips, root / "video", flatten=True)
        sub_zip = root / "subtitle.zip"
        if sub_zip.exists():
            zips_into_folder([sub_zip], root / "subtitle", flatten=True)

    def prepare(self, root: Path) -> pd.DataFrame:
        root = Path(root)
        self.unpack(root)
        path = root / PARQUET
        try:
            data = pd.read_parquet(path)
        except FileNotFoundError:
            raise InputError(f"{self.dataset_name}: no {path}; the folder is not in {self.HF_REPO}'s layout.") \
                from None
        missing = [c for c in PARQUET_COLUMNS if c not in data.columns]
        if missing:
            raise InputError(f"{path}: missing column(s) {missing} for benchmark {self.dataset_name}; the header has "
                             f"{list(data.columns)}.")
        data = data.assign(index=range(len(data)))
        data["video"] = data["videoID"]
        data["video_path"] = data["videoID"].apply(lambda x: f"./video/{x}.mp4")
        data["subtitle_path"] = data["videoID"].apply(lambda x: f"./subtitle/{x}.srt")
        data["candidates"] = data["options"].apply(lambda x: x.tolist())
        data = data[TSV_COLUMNS]
        for line in data.to_dict("records"):
            if not (root / line["video_path"]).is_file():
                raise InputError(f"{self.dataset_name}: row index={line['index']}: video {root / line['video_path']} "
                                 "does not exist (the video zips unpack into video/).")
        return data

    # ----- frames: base formulas on video/{video}.mp4
    def video_file(self, video: str) -> str:
        return f"video/{video}.mp4"

    # ----- prompt
    def subtitles(self, line) -> str:
        path = Path(self.abspath(str(line["subtitle_path"])))
        if not path.is_file():
            # upstream silently uses no subtitles for such a video; we say so
            log.warning("%s: row index=%s: no subtitle file %s; the prompt lists no subtitles (as upstream).",
                        self.dataset_name, line["index"], path)
            return ""
        rec = self.frame_record(line)
        try:
            return subtitle_lines(path, list(rec["indices"]), float(rec["video_fps"]))
        except Exception as exc:  # noqa: BLE001 - pysubs2 raises several kinds for a malformed file
            raise InputError(f"{self.dataset_name}: row index={line['index']}: cannot read subtitle file {path} "
                             f"({type(exc).__name__}: {exc}).") from None

    def build_prompt(self, line) -> list[dict]:
        s = self.setting
        subtitles = self.subtitles(line) if s.use_subtitle else ""
        message = [dict(type="text", value=SYS)]
        if s.video_llm:
            message.append(dict(type="video", value=self.abspath(self.line_video(line))))
        else:
            message.extend(dict(type="image", value=p) for p in self.frame_paths(line))
        message.append(dict(type="text", value=FRAMES_TMPL_SUB.format(subtitles) if s.use_subtitle
                            else FRAMES_TMPL_NOSUB))
        question = str(line["question"]) + "\n" + "\n".join(str(c) for c in candidates_of(line, self.dataset_name))
        message.append(dict(type="text", value=f"Question: {question}\nAnswer: "))
        return message

    # ----- judge-extract and score
    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        from ...judge.parallel import map_rows

        def one(line):
            pred = str(line["prediction"])
            letter = extract_characters_regex(pred)
            if letter:
                return dict(index=line["index"], extracted=letter, log=pred, method="rule")
            item = option_item(line)
            choices = options_of({k: v for k, v in item.items() if len(k) == 1})
            opt = can_infer(pred, choices)
            if opt:
                return dict(index=line["index"], extracted=opt, log=pred, method="rule")
            if judge is None or not choices:
                # without options upstream's judge can name none, and it ends with 'Z' as well
                return dict(index=line["index"], extracted="Z", log=NO_JUDGE_LOG, method="none")
            from ...judge.mcq import extract_with_judge

            opt, log_ = extract_with_judge(judge, item, choices, self.upstream_name)
            return dict(index=line["index"], extracted=opt, log=log_, method="judge")

        return map_rows(one, data, judge)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        from ...scoring.common import attach_extracted

        df = attach_extracted(data, extracted, self.dataset_name)
        missing = [c for c in self.SCORE_COLUMNS if c not in df.columns]
        if missing:
            raise InputError(f"{self.dataset_name}: the predictions lack column(s) {missing}; score the prediction "
                             "file made from the Video-MME index.")
        df["score"] = [int(str(e) == str(a)) for e, a in zip(df["extracted"], df["answer"])]
        rating = dimension_rating(df, self.dataset_name)
        keys = ["overall"] + DURATIONS
        acc = pd.DataFrame({"split": keys, "acc": [float(rating[k]["overall"]) for k in keys]})
        for group in ("domain", "task_type"):
            for k in rating["overall"][group]:
                acc[k] = [float(rating[d][group][k]) for d in keys]
        rows = df.drop(columns=["extracted"])
        return {"acc": acc, "score.xlsx": rows, "rating.json": rating}

    def outcomes(self, tables: dict) -> Outcomes:
        return outcomes(tables, self.dataset_name, self.video_units(tables["score.xlsx"]))


def outcomes(tables: dict, dataset_name: str, units=None):
    """Per-row outcomes (stats/outcomes.py): one line per question (0/1), by duration, domain and task type;
    resampled by video (`units`, one per row: each video has several questions; else by question)."""
    from ...scoring.rows import accuracy

    df = tables["score.xlsx"].reset_index(drop=True)
    groups = {k: df[k] for k in ("duration", "domain", "task_type")}
    # the candidates are lettered already ('A. ...'), as the prompt lists them
    options = ["\n".join(str(c) for c in candidates_of(line, dataset_name)) for line in df.to_dict("records")]
    unit, unit_name = (df["index"], "question") if units is None else (units, "video")
    return accuracy(df, unit, df["score"], 100.0, unit_name, groups, options=options)
