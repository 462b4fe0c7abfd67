"""The VLMEvalKit TSV format, loaded with upstream's exact semantics.

Upstream reads the whole file with pandas defaults, so "None", "NA", "null", "nan" and empty
cells are NaN; indices become int when every one is int-like; rows without an image are
dropped; an `image` of 64 characters or fewer is the index of the row that holds the real
base64; "[...]" strings are lists of images or paths. We match that, but read the `image`
column in chunks so that a TSV of several GB is never held in memory whole.
"""
from __future__ import annotations

import ast
import csv
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from ..errors import InputError

csv.field_size_limit(sys.maxsize)  # base64 images are far longer than csv's default limit

REFERENCE_MAX_LEN = 64
IMAGE_CHUNK_ROWS = 256


def read_columns(path: str | Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh, delimiter="\t"), None)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a UTF-8 text TSV ({exc}). Is the file corrupt or compressed?") from exc
    if not header:
        raise InputError(f"{path}: the file is empty; expected a TSV with a header row.")
    return header


def _int_like(value) -> bool:
    """Upstream's istype(x, int): the string parses as a Python int literal."""
    try:
        return isinstance(ast.literal_eval(str(value)), int)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False


def normalise_index(series: pd.Series, path) -> pd.Series:
    values = series.astype(str)
    if values.duplicated().any():
        dups = sorted(set(values[values.duplicated()]))[:5]
        raise InputError(f"{path}: duplicate values in column 'index' (e.g. {dups}); every row needs its own index.")
    if len(values) and all(_int_like(v) for v in values):
        return values.map(lambda v: int(ast.literal_eval(v)))
    return values


def to_list_or_str(value):
    """Upstream's toliststr: '[...]' becomes a list; a one-element list collapses to its element."""
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return value
        if isinstance(parsed, list):
            items = [str(x) for x in parsed]
            return items[0] if len(items) == 1 else items
    return value


def read_meta(path: str | Path, required: tuple[str, ...] = ("index",)) -> pd.DataFrame:
    """Every column except `image`, parsed with pandas defaults over the whole file, so
    dtypes (and therefore strings such as '1.0' for numeric options) match upstream."""
    columns = read_columns(path)
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError(f"{path}: missing required column(s) {missing}; the header has {columns}.")
    try:
        meta = pd.read_csv(path, sep="\t", usecols=[c for c in columns if c != "image"])
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{path}: cannot parse as TSV ({exc}). Is the file truncated or corrupt?") from exc
    if "image" in columns:
        has_image = _image_presence(path)
        if len(has_image) != len(meta):
            raise InputError(f"{path}: rows disagree on the number of fields; the file looks truncated or corrupt.")
        meta = meta[has_image.to_numpy()].reset_index(drop=True)  # upstream's skip_noimg
    meta["index"] = normalise_index(meta["index"], path)
    if "image_path" in meta.columns:
        meta["image_path"] = meta["image_path"].map(to_list_or_str)
    return meta


def _image_presence(path) -> pd.Series:
    parts = [chunk["image"].notna() for chunk in iter_image_chunks(path, keep_missing=True)]
    return pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype=bool)


def iter_image_chunks(path, keep_missing: bool = False) -> Iterator[pd.DataFrame]:
    """(index, image) in chunks of IMAGE_CHUNK_ROWS rows, images as raw strings."""
    try:
        reader = pd.read_csv(path, sep="\t", usecols=["index", "image"], dtype={"image": object},
                             chunksize=IMAGE_CHUNK_ROWS)
        for chunk in reader:
            yield chunk if keep_missing else chunk[chunk["image"].notna()]
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{path}: cannot parse as TSV ({exc}). Is the file truncated or corrupt?") from exc


def is_reference(image) -> bool:
    return isinstance(image, str) and 0 < len(image) <= REFERENCE_MAX_LEN


def load_tsv(path: str | Path) -> pd.DataFrame:
    """The whole TSV as upstream's dataset.data: references resolved, lists parsed."""
    meta = read_meta(path)
    columns = read_columns(path)
    if "image" not in columns:
        return meta
    images = pd.concat(list(iter_image_chunks(path)), ignore_index=True)["image"]
    by_index = dict(zip(meta["index"].astype(str), images))
    resolved = []
    for idx, img in zip(meta["index"], images):
        if is_reference(img):
            target = by_index.get(str(img))
            if target is None or len(target) <= REFERENCE_MAX_LEN:
                raise InputError(f"{path}: row index={idx}: image refers to index {img!r}, which has no image.")
            img = target
        resolved.append(to_list_or_str(img))
    meta.insert(1, "image", resolved)
    return meta
