"""MVBench and MVBench_MP4 (upstream vlmeval/dataset/mvbench.py at e8e78f05).

MVBench (hub OpenGVLab/MVBench, main): one JSON file per task under json/, videos under video/
(zips unpacked there first), each task with its folder prefix, its kind (video, or a folder of
frames read at 3 fps) and whether rows carry a time window (`bound`: start, end in seconds).
MVBench_MP4 (same repository, branch `video`): test.json lists every task's rows and folder.

Frames: MVBench's get_index (the middle of nframe equal segments of the window, clamped to the
video), MVBench_MP4's get_index_by_frame (the same over the whole video) or, with fps, the base
formula. MVBench refuses fps, as upstream.

Scoring (upstream's evaluate + check_ans_with_model): the answer is "(X) text" for the answer's
position X among the candidates. A prediction scores 1 when its first space-separated word,
lower-cased and without dots, is a substring of "(x)" — so "A", "(A)", "A)" and also "(" or an
empty prediction count as right — or when "(x)" is a substring of that word; otherwise when
upstream's can_infer (then the judge, if configured) picks the answer's letter. A failed
prediction scores -1. The rating counts a row as correct when its score is truthy: -1 and an
empty score (no prediction) count as correct too, as upstream's `if item['score']` does.
"""
from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from ...cells import parse_list
from ...errors import InputError
from ...judge.matching import FAIL_MSG, can_infer
from ..mcq import NO_JUDGE_LOG, options_of
from .base import Clip, VideoBaseDataset
from .unpack import extract_zip
from ...stats.outcomes import Outcomes

SYS = """Carefully watch the video and pay attention to the cause and sequence of events, \
the detail and movement of objects, and the action and pose of persons. \
Based on your observations, select the best option that accurately addresses the question.
"""
ONLY_BEST = "\nOnly give the best option."
ANSWER_PREFIX = "Best option:("

# task -> (json file, folder of its videos, kind, rows have start & end): upstream's type_data_list, in its order
TASKS: dict[str, tuple[str, str, str, bool]] = {
    "Action Sequence": ("action_sequence.json", "video/star/Charades_v1_480/", "video", True),
    "Action Prediction": ("action_prediction.json", "video/star/Charades_v1_480/", "video", True),
    "Action Antonym": ("action_antonym.json", "video/ssv2_video/", "video", False),
    "Fine-grained Action": ("fine_grained_action.json", "video/Moments_in_Time_Raw/videos/", "video", False),
    "Unexpected Action": ("unexpected_action.json", "video/FunQA_test/test/", "video", False),
    "Object Existence": ("object_existence.json", "video/clevrer/video_validation/", "video", False),
    "Object Interaction": ("object_interaction.json", "video/star/Charades_v1_480/", "video", True),
    "Object Shuffle": ("object_shuffle.json", "video/perception/videos/", "video", False),
    "Moving Direction": ("moving_direction.json", "video/clevrer/video_validation/", "video", False),
    "Action Localization": ("action_localization.json", "video/sta/sta_video/", "video", True),
    "Scene Transition": ("scene_transition.json", "video/scene_qa/video/", "video", False),
    "Action Count": ("action_count.json", "video/perception/videos/", "video", False),
    "Moving Count": ("moving_count.json", "video/clevrer/video_validation/", "video", False),
    "Moving Attribute": ("moving_attribute.json", "video/clevrer/video_validation/", "video", False),
    "State Change": ("state_change.json", "video/perception/videos/", "video", False),
    "Fine-grained Pose": ("fine_grained_pose.json", "video/nturgbd/", "video", False),
    "Character Order": ("character_order.json", "video/perception/videos/", "video", False),
    "Egocentric Navigation": ("egocentric_navigation.json", "video/vlnqa/", "video", False),
    "Episodic Reasoning": ("episodic_reasoning.json", "video/tvqa/frames_fps3_hq/", "frame", True),
    "Counterfactual Inference": ("counterfactual_inference.json", "video/clevrer/video_validation/", "video", False),
}
ITEM_KEYS = ("video", "question", "answer", "candidates")


