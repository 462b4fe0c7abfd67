"""Tiny local folders in the hub layouts of the four video benchmarks (no network: tests build them).

Each video shows one coloured square moving left to right on black (PyAV writes mpeg4, a codec every
FFmpeg build has); a question asks its colour, so a model that sees the frames can answer.

    mvbench_layout(root)        OpenGVLab/MVBench (main): json/<task>.json x 20, video/... with a zip
                                to unpack, a video/data0613 folder to move, a webm, a gif, a frame folder,
                                time windows
    mvbench_mp4_layout(root)    OpenGVLab/MVBench (branch video): test.json + mp4 files
    videomme_layout(root)       lmms-lab/Video-MME: videomme/test-00000-of-00001.parquet, video_*.zip,
                                subtitle.zip (.srt files; one video has none)
    mmbench_video_layout(root)  opencompass/MMBench-Video: MMBench-Video.tsv + video_pkl/*.pkl

Each returns a dict describing what it wrote (rows, videos with their frame counts and rates) so
tests can compare against it.
"""
from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

COLOURS = {"red": (230, 30, 30), "green": (30, 200, 30), "blue": (40, 60, 230), "yellow": (230, 220, 30)}
NAMES = list(COLOURS)


def frame_image(colour: str, t: int, n: int, size: int = 32) -> np.ndarray:
    """A square of `colour` at horizontal position t/n across a black frame (RGB uint8)."""
    img = np.zeros((size, size, 3), dtype=np.uint8)
    side = size // 3
    x = int((size - side) * t / max(n - 1, 1))
    y = (size - side) // 2
    img[y:y + side, x:x + side] = COLOURS[colour]
    return img


def write_video(path: Path, colour: str, n_frames: int = 16, fps: int = 8, size: int = 32) -> Path:
    """An mp4 (mpeg4), or a webm (VP8) when the name ends in .webm, as MVBench's ssv2 videos are."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libvpx" if path.suffix == ".webm" else "mpeg4", rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for t in range(n_frames):
            frame = av.VideoFrame.from_ndarray(frame_image(colour, t, n_frames, size), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_gif(path: Path, colour: str, n_frames: int = 10, fps: int = 10, size: int = 32) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = [Image.fromarray(frame_image(colour, t, n_frames, size)) for t in range(n_frames)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
    return path


def write_frame_folder(path: Path, colour: str, n_frames: int = 12, size: int = 32) -> Path:
    """MVBench's TVQA layout: 00001.jpg, 00002.jpg, ... (read at 3 fps)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for t in range(n_frames):
        Image.fromarray(frame_image(colour, t, n_frames, size)).save(path / f"{t + 1:05d}.jpg")
    return path


def _srt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def srt_text(entries: list[tuple[float, float, str]]) -> str:
    return "".join(f"{i}\n{_srt_time(a)} --> {_srt_time(b)}\n{text}\n\n" for i, (a, b, text) in enumerate(entries, 1))


def colour_question(colour: str, offset: int = 0) -> tuple[str, list[str], str]:
    """('What colour is the square?', candidates, answer) with the answer at a rotating position."""
    cands = NAMES[offset % 4:] + NAMES[:offset % 4]
    return "What colour is the square?", cands, colour


