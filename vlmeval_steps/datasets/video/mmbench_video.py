"""MMBench-Video (upstream vlmeval/dataset/mmbench_video.py and utils/mmbench_video.py at e8e78f05).

Hub opencompass/MMBench-Video: MMBench-Video.tsv (the index upstream md5-checks) and video_pkl/*.pkl,
pickled dicts of video name -> mp4 bytes, unwrapped into video/{name}.mp4. Frames: the base formulas.
Prompts: upstream's "nopack" form (one question per prompt; the packed form is not built here).

Scoring needs an LLM judge (upstream: gpt-4-turbo via run.py's MMBench_Video rule): upstream's system
prompt and 'Question / Groundtruth answer / Candidate answer / Your response' prompt; a reply counts
when Python reads it as an int (upstream's istype(x, int), then int(x)), else -1. Ratings per coarse
and fine dimension: 'all' counts -1 as 0, 'valid' leaves it out; strings with 2 decimals.
"""
from __future__ import annotations

import ast
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ...cells import parse_list
from ...errors import InputError
from .base import VideoBaseDataset
from .mvbench import missing_prediction
from .unpack import unwrap_pickles

SYS = "You are an AI assistant responsible for answering questions about videos."
FRAMES_TMPL_NOPACK = """
You will be provided with {} separate frames uniformly sampled from a video, \
the frames are provided in chronological order of the video.
Please analyze these images and provide the answer to the question about the video content.
Please directly reply with your response to the only question.
"""
JUDGE_SYSTEM_PROMPT = """
As an AI assistant, your task is to evaluate a candidate answer in comparison to a given correct answer.
The question itself, the correct 'groundtruth' answer, and the candidate answer will be provided to you.
Your assessment should range from 0 to 3, \
based solely on the semantic similarity between the groundtruth and the candidate answer, \
disregarding any grammatical differences.
A rating of 0 suggests no similarity, implying the candidate answer is entirely incorrect.
A rating of 1 suggests low similarity, meaning the candidate answer is largely incorrect.
A rating of 2 suggests high similarity, meaning the candidate answer is largely correct.
Lastly, a rating of 3 indicates complete similarity, which means the candidate answer is entirely correct.
Your response should be a single integer from 0, 1, 2, or 3.
"""
JUDGE_TMPL = "Question: {}\nGroundtruth answer: {}\nCandidate answer: {}\nYour response: "

MMV_DIMENSIONS = {
    "CP": ["Video Topic", "Video Emotion", "Video Scene", "Video Style"],
    "FP-S": ["OCR", "Object Recognition", "Attribute Recognition", "Event Recognition", "Human Motion", "Counting"],
    "FP-C": ["Spatial Relationship", "Human-object Interaction", "Human Interaction"],
    "HL": ["Hallucination"],
    "LR": ["Structuralized Image-Text Understanding", "Mathematical Calculation"],
    "AR": ["Physical Property", "Function Reasoning", "Identity Reasoning"],
    "RR": ["Natural Relation", "Physical Relation", "Social Relation"],
    "CSR": ["Common Sense Reasoning"],
    "TR": ["Counterfactual Reasoning", "Causal Reasoning", "Future Prediction"],
}
L3_DIMS = [d for v in MMV_DIMENSIONS.values() for d in v]
MMV_DIMENSIONS["Perception"] = [d for k in ("CP", "FP-C", "FP-S", "HL") for d in MMV_DIMENSIONS[k]]
MMV_DIMENSIONS["Reasoning"] = [d for k in ("LR", "AR", "RR", "CSR", "TR") for d in MMV_DIMENSIONS[k]]
MMV_DIMENSIONS["Overall"] = MMV_DIMENSIONS["Perception"] + MMV_DIMENSIONS["Reasoning"]


def judge_prompt(line) -> str:
    return JUDGE_TMPL.format(line["question"], line["answer"], line["prediction"])


def parse_grade(reply) -> int:
    """Upstream's `int(x) if istype(x, int) else -1`: the reply counts when eval() reads it as an int.

    Read here with ast.literal_eval, never eval; a reply upstream would crash on (eval gives an int but
    int() refuses the text, as for 'True' or '1+1') is -1."""
    if reply is None:
        return -1
    text = str(reply)
    try:
        value = ast.literal_eval(text.strip(" \t"))  # eval() ignores leading and trailing blanks and tabs
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return -1
    if not isinstance(value, int):
        return -1
    try:
        return int(text)
    except ValueError:
        return -1