# ----- upstream's formulas -------------------------------------------------------------------------
def get_index(bound, fps: float, max_frame: int, num_segments: int, first_idx: int = 0) -> list[int]:
    """MVBench.get_index: the middle of `num_segments` equal segments of [start, end] (seconds)."""
    start, end = (bound[0], bound[1]) if bound else (-100000, 100000)
    start_idx = max(first_idx, round(start * fps))
    end_idx = min(round(end * fps), max_frame)
    seg_size = float(end_idx - start_idx) / num_segments
    return [int(start_idx + (seg_size / 2) + np.round(seg_size * idx)) for idx in range(num_segments)]


def get_index_by_frame(max_frame: int, num_segments: int) -> list[int]:
    """MVBench_MP4.get_index_by_frame (max_frame = the number of frames - 1)."""
    seg_size = float(max_frame) / num_segments
    return [int((seg_size / 2) + np.round(seg_size * idx)) for idx in range(num_segments)]


def candidates_of(line, dataset_name: str = "MVBench") -> list:
    value = line["candidates"]
    if isinstance(value, (list, tuple, np.ndarray)):
        return list(value)
    out = parse_list(value, brackets=False, tuples=True)  # upstream eval()s the cell
    if out is None:
        raise InputError(f"{dataset_name}: row index={line['index']}: 'candidates' is not a list ({value!r}).")
    return out


def qa_template(line, dataset_name: str = "MVBench") -> tuple[str, str]:
    question = f"Question: {line['question']}\n"
    question += "Options:\n"
    answer = line["answer"]
    answer_idx = -1
    for idx, c in enumerate(candidates_of(line, dataset_name)):
        question += f"({chr(ord('A') + idx)}) {c}\n"
        if c == answer:
            answer_idx = idx
    question = question.rstrip()
    answer = f"({chr(ord('A') + answer_idx)}) {answer}"
    return question, answer


def check_ans(pred: str, gt: str) -> bool:
    """Upstream's check_ans: the first word of the prediction against '(x)' (see the module doc)."""
    pred_list = pred.lower().strip().split(" ")
    pred_option = pred_list[0]
    gt_list = gt.lower().strip().split(" ")
    gt_option = gt_list[0]
    # (upstream also strips a final '.' from the answer text, which it never uses)
    return pred_option.replace(".", "") in gt_option or gt_option in pred_option


def lettered_item(line, cands: list) -> dict:
    """The row as upstream's evaluate hands it to answer extraction: options as columns A, B, ...
    and `answer` replaced by its letter (compared as upstream compares, option by option)."""
    item = dict(line)
    for i, option in enumerate(cands):
        item[chr(ord("A") + i)] = option
        if option == item["answer"]:
            item["answer"] = chr(ord("A") + i)
    return item


def upstream_truthy(score) -> bool:
    """`if item['score']` on a score read back from upstream's xlsx: NaN and -1 are truthy."""
    if score is None:
        return True  # an empty cell reads back as NaN
    try:
        return bool(float(score)) or math.isnan(float(score))
    except (TypeError, ValueError):
        return bool(score)


def dimension_rating(task_types, scores) -> dict:
    """Upstream's get_dimension_rating: task -> [correct, total, 'xx.xx%'], then 'overall'."""
    board: dict = {}
    for task, score in zip(task_types, scores):
        board.setdefault(task, [0, 0])
        board[task][1] += 1
        if upstream_truthy(score):
            board[task][0] += 1
    correct = sum(v[0] for v in board.values())
    total = sum(v[1] for v in board.values())
    for value in board.values():
        value.append(f"{value[0] / value[1] * 100:.2f}%")
    board["overall"] = [correct, total, f"{correct / total * 100:.2f}%" if total else "nan%"]
    return board


def missing_prediction(pred) -> bool:
    """No prediction as upstream's evaluate sees one: NaN after pandas read the file. read_predictions hands
    every prediction over as str(), so NaN (an empty cell, 'None', 'NA', ...) arrives as 'nan'."""
    return pred is None or (isinstance(pred, float) and math.isnan(pred)) or pred == "nan"


