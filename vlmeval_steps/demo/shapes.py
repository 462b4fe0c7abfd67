"""Coloured-shape images and questions for the offline demo.

The same drawing code makes the committed benchmark (seed 2024) and the tiny model's
training images (other seeds), so the model is never trained on benchmark images.
"""
from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

COLORS = {
    "red": (220, 30, 30),
    "green": (30, 160, 40),
    "blue": (30, 60, 220),
    "yellow": (235, 210, 20),
    "purple": (140, 40, 170),
    "white": (250, 250, 250),
}
SHAPES = ["circle", "square", "triangle", "cross"]
BACKGROUND = (120, 120, 120)
SIZE = 64

COLOR_QUESTION = "What is the color of the shape in the image?"
SHAPE_QUESTION = "Which shape is shown in the image?"
HINT = "The background of the image is gray."


def draw(shape: str, color: str, rng: random.Random) -> Image.Image:
    """A SIZE x SIZE image with one filled shape, jittered in size, place and shade."""
    img = Image.new("RGB", (SIZE, SIZE), tuple(c + rng.randint(-15, 15) for c in BACKGROUND))
    d = ImageDraw.Draw(img)
    r = rng.randint(20, 26)
    cx, cy = SIZE // 2 + rng.randint(-4, 4), SIZE // 2 + rng.randint(-4, 4)
    fill = tuple(min(255, max(0, c + rng.randint(-12, 12))) for c in COLORS[color])
    if shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "square":
        d.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "triangle":
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
    elif shape == "cross":
        w = max(4, r // 3)
        d.rectangle([cx - w, cy - r, cx + w, cy + r], fill=fill)
        d.rectangle([cx - r, cy - w, cx + r, cy + w], fill=fill)
    else:
        raise ValueError(f"unknown shape {shape!r}")
    return img


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def sample_question(kind: str, truth: str, rng: random.Random) -> tuple[str, dict[str, str], str]:
    """(question, {letter: option}, answer letter) with four options, the truth among them."""
    pool = list(COLORS) if kind == "color" else list(SHAPES)
    options = [truth] + rng.sample([p for p in pool if p != truth], 3)
    rng.shuffle(options)
    letters = dict(zip("ABCD", options))
    answer = next(k for k, v in letters.items() if v == truth)
    return (COLOR_QUESTION if kind == "color" else SHAPE_QUESTION), letters, answer
