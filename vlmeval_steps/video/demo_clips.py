"""The demo video benchmark: short clips of one coloured shape moving across a gray field.

Written in a hub-like layout (`videos/{id}.mp4` + `questions.json`, as the video benchmarks' hub
repositories hold videos beside a question file); DemoVideo.prepare turns it into the index TSV.
Each clip gets a colour question and a shape question with four options, in the tiny demo model's
prompt format; the shapes are drawn by the image demo's code (shapes.py) with seeds of their own.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from PIL import Image

from ..demo.shapes import COLORS, SHAPES, SIZE, draw, sample_question

VIDEO_SEED = 4048
N_VIDEOS = 24
FPS = 8
SECONDS = 3


def clip_frames(shape: str, color: str, rng: random.Random, n: int = FPS * SECONDS) -> list[Image.Image]:
    """The shape drawn once, then swayed a few pixels to and fro (it stays whole, as in the image demo)."""
    still = draw(shape, color, rng)
    background = still.getpixel((0, 0))
    ax, ay = rng.choice([(6, 0), (0, 6), (5, 5), (-5, 5)])
    frames = []
    for t in range(n):
        phase = (t % 12) / 12
        k = 4 * phase - 1 if phase < 0.5 else 3 - 4 * phase  # a triangle wave in [-1, 1]
        frame = Image.new("RGB", (SIZE, SIZE), background)
        frame.paste(still, (round(ax * k), round(ay * k)))
        frames.append(frame)
    return frames


def write_video(path: str | Path, frames: list[Image.Image], fps: int = FPS, codec: str = "libx264") -> None:
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].size
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "23", "threads": "1"}  # one thread: the same bytes on every machine
        for im in frames:
            for packet in stream.encode(av.VideoFrame.from_image(im)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write(out: str | Path, n_videos: int = N_VIDEOS, seed: int = VIDEO_SEED) -> Path:
    out = Path(out)
    rng = random.Random(seed)
    questions = []
    for i in range(1, n_videos + 1):
        shape, color = SHAPES[i % len(SHAPES)], list(COLORS)[(i * 5 // len(SHAPES)) % len(COLORS)]
        video = f"clip{i:03d}"
        write_video(out / "videos" / f"{video}.mp4", clip_frames(shape, color, rng))
        for kind, truth in (("color", color), ("shape", shape)):
            question, options, answer = sample_question(kind, truth, rng)
            questions.append(dict(video=video, question=question, options=options, answer=answer, category=kind))
    (out / "questions.json").write_text(json.dumps(questions, indent=1) + "\n")
    return out