def _is_true(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def _seconds(value) -> str:
    return repr(float(value))


def write_llm_video(spec: dict, root: Path, out_root: Path) -> Path:
    """Make the file upstream's load_into_video_and_process makes with moviepy (libx264): a gif or webm as
    mp4, a frame folder as an mp4 at 3 fps, and for a window the part from start to min(end, duration).
    Written to out_root/spec['path'] (atomically); returns that path. Frames are kept, not resampled."""
    import av
    from PIL import Image

    source, target = Path(root) / spec["source"], Path(out_root) / spec["path"]
    if spec["convert"] == "frames_mp4":
        files = sorted(source.glob("*.jpg"))
        fps = float(spec["fps"])
        frames = [(i / fps, f) for i, f in enumerate(files)]
        load = lambda f: Image.open(f).convert("RGB")  # noqa: E731
    else:
        with av.open(str(source)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or 25)
            frames = [((frame.time if frame.time is not None else i / fps), frame.to_image())
                      for i, frame in enumerate(container.decode(stream))]
        load = lambda im: im  # noqa: E731
    if not frames:
        raise InputError(f"{source}: no frames to make {target.name} from.")
    if spec["start"] is not None:
        end = min(float(spec["end"]), frames[-1][0] + 1 / fps)
        frames = [(t, f) for t, f in frames if float(spec["start"]) <= t < end] or frames[-1:]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}.mp4")
    with av.open(str(tmp), mode="w") as out:
        first = load(frames[0][1])
        stream = out.add_stream("libx264", rate=round(fps) or 1)
        stream.width, stream.height = first.width // 2 * 2, first.height // 2 * 2  # yuv420p needs even sides
        stream.pix_fmt = "yuv420p"
        for _, f in frames:
            im = load(f).crop((0, 0, stream.width, stream.height))
            for packet in stream.encode(av.VideoFrame.from_image(im)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    os.replace(tmp, target)
    return target


# ----- the benchmarks ------------------------------------------------------------------------------
class MVBench(VideoBaseDataset):
    TYPE = "Video-MCQ"
    HF_REPO = "OpenGVLab/MVBench"
    INDEX_MD5 = "fd21d36522cdedd46d84dc46715ad832"
    # upstream's run.py assigns no judge to Video-MCQ; evaluate() then defaults to chatgpt-0125
    DEFAULT_JUDGE = "chatgpt-0125"
    REQUIRED_COLUMNS = ("index", "question", "video", "prefix", "data_type", "bound", "start", "end", "answer",
                        "candidates", "task_type")
    SCORE_COLUMNS = ("answer", "candidates", "task_type")
    #: where converted video_llm files (llm_conversions) are; None: beside the source, as upstream writes them
    llm_root: Path | None = None

    # ----- download
    def unpack(self, root: Path) -> None:
        """Upstream's unzip_hf_zip (every zip in video/, into video/) and move_files (video/data0613/a/b/* -> video/a/b/)."""
        video = Path(root) / "video"
        if video.is_dir():
            for z in sorted(video.glob("*.zip")):
                import zipfile
                try:
                    with zipfile.ZipFile(z) as zf:
                        names = [n for n in zf.namelist() if not n.endswith("/")]
                except zipfile.BadZipFile as exc:
                    raise InputError(f"{self.dataset_name}: {z} is not a readable zip ({exc}). Download it again.") \
                        from None
                # upstream extracts every zip on every call; once is enough when all its files are there
                if not all((video / n).exists() for n in names):
                    extract_zip(z, video)
        src = video / "data0613"
        if not src.is_dir():
            return
        for sub in sorted(p for p in src.iterdir() if p.is_dir()):
            for subsub in sorted(p for p in sub.iterdir() if p.is_dir()):
                target = video / sub.name / subsub.name
                target.mkdir(parents=True, exist_ok=True)
                for item in sorted(subsub.iterdir()):
                    if not (target / item.name).exists():
                        shutil.move(str(item), str(target / item.name))

    def _index_json(self, path: Path, missing: str):
        """An index file of the downloaded folder (both layouts read theirs alike); `missing` says what is wrong."""
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{self.dataset_name}: {missing}") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{self.dataset_name}: {path} is not valid JSON ({exc}).") from None

    def prepare(self, root: Path) -> pd.DataFrame:
        root = Path(root)
        self.unpack(root)
        rows = []
        for task, (json_file, prefix, kind, bound) in TASKS.items():
            path = root / "json" / json_file
            items = self._index_json(path, f"task {task!r} has no index file {path}; the folder is not in "
                                           f"{self.HF_REPO}'s layout (json/<task>.json).")
            for n, item in enumerate(items):
                missing = [k for k in ITEM_KEYS if k not in item]
                if missing:
                    raise InputError(f"{self.dataset_name}: {path} item {n} lacks {missing}.")
                if not (root / prefix / item["video"]).exists():
                    # upstream: "NTURGB-D zip file is removed according to MVBench" and an exception naming the file
                    hint = (" MVBench removed the NTU RGB+D zip: see huggingface.co/datasets/OpenGVLab/MVBench for "
                            "how to get these videos." if "nturgbd" in prefix else "")
                    raise InputError(f"{self.dataset_name}: {path} item {n} (task {task!r}): video "
                                     f"{root / prefix / item['video']} does not exist.{hint}")
                rows.append({"task_type": task, "prefix": prefix, "data_type": kind, "bound": bound,
                             "start": item["start"] if "start" in item else None,
                             "end": item["end"] if "end" in item else None,
                             "video": item["video"], "question": item["question"], "answer": item["answer"],
                             "candidates": item["candidates"]})
        data = pd.DataFrame(rows)
        return data.assign(index=range(len(data)))

    # ----- frames
    def _bound(self, line):
        return (float(line["start"]), float(line["end"])) if _is_true(line["bound"]) else None

    def clip_key(self, line) -> str:
        key = f"{line['prefix']}{line['video']}"
        bound = self._bound(line)
        # upstream keeps frames by video name alone; one clip per time window keeps windows apart
        return f"{key}@{_seconds(bound[0])}-{_seconds(bound[1])}" if bound else key

    def line_video(self, line) -> str:
        return f"{line['prefix']}{line['video']}"

    def clips(self, data: pd.DataFrame) -> list[Clip]:
        out = {}
        for line in data.to_dict("records"):
            bound = self._bound(line)
            key = self.clip_key(line)
            out[key] = Clip(key=key, video=self.line_video(line), start=bound[0] if bound else None,
                            end=bound[1] if bound else None,
                            kind="frames" if line["data_type"] == "frame" else "video")
        return [out[k] for k in sorted(out)]

    def _num_segments(self) -> int:
        if self.setting.fps > 0:
            raise InputError("MVBench does not support fps setting, please transfer to MVBench_MP4! "
                             "(set nframe instead, or evaluate MVBench_MP4)")
        if self.setting.nframe <= 0:
            raise InputError(f"{self.dataset_name}: frames need nframe > 0 (upstream's configs use 8 or 64).")
        return self.setting.nframe

    def frame_indices(self, clip: Clip, n_frames: int, video_fps: float) -> list[int]:
        num_segments = self._num_segments()
        bound = (clip.start, clip.end) if clip.start is not None else None
        if clip.kind == "frames":
            # read_frame: files 00001.jpg..., max_frame = the folder's entry count, always at 3 fps (a folder
            # has no rate of its own: whatever the caller passes is ignored); indices run 1..n_frames
            return get_index(bound, self.FOLDER_FPS, n_frames, num_segments, first_idx=1)
        return get_index(bound, float(video_fps), n_frames - 1, num_segments, first_idx=0)

    # ----- prompt
    def llm_video(self, line) -> dict:
        """The file upstream's load_into_video_and_process hands a video model, and how it is made:
        {'path': relative path, 'source': relative path, 'convert': None | 'mp4' | 'frames_mp4',
        'start', 'end' (a subclip when bound), 'fps' (for frames_mp4)}. The workflow's video stage makes it."""
        source = self.line_video(line)
        base, ext = os.path.splitext(source)
        convert = None
        if line["data_type"] == "gif" or ext == ".webm":
            path, convert = source.replace(ext, ".mp4"), "mp4"
        elif line["data_type"] == "frame":
            path, convert = f"{source}.mp4", "frames_mp4"
        else:
            path = source
        bound = self._bound(line)
        if bound:
            b, suffix = os.path.splitext(path)
            # upstream's name is {b}_processed{suffix} for every window of the video, so all its rows get the
            # first window made; the window in the name keeps each row's own (as the frames' clip keys do)
            path = f"{b}_processed_{_seconds(bound[0])}-{_seconds(bound[1])}{suffix}"
        return dict(path=path, source=source, convert=convert, start=bound[0] if bound else None,
                    end=bound[1] if bound else None, fps=self.FOLDER_FPS)

    def llm_conversions(self, data: pd.DataFrame) -> list[dict]:
        """The files video_llm prompts need made (llm_video specs with a conversion or a window), one per path."""
        specs = {}
        for line in data.to_dict("records"):
            spec = self.llm_video(line)
            if spec["convert"] or spec["start"] is not None:
                specs[spec["path"]] = spec
        return [specs[k] for k in sorted(specs)]

    def video_item(self, line) -> dict:
        spec = self.llm_video(line)
        made = spec["convert"] or spec["start"] is not None
        # a converted file lives under llm_root when the workflow gives one (upstream: beside the source)
        base = self.llm_root if (made and self.llm_root is not None) else self.root
        return dict(type="video", value=str(Path(base) / spec["path"]) if base is not None else spec["path"])

    def check_setting(self) -> None:
        """MVBench takes nframe only: fps raises upstream's message (MVBench_MP4 takes either)."""
        if self.setting.fps > 0:
            self._num_segments()

    def build_prompt(self, line) -> list[dict]:
        self.check_setting()
        question, _ = qa_template(line, self.dataset_name)
        message = [dict(type="text", value=SYS, role="system")]
        if self.setting.video_llm:
            message.append(self.video_item(line))
        else:
            message.extend(dict(type="image", value=p) for p in self.frame_paths(line))
        message.append(dict(type="text", value=question))
        message.append(dict(type="text", value=ONLY_BEST))
        message.append(dict(type="text", value=ANSWER_PREFIX, role="assistant"))
        return message

    # ----- judge-extract and score
    def extract(self, data: pd.DataFrame, judge=None) -> list[dict]:
        from ...judge.parallel import map_rows

        def one(line):
            pred = line["prediction"]
            if missing_prediction(pred):
                # upstream skips the row and leaves its score empty (which its rating counts as correct)
                return dict(index=line["index"], extracted=None, log="no prediction", method="none")
            pred = str(pred)
            cands = candidates_of(line, self.dataset_name)
            _, gt = qa_template(line, self.dataset_name)
            if FAIL_MSG in pred:
                return dict(index=line["index"], extracted=-1, log="the prediction failed at inference",
                            method="none")
            if check_ans(pred, gt):
                return dict(index=line["index"], extracted=1, log=f"check_ans: {gt}", method="rule")
            item = lettered_item(line, cands)
            choices = options_of(item)
            opt = can_infer(item["prediction"], choices)
            method, log = "rule", str(item["prediction"])
            if not opt:
                if judge is None:
                    opt, method, log = "Z", "none", NO_JUDGE_LOG
                else:
                    from ...judge.mcq import extract_with_judge

                    opt, log = extract_with_judge(judge, item, choices, self.upstream_name)
                    method = "judge"
            return dict(index=line["index"], extracted=int(opt == item["answer"]), log=log, method=method)

        return map_rows(one, data, judge)

    def score(self, data: pd.DataFrame, extracted: pd.DataFrame) -> dict:
        from ...scoring.common import attach_extracted

        df = attach_extracted(data, extracted, self.dataset_name)
        missing = [c for c in ("task_type",) if c not in df.columns]
        if missing:
            raise InputError(f"{self.dataset_name}: the predictions lack column(s) {missing}; score the prediction "
                             f"file made from the {self.dataset_name} index.")
        scores = [None if (s is None or (isinstance(s, float) and math.isnan(s))) else int(s)
                  for s in df["extracted"]]
        rating = dimension_rating(df["task_type"].astype(str), scores)
        acc = pd.DataFrame({"Category": list(rating), "correct": [v[0] for v in rating.values()],
                            "total": [v[1] for v in rating.values()],
                            "acc": [float(v[2].rstrip("%")) if v[1] else float("nan") for v in rating.values()]})
        rows = df.drop(columns=["extracted"]).assign(score=scores)
        return {"acc": acc, "score.xlsx": rows, "rating.json": rating}

    def outcomes(self, tables: dict) -> Outcomes:
        return outcomes(tables, self.dataset_name, self.video_units(tables["score.xlsx"]))


