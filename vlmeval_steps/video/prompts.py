"""build-prompts for a video benchmark: the class, with its setting and frames.json, writes each row's message."""
from __future__ import annotations

import logging
from pathlib import Path

from ..fileio import write_jsonl
from ..prompts import build_messages
from ..steps.build_prompts import message_digest
from . import benchmark

log = logging.getLogger(__name__)


def run(info, setting, tsv, root_file, frames_json, out, prompt_id: str = "default", limit: int | None = None) -> int:
    root = benchmark.read_root(root_file)
    dataset = benchmark.build(info, setting, benchmark.read_frames(frames_json), root)
    data = benchmark.read_index(tsv, dataset, limit)
    if setting.video_llm:
        make_llm_videos(dataset, data, root, Path(out).parent.parent.parent / "video" / info.name / "llm")
    records = []
    for line in data.to_dict("records"):
        message = build_messages(prompt_id, dataset, line)
        records.append(dict(index=line["index"], message=message, digest=message_digest(message, {})))
    write_jsonl(out, records)
    log.info("%s (%s): wrote %d prompts to %s", info.name, setting, len(records), out)
    return len(records)


def make_llm_videos(dataset, data, root: Path, llm_root: Path) -> None:
    """The files a video model is given where the benchmark has none to hand (MVBench: a gif, webm or frame
    folder as mp4, a time window as its own clip), made once under llm_root, as upstream makes them beside
    the source with moviepy."""
    if not hasattr(dataset, "llm_conversions"):
        return
    import importlib

    write = getattr(importlib.import_module(type(dataset).__module__), "write_llm_video")
    dataset.llm_root = llm_root
    for spec in dataset.llm_conversions(data):
        if not (llm_root / spec["path"]).exists():
            log.info("%s: making %s for video_llm", dataset.dataset_name, spec["path"])
            write(spec, root, llm_root)


def frames(info, setting, tsv, root_file, out, limit: int | None = None) -> None:
    from . import extract

    root = benchmark.read_root(root_file)
    dataset = benchmark.build(info, setting, root=root)
    data = benchmark.read_index(tsv, dataset, limit)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    extract.run(dataset, data, root, out)
