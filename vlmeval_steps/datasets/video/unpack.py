"""Upstream's unpacking of downloaded hub folders: zips of videos, pickles of video bytes.

Each step is upstream's, made safe: zip members never land outside the target folder (zipfile
drops '..' and absolute parts), and a pickle may hold only plain values (a dict of name -> bytes),
never an object that would run code when loaded.
"""
from __future__ import annotations

import io
import os
import pickle
import shutil
import zipfile
from pathlib import Path

from ...errors import InputError


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module, name):  # any class or function reference is refused
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only plain data is expected")


def load_plain_pickle(path: Path):
    try:
        with open(path, "rb") as fh:
            return _PlainUnpickler(io.BufferedReader(fh)).load()
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise InputError(f"{path}: not a pickle of video bytes ({exc}). Download the folder again.") from None


def unwrap_pickles(root: Path, suffix: str = ".mp4") -> None:
    """MMBench-Video: video_pkl/*.pkl (dicts name -> bytes) become video/{name}.mp4, unless video/ exists."""
    base, target = root / "video_pkl", root / "video"
    if target.exists() or not base.is_dir():
        return
    tmp = root / ".video.unpacking"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for pkl in sorted(base.iterdir()):
        data = load_plain_pickle(pkl)
        if not isinstance(data, dict):
            raise InputError(f"{pkl}: expected a dict of video name -> bytes, found {type(data).__name__}.")
        for name, content in data.items():
            if os.sep in str(name) or str(name) in ("", ".", ".."):
                raise InputError(f"{pkl}: video name {name!r} is not a plain file name.")
            (tmp / f"{name}{suffix}").write_bytes(content)
    tmp.rename(target)  # all or nothing: an interrupted unwrap leaves no half-filled video/


def extract_zip(zip_path: Path, dest: Path, flatten: bool = False) -> None:
    """Extract one zip (upstream: extractall, or each file by its base name when flatten)."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            if not flatten:
                zf.extractall(dest)
                return
            for member in zf.namelist():
                if member.endswith("/"):
                    continue
                with zf.open(member) as src, open(dest / os.path.basename(member), "wb") as out:
                    shutil.copyfileobj(src, out)
    except zipfile.BadZipFile as exc:
        raise InputError(f"{zip_path}: not a readable zip ({exc}). Download it again.") from None


def zips_into_folder(zip_paths: list[Path], target: Path, flatten: bool) -> None:
    """Video-MME: extract the zips into `target` unless it exists (upstream's check), all or nothing."""
    if target.exists() or not zip_paths:
        return
    tmp = target.with_name(f".{target.name}.unpacking")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for z in sorted(zip_paths):
        extract_zip(z, tmp, flatten=flatten)
    tmp.rename(target)
