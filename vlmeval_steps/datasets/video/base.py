"""VideoBaseDataset: the contract between the video benchmarks and the workflow's video stages.

Stages (each a file target):
  download  -> a local folder in the benchmark's hub layout (huggingface_hub snapshot, or a folder the
               user already has); `prepare(root)` turns it into upstream's index TSV, md5-checked as upstream does
  frames    -> resources/frames/{dataset}/{frame_setting}/frames.json plus the image files beside it, one
               target per dataset x sampling setting, shared by every model using that setting
  prompts   -> build_prompt(line) with the frames (or the video file) of that row
  infer, merge, judge-extract, score -> as for image benchmarks (extract/score of ImageBaseDataset)

frames.json maps a clip key to {"video": path, "n_frames": int, "video_fps": float,
"indices": [...], "timestamps": [...], "paths": [...]}; the indices and timestamps are recorded so they
can be compared with upstream's.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..base import ImageBaseDataset


@dataclass(frozen=True)
class FrameSetting:
    """How frames are sampled and shown. nframe > 0 or fps > 0 (upstream: not both); neither = the video file."""
    nframe: int = 0
    fps: float = -1
    use_subtitle: bool = False
    video_llm: bool = False

    @property
    def frames_id(self) -> str:
        """Names the frames target: only what changes which frames are decoded."""
        if self.fps > 0:
            return f"{self.fps:g}fps"
        if self.nframe > 0:
            return f"{self.nframe}frame"
        return "video"

    def dataset_suffix(self) -> str:
        """Upstream's result-name suffix: {dataset}_{nframe}frame / _{fps}fps, then _subs."""
        s = "" if self.frames_id == "video" else f"_{self.frames_id}"
        return s + ("_subs" if self.use_subtitle else "")


@dataclass(frozen=True)
class Clip:
    """One unit of frame extraction: a video (or a time window of one, MVBench's `bound`)."""
    key: str                  # folder under resources/frames/{dataset}/{frames_id}/ and the frames.json key
    video: str                # path relative to the dataset root: a video file, a .gif, or a folder of frames
    start: float | None = None
    end: float | None = None


class VideoBaseDataset(ImageBaseDataset):
    MODALITY = "VIDEO"
    REQUIRED_COLUMNS = ("index", "question", "video")
    #: upstream's hub repository (repo_id) and the md5 upstream checks on the index TSV it generates
    HF_REPO: str = ""
    INDEX_MD5: str | None = None

    def __init__(self, dataset: str = "", setting: FrameSetting = FrameSetting(), frames: dict | None = None,
                 root: str | Path | None = None):
        super().__init__(dataset)
        self.setting = setting
        self.frames = frames or {}   # frames.json's content (clip key -> record)
        self.root = Path(root) if root is not None else None  # the dataset folder (videos, subtitles)

    # ----- download ---------------------------------------------------------------------------
    def prepare(self, root: Path) -> pd.DataFrame:
        """Upstream's index TSV built from the hub-layout folder (upstream's generate_tsv)."""
        raise NotImplementedError

    # ----- frames -----------------------------------------------------------------------------
    def clips(self, data: pd.DataFrame) -> list[Clip]:
        """What the frames stage extracts; by default one clip per distinct video, sorted as upstream sorts."""
        return [Clip(key=str(v), video=self.video_file(str(v))) for v in sorted(set(data["video"].astype(str)))]

    def clip_key(self, line) -> str:
        return str(line["video"])

    def video_file(self, video: str) -> str:
        return f"{video}.mp4"

    def frame_indices(self, clip: Clip, n_frames: int, video_fps: float) -> list[int]:
        """Upstream's VideoBaseDataset.save_video_frames formulas (a class overrides where upstream does)."""
        s = self.setting
        if s.fps > 0:
            required = int(n_frames / video_fps * s.fps)
            step = video_fps / s.fps
            return [int(i * step) for i in range(required)]
        step = n_frames / (s.nframe + 1)
        return [int(i * step) for i in range(1, s.nframe + 1)]

    def frame_names(self, clip: Clip, indices: list[int]) -> list[str]:
        """Upstream's frame file names (frame_tmpl / frame_tmpl_fps)."""
        n = len(indices)
        if self.setting.fps > 0:
            return [f"frame-{i}-of-{n}-{self.setting.fps:g}fps.jpg" for i in range(1, n + 1)]
        return [f"frame-{i}-of-{n}.jpg" for i in range(1, n + 1)]

    def frame_paths(self, line) -> list[str]:
        try:
            return list(self.frames[self.clip_key(line)]["paths"])
        except KeyError:
            from ...errors import InputError
            raise InputError(f"{self.dataset_name}: row index={line['index']} has no extracted frames "
                             f"(clip {self.clip_key(line)!r}); rebuild the frames target.") from None
