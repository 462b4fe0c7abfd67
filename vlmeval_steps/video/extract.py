"""The frames stage: decode each clip's frames at the benchmark's indices and record them in frames.json.

Every clip's frames and its record (`{clip}/clip.json`) are written as soon as it is decoded, so a
failure (a corrupt video) or a kill loses nothing done: the rerun skips clips whose record matches
the video file (size and mtime) and the indices. All bad clips are reported together, by row and file.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..fileio import atomic_write_text
from . import decode

log = logging.getLogger(__name__)
JPEG_QUALITY = 75   # what upstream's `im.save('frame-1-of-8.jpg')` gets (PIL's default): the model sees the same


def _stamp(path: Path) -> list:
    if path.is_dir():
        return [len(os.listdir(path)), int(path.stat().st_mtime)]
    st = path.stat()
    return [st.st_size, int(st.st_mtime)]


def _rows_by_clip(dataset, data: pd.DataFrame) -> dict[str, list]:
    rows: dict[str, list] = {}
    for line in data.to_dict("records"):
        rows.setdefault(dataset.clip_key(line), []).append(line["index"])
    return rows


def extract_clip(dataset, clip, root: Path, out_dir: Path) -> dict:
    """Decode one clip (or reuse its record) and return its frames.json entry."""
    video = root / clip.video
    frames_dir = out_dir / clip.key
    record_file = frames_dir / "clip.json"
    if not video.exists():
        raise decode.VideoError(f"{video}: file not found")
    stamp = _stamp(video)
    if record_file.exists():
        try:
            record = json.loads(record_file.read_text())
            if record.get("stamp") == stamp and all(Path(p).exists() for p in record["paths"]):
                return record
        except (ValueError, KeyError):
            pass  # a record cut short: decode again
    folder = getattr(clip, "kind", "video") == "frames"  # a folder of jpgs (MVBench's TVQA clips)
    if folder != video.is_dir():
        raise decode.VideoError(f"{video}: expected {'a folder of frames' if folder else 'a video file'}")
    info = decode.probe(video, folder_fps=getattr(dataset, "FOLDER_FPS", 3))
    if info.n_frames == 0:
        raise decode.VideoError(f"{video}: has no frames")
    indices = [int(i) for i in dataset.frame_indices(clip, info.n_frames, info.fps)]
    names = dataset.frame_names(clip, indices)
    images = decode.read(video, indices, info, folder_name=getattr(dataset, "folder_frame_name",
                                                                      lambda i: f"{i:05d}.jpg"))
    frames_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, name in zip(indices, names):
        target = frames_dir / name
        tmp = target.with_name(f".{name}.tmp{os.getpid()}")
        images[index].save(tmp, format="JPEG", quality=JPEG_QUALITY)
        os.replace(tmp, target)
        paths.append(str(target))
    short = info.n_frames < len(indices)
    record = dict(video=clip.video, n_frames=info.n_frames, video_fps=info.fps, indices=indices,
                  timestamps=[info.timestamp(i) for i in indices], paths=paths, start=clip.start, end=clip.end,
                  stamp=stamp, **({"note": f"only {info.n_frames} frames: some frames repeat (as upstream)"}
                                  if short else {}))
    atomic_write_text(record_file, json.dumps(record))
    return record


def run(dataset, data: pd.DataFrame, root: str | Path, out: str | Path) -> dict:
    """Write frames.json (clip key -> record) for every clip of `data`; frames beside it, one folder a clip."""
    root, out = Path(root), Path(out)
    out_dir = out.parent
    clips = dataset.clips(data)
    rows = _rows_by_clip(dataset, data)
    name = dataset.dataset_name
    records, problems = {}, []
    from tqdm import tqdm

    for clip in tqdm(clips, desc=f"frames {name} {dataset.setting.frames_id}", unit="clip", mininterval=1.0):
        try:
            records[clip.key] = extract_clip(dataset, clip, root, out_dir)
        except decode.VideoError as exc:
            where = rows.get(clip.key, ["?"])
            problems.append(f"  {name}: row index={where[0]}"
                            + (f" (and {len(where) - 1} more rows)" if len(where) > 1 else "")
                            + f", clip {clip.key!r}: {exc}")
            continue
        rec = records[clip.key]
        if rec.get("note"):
            log.warning("%s: row index=%s, %s: %s", name, rows.get(clip.key, ["?"])[0], root / clip.video,
                        rec["note"])
    if problems:
        raise InputError(f"{len(problems)} of {len(clips)} clips could not be read; the frames of the other "
                         f"{len(clips) - len(problems)} are kept and reused on the next run:\n" + "\n".join(problems)
                         + f"\nReplace the file(s) under {root} (download the benchmark again), or drop the rows.")
    # the contract's format (datasets/video/base.py): clip key -> record; paths as the prompts will name them
    atomic_write_text(out, json.dumps({k: {x: v for x, v in r.items() if x != "stamp"} for k, r in records.items()},
                                      indent=1))
    n = sum(len(r["paths"]) for r in records.values())
    log.info("%s: %d clips, %d frames -> %s", name, len(records), n, out)
    return records
