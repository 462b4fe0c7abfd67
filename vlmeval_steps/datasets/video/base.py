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

Messages are upstream's: items {type, value}, and where upstream gives a text a turn (MVBench's
system prompt, its "Best option:(" answer prefix) the item carries upstream's `role` key:
{"type": "text", "value": ..., "role": "system" | "assistant"}. Such an item has no `content`, which
tells it from a dialog turn ({"role", "content"}, MMDU); a model that ignores roles reads it as
text, as upstream's generic models do. A frame folder (MVBench's TVQA clips) is a Clip of kind
"frames": n_frames = the number of entries in the folder, the class applies FOLDER_FPS itself (whatever
rate is passed), and indices run from 1 up to n_frames inclusive: frame i is the file folder_frame_name(i).
`write_index(root, dest)` writes upstream's index TSV byte for byte (prepare + to_csv; MMBench-Video copies
the hub's own TSV), which is what INDEX_MD5 is the md5 of.
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
    kind: str = "video"       # "video" (any file the decoder reads: mp4, webm, gif) or "frames" (a folder of jpgs)


class VideoBaseDataset(ImageBaseDataset):
    MODALITY = "VIDEO"
    REQUIRED_COLUMNS = ("index", "question", "video")
    #: upstream's hub repository (repo_id) and the md5 upstream checks on the index TSV it generates
    HF_REPO: str = ""
    HF_REVISION: str | None = None  # the hub branch upstream downloads (None: the default branch)
    INDEX_MD5: str | None = None
    #: the frame rate upstream assumes for a folder of frames (Clip.kind == "frames")
    FOLDER_FPS: float = 3

    def __init__(self, dataset: str = "", setting: FrameSetting = FrameSetting(), frames: dict | None = None,
                 root: str | Path | None = None, images: dict | None = None):
        super().__init__(dataset, images=images)  # images: registry.build_dataset's keyword; video rows have none
        self.setting = setting
        self.frames = frames or {}   # frames.json's content (clip key -> record)
        self.root = Path(root) if root is not None else None  # the dataset folder (videos, subtitles)

    # ----- download ---------------------------------------------------------------------------
    def prepare(self, root: Path) -> pd.DataFrame:
        """Upstream's index TSV built from the hub-layout folder (upstream's generate_tsv).

        Unpacks what upstream unpacks first (zips, pickles: `unpack`), so one call readies the folder."""
        raise NotImplementedError

    def unpack(self, root: Path) -> None:
        """Upstream's unzip / unwrap steps on the downloaded folder; a no-op when already done."""

    def write_index(self, root: Path, dest: Path) -> pd.DataFrame:
        """Write upstream's index TSV to `dest` byte for byte (what INDEX_MD5 is the md5 of)."""
        data = self.prepare(Path(root))
        data.to_csv(dest, sep="\t", index=False)  # upstream's generate_tsv writes exactly this
        return data

    # ----- frames -----------------------------------------------------------------------------
    def clips(self, data: pd.DataFrame) -> list[Clip]:
        """What the frames stage extracts; by default one clip per distinct video, sorted as upstream sorts."""
        return [Clip(key=str(v), video=self.video_file(str(v))) for v in sorted(set(data["video"].astype(str)))]

    def clip_key(self, line) -> str:
        return str(line["video"])

    def video_file(self, video: str) -> str:
        """The video's path relative to the dataset root (upstream: data_root/{video}.mp4)."""
        return f"{video}.mp4"

    def line_video(self, line) -> str:
        """The row's video file relative to the dataset root (the `video` item of video_llm prompts)."""
        return self.video_file(str(line["video"]))

    def video_units(self, df: pd.DataFrame) -> list[str]:
        """Each scored row's video file: a video benchmark's unit of resampling. Questions about one video
        share its difficulty, so they are drawn together (resampling questions alone would understate
        the interval)."""
        return [self.line_video(line) for line in df.to_dict("records")]

    def folder_frame_name(self, index: int) -> str:
        """The file of frame `index` in a frame folder (upstream's read_frame)."""
        return f"{index:05d}.jpg"

    def abspath(self, rel: str) -> str:
        return str(self.root / rel) if self.root is not None else rel

    def frame_record(self, line) -> dict:
        try:
            return self.frames[self.clip_key(line)]
        except KeyError:
            from ...errors import InputError
            raise InputError(f"{self.dataset_name}: row index={line['index']} has no extracted frames "
                             f"(clip {self.clip_key(line)!r}); rebuild the frames target.") from None

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
        return list(self.frame_record(line)["paths"])
