"""Helpers for the per-type benchmark tests: TSVs in upstream's layout (Pillow-drawn PNGs,
base64 in the TSV), prediction files as the merge stage writes them, and the judge and score
stages run on them exactly as the workflow runs them."""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pandas as pd
from PIL import Image, ImageDraw

from tests.tsvs import write_tsv
from vlmeval_steps.datasets.registry import DatasetInfo, REGISTERED, build_dataset
from vlmeval_steps.datasets.tsv import read_meta
from vlmeval_steps.fileio import read_jsonl
from vlmeval_steps.predictions import write_tsv as write_predictions_tsv
from vlmeval_steps.predictions import write_xlsx


def shape_png(shape: str = "circle", color=(200, 40, 40), size=(48, 32)) -> str:
    """A small PNG with a filled shape on white, base64-encoded."""
    im = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(im)
    box = (4, 4, size[0] - 5, size[1] - 5)
    {"circle": draw.ellipse, "square": draw.rectangle}.get(shape, draw.ellipse)(box, fill=color)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def write_benchmark(path: Path, rows: list[dict]) -> Path:
    """A TSV in upstream's layout; every row gets an image unless it names one."""
    img = shape_png()
    rows = [dict(r) if "image" in r else dict(r, image=img) for r in rows]
    columns = ["index", "image", *[k for k in dict.fromkeys(k for r in rows for k in r) if k not in ("index", "image")]]
    write_tsv(path, rows, columns)
    return path


def write_predictions(tsv: Path, predictions: dict, out: Path, fmt: str = "tsv") -> Path:
    """The merge stage's prediction file: the TSV's columns (no image) plus `prediction`."""
    meta = read_meta(tsv)
    meta["prediction"] = [str(predictions[i]) for i in meta["index"]]
    (write_xlsx if fmt == "xlsx" else write_predictions_tsv)(meta, out)
    return out


def info(name: str) -> DatasetInfo:
    return REGISTERED[name]


def judge_and_score(name: str, predictions: Path, out_dir: Path, judge=None, judge_name="exact_matching"):
    """Run extraction (through the judge stage, or with a judge double) and the score stage."""
    from vlmeval_steps.fileio import write_jsonl
    from vlmeval_steps.predictions import read_predictions
    from vlmeval_steps.steps import judge as judge_step
    from vlmeval_steps.steps import score as score_step

    out_dir.mkdir(parents=True, exist_ok=True)
    extracted = out_dir / f"{name}.{judge_name}.jsonl"
    if judge is None:
        judge_step.run(info(name), predictions, {"model": "exact_matching"}, extracted)
    else:
        write_jsonl(extracted, build_dataset(info(name)).extract(read_predictions(predictions), judge=judge))
    acc = score_step.run(info(name), predictions, extracted, out_dir / f"{name}_acc.csv", judge_name=judge_name)
    return acc, list(read_jsonl(extracted))


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def read_json(path: Path):
    return json.loads(Path(path).read_text())


class ScriptedJudge:
    """A unit-test double of an LLM judge: `ask` returns scripted replies in order and records
    every call (prompt, temperature, max_tokens). Only the `ask` interface of
    vlmeval_steps/judge/__init__.py is exercised; the real client is tested elsewhere."""

    name = "scripted-judge"

    def __init__(self, replies):
        self.replies = replies  # a list (consumed in order) or a callable(prompt, temperature) -> reply
        self.calls: list[tuple[str, float, int | None]] = []

    def ask(self, prompt: str, temperature: float = 0.0, max_tokens: int | None = None):
        self.calls.append((prompt, temperature, max_tokens))
        if callable(self.replies):
            return self.replies(prompt, temperature)
        return self.replies.pop(0)