# ----- MVBench (main branch) -------------------------------------------------------------------------------
def mvbench_layout(root: Path) -> dict:
    from vlmeval_steps.datasets.video.mvbench import TASKS

    root = Path(root)
    (root / "json").mkdir(parents=True, exist_ok=True)
    items = {task: [] for task in TASKS}
    videos = {}
    # Action Sequence: one Charades video, two time windows; it arrives under video/data0613 (moved by unpack)
    write_video(root / "video/data0613/star/Charades_v1_480/AS001.mp4", "red", n_frames=40, fps=8)
    videos["video/star/Charades_v1_480/AS001.mp4"] = dict(n_frames=40, fps=8)
    for n, (start, end) in enumerate([(0.5, 2.0), (2.5, 4.5)]):
        q, cands, ans = colour_question("red", n)
        items["Action Sequence"].append(dict(video="AS001.mp4", question=q, candidates=cands, answer=ans,
                                             start=start, end=end))
    # Fine-grained Action: a gif (upstream reads it as a video)
    write_gif(root / "video/Moments_in_Time_Raw/videos/fga_1.gif", "green", n_frames=10, fps=10)
    videos["video/Moments_in_Time_Raw/videos/fga_1.gif"] = dict(n_frames=10, fps=10)
    q, cands, ans = colour_question("green", 1)
    items["Fine-grained Action"].append(dict(video="fga_1.gif", question=q, candidates=cands, answer=ans))
    # Action Antonym: a webm (Something-Something v2)
    write_video(root / "video/ssv2_video/77.webm", "blue", n_frames=20, fps=10)
    videos["video/ssv2_video/77.webm"] = dict(n_frames=20, fps=10)
    q, cands, ans = colour_question("blue", 0)
    items["Action Antonym"].append(dict(video="77.webm", question=q, candidates=cands, answer=ans))
    # Object Existence: CLEVRER videos shipped in a zip inside video/
    tmp = root / "_build"
    write_video(tmp / "clevrer/video_validation/video_10000.mp4", "blue", n_frames=24, fps=8)
    with zipfile.ZipFile(root / "video/clevrer.zip", "w") as zf:
        zf.write(tmp / "clevrer/video_validation/video_10000.mp4", "clevrer/video_validation/video_10000.mp4")
    for p in sorted(tmp.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    tmp.rmdir()
    videos["video/clevrer/video_validation/video_10000.mp4"] = dict(n_frames=24, fps=8)
    q, cands, ans = colour_question("blue", 2)
    items["Object Existence"].append(dict(video="video_10000.mp4", question=q, candidates=cands, answer=ans))
    # Episodic Reasoning: a TVQA frame folder with a time window
    write_frame_folder(root / "video/tvqa/frames_fps3_hq/castle_s01e01_seg01_clip_00", "yellow", n_frames=12)
    videos["video/tvqa/frames_fps3_hq/castle_s01e01_seg01_clip_00"] = dict(n_frames=12, fps=3)
    q, cands, ans = colour_question("yellow", 3)
    items["Episodic Reasoning"].append(dict(video="castle_s01e01_seg01_clip_00", question=q, candidates=cands,
                                            answer=ans, start=0.5, end=3.5))
    for task, (json_file, *_rest) in TASKS.items():
        (root / "json" / json_file).write_text(json.dumps(items[task], indent=1))
    return dict(items=items, videos=videos)


# ----- MVBench_MP4 (branch video) ------------------------------------------------------------------------
def mvbench_mp4_layout(root: Path) -> dict:
    root = Path(root)
    spec = [("Action Sequence", "star/Charades_v1_480/", "AS001.mp4", "red", 40),
            ("Object Existence", "clevrer/video_validation/", "video_10000.mp4", "blue", 24),
            ("Moving Count", "clevrer/video_validation/", "video_10001.mp4", "green", 300)]
    index = {"root": {}, "meta": {}}
    videos = {}
    for n, (task, prefix, name, colour, frames) in enumerate(spec):
        write_video(root / prefix / name, colour, n_frames=frames, fps=8)
        videos[prefix + name] = dict(n_frames=frames, fps=8)
        q, cands, ans = colour_question(colour, n)
        index["root"][task] = prefix
        index["meta"][task] = [dict(video=name, question=q, candidates=cands, answer=ans)]
    (root / "test.json").write_text(json.dumps(index, indent=1))
    return dict(index=index, videos=videos)


# ----- Video-MME ---------------------------------------------------------------------------------------------
VIDEOMME_ROWS = [  # videoID, duration, domain, sub_category, task_type, colour
    ("001", "short", "Knowledge", "Astronomy", "Attribute Perception", "red"),
    ("002", "medium", "Life Record", "Travel", "Counting Problem", "blue"),
    ("003", "long", "Sports Competition", "Football", "Object Recognition", "green"),
]


def videomme_layout(root: Path) -> dict:
    root = Path(root)
    tmp = root / "_build"
    rows, videos = [], {}
    for n, (vid, duration, domain, sub, task, colour) in enumerate(VIDEOMME_ROWS):
        frames = {"short": 24, "medium": 48, "long": 96}[duration]
        write_video(tmp / "data" / f"{vid}.mp4", colour, n_frames=frames, fps=8)
        videos[vid] = dict(n_frames=frames, fps=8)
        _, cands, ans = colour_question(colour, n)
        options = [f"{chr(65 + i)}. {c}" for i, c in enumerate(cands)]
        rows.append(dict(video_id=f"{n + 1:03d}", duration=duration, domain=domain, sub_category=sub,
                         url=f"https://example.invalid/{vid}", videoID=vid, question_id=f"{vid}-1",
                         task_type=task, question="What colour is the square?", options=np.array(options),
                         answer=chr(65 + cands.index(ans))))
    (root / "videomme").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(root / "videomme/test-00000-of-00001.parquet")
    # two video zips (files inside a folder: upstream keeps only base names), one subtitle zip
    with zipfile.ZipFile(root / "videos_chunked_01.zip", "w") as zf:
        for vid in ("001", "002"):
            zf.write(tmp / "data" / f"{vid}.mp4", f"data/{vid}.mp4")
    with zipfile.ZipFile(root / "videos_chunked_02.zip", "w") as zf:
        zf.write(tmp / "data" / "003.mp4", "data/003.mp4")
    subtitles = {  # the square's colour is said while it is on screen; 003 has no subtitle file
        "001": [(0.0, 1.0, "A red square appears."), (1.0, 2.5, "It moves\\Nto the right.")],
        "002": [(0.5, 3.0, "Blue, moving."), (4.0, 5.5, "   ")],
    }
    with zipfile.ZipFile(root / "subtitle.zip", "w") as zf:
        for vid, entries in subtitles.items():
            zf.writestr(f"subtitle/{vid}.srt", srt_text(entries))
    for p in sorted(tmp.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    tmp.rmdir()
    return dict(rows=rows, videos=videos, subtitles=subtitles)


# ----- MMBench-Video -----------------------------------------------------------------------------------------
MMBV_ROWS = [  # video, question, answer, dimensions
    ("vid_a", "What colour is the square?", "red", ["Attribute Recognition"]),
    ("vid_a", "Which way does the square move?", "left to right", ["Human Motion", "Spatial Relationship"]),
    ("vid_b", "What colour is the square?", "blue", ["Attribute Recognition", "Counterfactual Reasoning"]),
]


def mmbench_video_layout(root: Path) -> dict:
    root = Path(root)
    (root / "video_pkl").mkdir(parents=True, exist_ok=True)
    tmp = root / "_build"
    blobs, videos = {}, {}
    for name, colour, frames in (("vid_a", "red", 32), ("vid_b", "blue", 64)):
        blobs[name] = write_video(tmp / f"{name}.mp4", colour, n_frames=frames, fps=8).read_bytes()
        videos[name] = dict(n_frames=frames, fps=8)
    with open(root / "video_pkl/part_0.pkl", "wb") as fh:
        pickle.dump({"vid_a": blobs["vid_a"]}, fh)
    with open(root / "video_pkl/part_1.pkl", "wb") as fh:
        pickle.dump({"vid_b": blobs["vid_b"]}, fh)
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()
    data = pd.DataFrame([dict(index=i, video=v, video_type="demo", question=q, answer=a, dimensions=str(d),
                              video_path=f"./video/{v}.mp4") for i, (v, q, a, d) in enumerate(MMBV_ROWS)])
    data.to_csv(root / "MMBench-Video.tsv", sep="\t", index=False)
    return dict(rows=data, videos=videos)


LAYOUTS = {"MVBench": mvbench_layout, "MVBench_MP4": mvbench_mp4_layout, "Video-MME": videomme_layout,
           "MMBench-Video": mmbench_video_layout}
