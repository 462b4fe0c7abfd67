"""build-prompts: extract a dataset's images once and write every row's messages as JSON lines.

Each record is {"index", "message", "digest"}; the digest hashes the message with images
replaced by the sha256 of their bytes, so the answer cache recognises the same question
asked again, whatever the file paths.
"""
from __future__ import annotations

import logging
from pathlib import Path

from tqdm import tqdm

from ..datasets.images import extract_images, file_digest
from ..datasets.registry import DatasetInfo, build_dataset
from ..datasets.tsv import read_meta, scan
from ..errors import InputError
from ..fileio import sha256_json, write_jsonl
from ..prompts import build_messages

log = logging.getLogger(__name__)


def message_digest(message: list[dict], image_digests: dict[str, str]) -> str:
    return sha256_json(_digest_parts(message, image_digests))


def _digest_parts(message, image_digests: dict[str, str]) -> list:
    parts = []
    for item in message:
        if "role" in item:  # a dialog turn (multi-turn benchmarks): its role, then its content
            content = item["content"]
            parts.append(["role", item["role"], content if isinstance(content, str) else
                          _digest_parts(content, image_digests)])
        elif item["type"] == "text":
            parts.append(["text", item["value"]])
        else:
            path = item["value"]
            parts.append([item["type"], image_digests.get(path) or file_digest(path)])
    return parts


def run(info: DatasetInfo, tsv: str | Path, out: str | Path, images_dir: str | Path, prompt_id: str = "default",
        limit: int | None = None, check_md5: bool = True) -> int:
    if check_md5 and info.md5:
        actual = scan(tsv, md5=True).md5  # the same pass that indexes the file for read_meta and extraction
        if actual != info.md5:
            raise InputError(f"{tsv}: md5 is {actual}, the config expects {info.md5}. The TSV in the data root is "
                             "not the configured version; move it away or fix the md5.")
    cls = build_dataset(info)
    try:
        meta = read_meta(tsv, required=cls.REQUIRED_COLUMNS)
    except InputError as exc:  # say which benchmark needs the column, not only which file lacks it
        raise InputError(f"{info.name} ({type(cls).__name__}): {exc}") from None
    if limit:
        meta = meta.head(limit)
    log.info("%s: %d rows; extracting images to %s", info.name, len(meta), images_dir)
    refs = extract_images(tsv, meta, images_dir)
    dataset = build_dataset(info, images=refs)
    digests = {ref.path: ref.digest for images in refs.values() for ref in images}
    records = []
    for line in tqdm(meta.to_dict("records"), desc=f"prompts {info.name}", unit="row", mininterval=1.0):
        message = build_messages(prompt_id, dataset, line)
        records.append(dict(index=line["index"], message=message, digest=message_digest(message, digests)))
    write_jsonl(out, records)
    log.info("%s: wrote %d prompts (builder %s) to %s", info.name, len(records), prompt_id, out)
    return len(records)