class MVBench_MP4(MVBench):
    HF_REVISION = "video"
    INDEX_MD5 = "5c8c6f8b7972c2de65a629590f7c42f5"
    REQUIRED_COLUMNS = ("index", "question", "video", "prefix", "answer", "candidates", "task_type")

    def unpack(self, root: Path) -> None:
        """The `video` branch holds plain mp4 files: nothing to unpack."""

    def prepare(self, root: Path) -> pd.DataFrame:
        path = Path(root) / "test.json"
        index = self._index_json(path, f"no {path}; the folder is not in the layout of {self.HF_REPO} "
                                       f"(branch {self.HF_REVISION}).")
        for key in ("root", "meta"):
            if key not in index:
                raise InputError(f"{self.dataset_name}: {path} has no {key!r} entry.")
        rows = []
        for task, items in index["meta"].items():
            if task not in index["root"]:
                raise InputError(f"{self.dataset_name}: {path}: task {task!r} has no folder in 'root'.")
            prefix = index["root"][task]
            for n, item in enumerate(items):
                missing = [k for k in ITEM_KEYS if k not in item]
                if missing:
                    raise InputError(f"{self.dataset_name}: {path} task {task!r} item {n} lacks {missing}.")
                if not (Path(root) / prefix / item["video"]).is_file():
                    raise InputError(f"{self.dataset_name}: {path} task {task!r} item {n}: video "
                                     f"{Path(root) / prefix / item['video']} does not exist.")
                rows.append({"task_type": task, "prefix": prefix, "video": item["video"],
                             "question": item["question"], "answer": item["answer"],
                             "candidates": item["candidates"]})
        data = pd.DataFrame(rows)
        return data.assign(index=range(len(data)))

    def _bound(self, line):
        return None

    def line_video(self, line) -> str:
        return os.path.join(str(line["prefix"]), str(line["video"]))

    def clip_key(self, line) -> str:
        return self.line_video(line)

    def clips(self, data: pd.DataFrame) -> list[Clip]:
        keys = sorted({self.clip_key(line) for line in data.to_dict("records")})
        return [Clip(key=k, video=k) for k in keys]

    def frame_indices(self, clip: Clip, n_frames: int, video_fps: float) -> list[int]:
        if self.setting.fps > 0:  # get_index_by_fps: the base formula
            return VideoBaseDataset.frame_indices(self, clip, n_frames, video_fps)
        if self.setting.nframe <= 0:
            raise InputError(f"{self.dataset_name}: frames need nframe > 0 or fps > 0.")
        return get_index_by_frame(n_frames - 1, self.setting.nframe)

    def llm_conversions(self, data: pd.DataFrame) -> list[dict]:
        return []  # video models get the mp4 files as they are

    def video_item(self, line) -> dict:
        return dict(type="video", value=self.abspath(self.line_video(line)))

    def check_setting(self) -> None:
        pass  # nframe or fps


def outcomes(tables: dict, dataset_name: str, units=None):
    """Per-row outcomes (stats/outcomes.py): one line per question, correct as the rating counts it
    (a truthy score), by task; resampled by video (`units`, one per row; else by question)."""
    from ...scoring.rows import accuracy, candidate_lines

    df = tables["score.xlsx"].reset_index(drop=True)
    counted = [int(upstream_truthy(s)) for s in df["score"]]
    options = candidate_lines(candidates_of(line, dataset_name) for line in df.to_dict("records"))
    unit, unit_name = (df["index"], "question") if units is None else (units, "video")
    return accuracy(df, unit, counted, 100.0, unit_name, {"task_type": df["task_type"]}, extracted="score",
                    options=options)
