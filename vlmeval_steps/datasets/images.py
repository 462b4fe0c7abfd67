"""Decode a TSV's base64 images straight to files, once, with upstream's file names.

Upstream decodes every image to PIL and re-saves it as PNG whenever a prompt is built, and
re-opens every cached file to check it. We write the decoded bytes as they are (a JPEG stays a
JPEG inside a file named like upstream's `.png`; PIL and our adapters read by content) and skip
files that already exist with the right size. Each image's sha256 is kept: it is part of the
sample cache key.
"""
from __future__ import annotations

import ast
import base64
import binascii
import hashlib
import io
import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ..errors import InputError
from ..fileio import atomic_write_bytes
from .tsv import is_reference, iter_image_chunks, read_columns


class ImageRef(tuple):
    """(path, sha256) of one image on disk."""

    __slots__ = ()

    def __new__(cls, path: str, digest: str):
        return super().__new__(cls, (path, digest))

    path = property(lambda self: self[0])
    digest = property(lambda self: self[1])


def _names(index, n_images: int, image_path) -> list[str]:
    if n_images > 1 or isinstance(image_path, list):
        if isinstance(image_path, list) and len(image_path) == n_images:
            return list(image_path)
        return [f"{index}_{i}.png" for i in range(n_images)]
    if isinstance(image_path, str):
        return [image_path]
    return [f"{index}.png"]


def _safe_join(root: Path, name: str, where: str) -> Path:
    path = (root / name).resolve()
    if root.resolve() not in path.parents:
        raise InputError(f"{where}: image_path {name!r} points outside the image folder {root}.")
    return path


def _decode(b64: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(b64, validate=False)
        with Image.open(io.BytesIO(raw)) as im:
            im.size  # parses the header: catches data that is base64 but not an image
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{where}: the image cannot be decoded ({type(exc).__name__}: {exc}). "
                         "Fix or drop this row in the TSV.") from exc
    return raw


def _display_path(path: Path) -> str:
    """Relative to the working directory when under it, so prompt files move with the project."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def extract_images(tsv_path: str | Path, meta, img_root: str | Path) -> dict[str, list[ImageRef]]:
    """Write the images of `meta`'s rows under img_root; return {str(index): [ImageRef, ...]}.

    `meta` is read_meta()'s frame, possibly cut to its first rows (a limited run): only those
    rows, and the rows their references point to, are written. A row whose image is a
    reference to another row reuses that row's files instead of writing a copy.
    """
    img_root = Path(img_root)
    img_root.mkdir(parents=True, exist_ok=True)
    image_paths = dict(zip(meta["index"].astype(str), meta["image_path"])) if "image_path" in meta else {}
    if "image" not in read_columns(tsv_path):
        return _meta_only(tsv_path, image_paths, img_root)
    wanted = set(meta["index"].astype(str))
    refs: dict[str, list[ImageRef]] = {}
    references: dict[str, str] = {}
    while True:
        for chunk in iter_image_chunks(tsv_path):
            for index, image in zip(chunk["index"].astype(str), chunk["image"]):
                if index not in wanted or index in refs:
                    continue
                if is_reference(image):
                    references[index] = str(image)
                else:
                    refs[index] = _write_row(tsv_path, index, image, image_paths.get(index), img_root)
        # a reference to a row outside the wanted ones needs one more pass for that row
        missing = {t for t in references.values() if t not in refs} - wanted
        if not missing:
            break
        wanted |= missing
    for index, target in references.items():
        if target not in refs:
            raise InputError(f"{tsv_path}: row index={index}: image refers to index {target!r}, which has no image.")
        refs[index] = refs[target]
    return refs


def _write_row(tsv_path, index: str, image: str, image_path, img_root: Path) -> list[ImageRef]:
    where = f"{tsv_path}: row index={index}"
    blobs = image
    if image.startswith("[") and image.endswith("]"):
        try:
            blobs = ast.literal_eval(image)
        except (ValueError, SyntaxError) as exc:
            raise InputError(f"{where}: the image list cannot be parsed ({exc}).") from exc
    blobs = [blobs] if isinstance(blobs, str) else list(blobs)
    out = []
    for name, b64 in zip(_names(index, len(blobs), image_path), blobs):
        path = _safe_join(img_root, name, where)
        raw = _decode(b64, where)
        if not (path.exists() and path.stat().st_size == len(raw)):
            atomic_write_bytes(path, raw)
        out.append(ImageRef(_display_path(path), hashlib.sha256(raw).hexdigest()))
    return out


def _meta_only(tsv_path, image_paths, img_root: Path) -> dict[str, list[ImageRef]]:
    """A TSV without an `image` column: `image_path` holds absolute paths or paths under img_root."""
    refs = {}
    for index, paths in image_paths.items():
        if not isinstance(paths, (str, list)):
            continue
        out = []
        for p in [paths] if isinstance(paths, str) else paths:
            path = Path(p) if os.path.isabs(p) else img_root / p
            if not path.exists():
                raise InputError(f"{tsv_path}: row index={index}: image file {path} does not exist.")
            out.append(ImageRef(str(path), file_digest(path)))
        refs[index] = out
    return refs