def _mean2(values) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty dimension is 'nan', as upstream
        return f"{np.mean(values):.2f}"


def dimensions_of(line, dataset_name: str = "MMBench-Video") -> list[str]:
    dims = parse_list(line["dimensions"], brackets=False, tuples=True)
    if dims is None:
        raise InputError(f"{dataset_name}: row index={line['index']}: 'dimensions' is not a list "
                         f"({line['dimensions']!r}).")
    unknown = [d for d in dims if d not in L3_DIMS]
    if unknown:
        raise InputError(f"{dataset_name}: row index={line['index']}: unknown dimension(s) {unknown}; "
                         f"upstream's are {L3_DIMS}.")
    return list(dims)


def dimension_rating(df: pd.DataFrame, dataset_name: str = "MMBench-Video") -> dict:
    coarse = {k: [] for k in MMV_DIMENSIONS}
    fine = {k: [] for k in L3_DIMS}
    for line in df.to_dict("records"):
        cates = dimensions_of(line, dataset_name)
        for c in cates:
            fine[c].append(line["score"])
        for d, members in MMV_DIMENSIONS.items():
            if any(x in members for x in cates):
                coarse[d].append(line["score"])
    return dict(coarse_all={k: _mean2([max(x, 0) for x in v]) for k, v in coarse.items()},
                coarse_valid={k: _mean2([x for x in v if x >= 0]) for k, v in coarse.items()},
                fine_all={k: _mean2([max(x, 0) for x in v]) for k, v in fine.items()},
                fine_valid={k: _mean2([x for x in v if x >= 0]) for k, v in fine.items()})


class MMBenchVideo(VideoBaseDataset):
    TYPE = "Video-VQA"
    HF_REPO = "opencompass/MMBench-Video"
    INDEX_MD5 = "98f7df3eb1007fc375ea6fe88a98e2ff"
    DEFAULT_JUDGE = "gpt-4-turbo"
    JUDGE_REQUIRED = True
    REQUIRED_COLUMNS = ("index", "question", "video", "video_path", "answer", "dimensions")
    SCORE_COLUMNS = ("question", "answer", "dimensions")
    INDEX_FILE = "MMBench-Video.tsv"

    # ----- download
    def unpack(self, root: Path) -> None:
        unwrap_pickles(Path(root))

    def prepare(self, root: Path) -> pd.DataFrame:
        root = Path(root)
        self.unpack(root)
        path = root / self.INDEX_FILE
        if not path.is_file():
            raise InputError(f"{self.dataset_name}: no {path}; the folder is not in {self.HF_REPO}'s layout.")
        data = pd.read_csv(path, sep="\t")
        missing = [c for c in self.REQUIRED_COLUMNS if c != "index" and c not in data.columns]
        if missing:
            raise InputError(f"{path}: missing column(s) {missing} for benchmark {self.dataset_name}; the header "
                             f"has {list(data.columns)}.")
        if "index" not in data.columns:  # upstream numbers the rows itself
            data["index"] = np.arange(len(data))
        for line in data.to_dict("records"):
            video = root / self.video_file(str(line["video"]))
            if not video.is_file():
                raise InputError(f"{self.dataset_name}: row index={line['index']}: video {video} does not exist "
                                 "(video_pkl/*.pkl unpack into video/).")
        return data

    def write_index(self, root: Path, dest: Path) -> pd.DataFrame:
        """The hub's own TSV is the index (its bytes carry upstream's md5)."""
        data = self.prepare(Path(root))
        src = Path(root) / self.INDEX_FILE
        if not (Path(dest).exists() and Path(dest).samefile(src)):
            shutil.copyfile(src, dest)
        return data

    # ----- frames: base formulas on video/{video}.mp4
    def video_file(self, video: str) -> str:
        return f"video/{video}.mp4"

    def line_video(self, line) -> str:
        # upstream's video_llm path: video/ + the base name of the row's video_path
        return "video/" + str(line["video_path"]).replace("\\", "/").rsplit("/", 1)[-1]

    # ----- prompt (upstream's build_prompt_nopack)
    def build_prompt(self, line) -> list[dict]:
        if self.setting.video_llm:
            return [dict(type="text", value=str(line["question"])),
                    dict(type="video", value=self.abspath(self.line_video(line)))]
        frames = self.frame_paths(line)
        message = [dict(type="text", value=FRAMES_TMPL_NOPACK.format(len(frames)))]
        message.extend(dict(type="image", value=p) for p in frames)
        message.append(dict(type="text", value="Question: {}\nAnswer: ".format(line["question"])))
        return message

    # ----- judge-extract and score
    def _need_judge(self, judge) -> None:
        if judge is None:
            raise InputError(f"{self.dataset_name} can only be scored by an LLM judge (upstream default: "
                             f"{self.DEFAULT_JUDGE}); configure judge.model. No score is written without one.")

    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        from ...judge.parallel import map_rows

        self._need_judge(judge)
        missing = [c for c in self.SCORE_COLUMNS if c not in data.columns]
        if missing:
            raise InputError(f"{self.dataset_name}: the predictions lack column(s) {missing}; score the prediction "
                             "file made from the MMBench-Video index.")
        client = getattr(judge, "client", None)
        if client is not None and hasattr(client, "system_prompt"):
            client.system_prompt = JUDGE_SYSTEM_PROMPT  # upstream builds this judge with its system prompt

        def one(line):
            if missing_prediction(line["prediction"]):  # upstream judges only rows with a prediction
                return dict(index=line["index"], extracted=-1, log="no prediction", method="none")
            reply = judge.ask(judge_prompt(line))
            return dict(index=line["index"], extracted=parse_grade(reply), log=str(reply), method="judge")

        return map_rows(one, data, judge)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        from ...scoring.common import attach_extracted

        df = attach_extracted(data, extracted, self.dataset_name)
        df["score"] = [int(x) if x == x and x is not None else -1 for x in df["extracted"]]
        rating = dimension_rating(df, self.dataset_name)
        acc = pd.DataFrame({"Category": list(MMV_DIMENSIONS),
                            "all": [float(rating["coarse_all"][k]) for k in MMV_DIMENSIONS],
                            "valid": [float(rating["coarse_valid"][k]) for k in MMV_DIMENSIONS]})
        rows = df.drop(columns=["extracted"])
        return {"acc": acc, "{judge}_score.xlsx": rows, "{judge}_rating.json": rating}

    def outcomes(self, tables: dict):
        return outcomes(tables, self.dataset_name, self.video_units(tables["{judge}_score.xlsx"]))


