"""The demo benchmark: a small MCQ TSV in upstream's layout (committed as demo/DemoShapes.tsv).

Each image gets a colour question and a shape question. The shape question's `image` is a
reference to the colour question's row (upstream's space-saving index reference), a few rows
carry a `hint`, and every row has `category` and `l2-category`.
"""
from __future__ import annotations

import base64
import csv
import random
from pathlib import Path

from .shapes import COLORS, HINT, SHAPES, draw, png_bytes, sample_question

BENCHMARK_SEED = 2024
N_IMAGES = 60


def rows(n_images: int = N_IMAGES, seed: int = BENCHMARK_SEED) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(1, n_images + 1):
        shape, color = SHAPES[i % len(SHAPES)], list(COLORS)[(i * 7 // len(SHAPES)) % len(COLORS)]
        image = base64.b64encode(png_bytes(draw(shape, color, rng))).decode()
        for kind, truth, index, img in (("color", color, i, image), ("shape", shape, 1000 + i, str(i))):
            question, options, answer = sample_question(kind, truth, rng)
            out.append(dict(index=index, image=img, question=question, hint=HINT if i % 5 == 0 else "",
                            **options, answer=answer, category=kind,
                            **{"l2-category": "attribute" if kind == "color" else "recognition"}))
    return out


def write(path: str | Path, n_images: int = N_IMAGES, seed: int = BENCHMARK_SEED) -> None:
    data = rows(n_images, seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(data[0]), delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
