"""Pieces the model-specific prompt builders share."""
from __future__ import annotations

import re
import string

import pandas as pd

CJK = re.compile("[\u4e00-\u9fff]")


def has_chinese(text: str) -> bool:
    return CJK.search(text) is not None


def options_of(line) -> dict:
    """Option columns present in the row: single upper-case letters with a non-NaN value."""
    return {c: line[c] for c in string.ascii_uppercase if c in line and not pd.isna(line[c])}


def hint_of(line):
    return line["hint"] if ("hint" in line and not pd.isna(line["hint"])) else None


def image_items(dataset, line) -> list[dict]:
    return [dict(type="image", value=p) for p in dataset.dump_image(line)]
