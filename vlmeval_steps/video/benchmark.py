"""Build a video benchmark's class with its setting, frames and folder (what the frames and prompt stages need)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..datasets.registry import CLASSES, DatasetInfo
from ..datasets.tsv import read_meta, refuse_empty
from ..datasets.video.base import FrameSetting, VideoBaseDataset
from ..errors import InputError


def is_video(info: DatasetInfo) -> bool:
    return issubclass(CLASSES[info.cls], VideoBaseDataset)


def build(info: DatasetInfo, setting: FrameSetting = FrameSetting(), frames: dict | None = None,
          root: str | Path | None = None) -> VideoBaseDataset:
    dataset = CLASSES[info.cls](info.name, setting=setting, frames=frames, root=root)
    dataset.info = info
    return dataset


def read_root(root_file: str | Path) -> Path:
    return Path(Path(root_file).read_text().strip())


def read_frames(frames_json: str | Path | None) -> dict:
    if not frames_json:
        return {}
    try:
        return json.loads(Path(frames_json).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{frames_json}: cannot read the frames record ({exc}); rebuild the frames target.") from None


def read_index(tsv: str | Path, dataset: VideoBaseDataset, limit: int | None = None) -> pd.DataFrame:
    data = read_meta(tsv)
    if "video" in data.columns:  # a file name: Video-MME's '001' must not become the number 1
        data["video"] = pd.read_csv(tsv, sep="\t", usecols=["video"], dtype=str, keep_default_na=False)["video"]
    missing = [c for c in dataset.REQUIRED_COLUMNS if c not in data.columns]
    if missing:
        raise InputError(f"{tsv}: missing required column(s) {missing} for benchmark {dataset.dataset_name}; "
                         f"the header has {list(data.columns)}.")
    refuse_empty(tsv, data)
    return data.head(limit) if limit else data
