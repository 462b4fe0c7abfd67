"""build-prompts: extract a dataset's images once and write every row's messages as JSON lines.

Each record is {"index", "message", "digest"}; the digest hashes the message with images
replaced by the sha256 of their bytes, so the answer cache recognises the same question
asked again, whatever the file paths.
"""
from __future__ import annotations

import logging
from pathlib import Path

from tqdm import tqdm

from ..datasets.checks import image_problem
from ..datasets.doc_pages import SEP, split_prompt_id
from ..datasets.images import extract_images, file_digest
from ..datasets.registry import DatasetInfo, build_dataset
from ..datasets.tsv import read_columns, read_meta, refuse_empty, scan
from ..errors import InputError
from ..fileio import sha256_json, write_jsonl
from ..prompts import build_messages
from ..scoring.submission import COLUMNS as SUBMISSION_COLUMNS

log = logging.getLogger(__name__)


def message_digest(message: list[dict], image_digests: dict[str, str]) -> str:
    return sha256_json(_digest_parts(message, image_digests))


def _digest_parts(message, image_digests: dict[str, str]) -> list:
    parts = []
    for item in message:
        if "role" in item and "content" in item:  # a dialog turn (multi-turn benchmarks): its role, then its content
            content = item["content"]
            parts.append(["role", item["role"], content if isinstance(content, str) else
                          _digest_parts(content, image_digests)])
        elif item["type"] == "text":
            parts.append(["text", item["value"]] + ([item["role"]] if "role" in item else []))
        else:  # an image, or a video file (video_llm): by content, wherever the file is
            path = item["value"]
            parts.append([item["type"], image_digests.get(path) or file_digest(path)])
    return parts


def check_images(tsv, refs: dict) -> None:
    """Refuse an image whose data is incomplete (cut short) before any model is asked about it."""
    seen = set()
    for index, images in refs.items():
        for ref in images:
            if ref.path in seen:
                continue
            seen.add(ref.path)
            with open(ref.path, "rb") as fh:
                problem = image_problem(fh.read())
            if problem:
                raise InputError(f"{tsv}: row index={index}: {problem} ({ref.path}). The TSV looks truncated or "
                                 "corrupt: download it again, or fix or drop this row.")


def require_columns(info: DatasetInfo, dataset, tsv) -> None:
    """Stop before any inference when the TSV lacks a column the benchmark's class (or its submission
    file) needs, naming the column, the file and the benchmark."""
    columns = read_columns(tsv)
    lower = {c.lower() for c in columns}
    # inference-only benchmarks need no options: upstream's MCQ prompt simply lists none
    required = ("index", "question") if info.withheld else dataset.REQUIRED_COLUMNS
    missing = [c for c in required if c not in columns]
    missing += [c for c in getattr(dataset, "REQUIRED_ANY_CASE", ()) if c.lower() not in lower]
    missing += [c for c in SUBMISSION_COLUMNS.get(info.submission, ()) if c not in columns]
    if missing:
        raise InputError(f"{tsv}: missing required column(s) {missing} for benchmark {info.name} ({info.cls}); "
                         f"the header has {columns}. Use the benchmark's TSV in upstream's layout.")


def run(info: DatasetInfo, tsv: str | Path, out: str | Path, images_dir: str | Path, prompt_id: str = "default",
        limit: int | None = None, check_md5: bool = True) -> int:
    if check_md5 and info.md5:
        actual = scan(tsv, md5=True).md5  # the same pass that indexes the file for read_meta and extraction
        if actual != info.md5:
            raise InputError(f"{tsv}: md5 is {actual}, the config expects {info.md5}. The TSV in the data root is "
                             "not the configured version (another work dir whose config has another md5 for it may "
                             f"have fetched its own): delete {tsv} and run again to fetch the configured version, "
                             "or fix the md5.")
    cls = build_dataset(info)
    require_columns(info, cls, tsv)
    meta = read_meta(tsv)
    refuse_empty(tsv, meta)
    if limit:
        meta = meta.head(limit)
    log.info("%s: %d rows; extracting images to %s", info.name, len(meta), images_dir)
    # multi-page documents render their own pages (datasets/documents.py)
    refs = getattr(cls, "extract_images", extract_images)(tsv, meta, images_dir)
    check_images(tsv, refs)
    dataset = build_dataset(info, images=refs)
    prompt_id, layout = split_prompt_id(prompt_id)
    if layout is not None:  # `{builder}__{layout}`: the pages laid out for this kind of model
        if not hasattr(dataset, "use_layout"):
            raise InputError(f"prompt id {prompt_id}{SEP}{layout}: {info.name} has no page layouts.")
        dataset.use_layout(layout, images_dir)
    digests = {ref.path: ref.digest for images in refs.values() for ref in images}
    records = []
    for line in tqdm(meta.to_dict("records"), desc=f"prompts {info.name}", unit="row", mininterval=1.0):
        message = build_messages(prompt_id, dataset, line)
        records.append(dict(index=line["index"], message=message, digest=message_digest(message, digests)))
    write_jsonl(out, records)
    log.info("%s: wrote %d prompts (builder %s) to %s", info.name, len(records), prompt_id, out)
    return len(records)