def outcomes(tables: dict, dataset_name: str, units: list[str]):
    """Per-row outcomes (stats/outcomes.py): each question's grade (0-3) with -1 (no readable grade) as 0,
    averaged over the questions in some dimension: the leaderboard's Overall 'all' (the table rounds it to
    2 decimals). Resampled by video (a video has several questions). Categories: perception or reasoning,
    the coarse dimensions (the table's rows) and the fine ones; a question may be in several."""
    from ...scoring.rows import frame
    from ...stats.outcomes import Outcomes
    from ...stats.spec import RatioSpec

    df = tables["{judge}_score.xlsx"].reset_index(drop=True)
    dims = [dimensions_of(line, dataset_name) for line in df.to_dict("records")]

    def member(groups):  # each row's groups (of MMV_DIMENSIONS) holding one of its dimensions, as 'a|b'
        return ["|".join(g for g in groups if any(d in MMV_DIMENSIONS[g] for d in ds)) for ds in dims]

    coarse = [k for k in MMV_DIMENSIONS if k not in ("Perception", "Reasoning", "Overall")]
    counted = [int(bool(ds)) for ds in dims]  # a row without a dimension is in no rating, Overall's included
    grades = [int(g) for g in df["score"]]
    values = {"score": [max(g, 0) * c for g, c in zip(grades, counted)], "one": counted}
    groups = {"area": member(("Perception", "Reasoning")), "dimension": member(coarse),
              "fine dimension": ["|".join(ds) for ds in dims]}
    # 'largely correct' (2) or better counts as right in the report's examples and disagreements
    rows = frame(df, units, values, groups, correct=[g >= 2 for g in grades], extracted="score")
    spec = RatioSpec(terms=(("score", "one"),), unit_name="video", groups=tuple(groups), multi=tuple(groups))
    return Outcomes(rows, spec)
