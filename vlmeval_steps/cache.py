"""A sample-level answer cache: append-only JSON lines, one file per writer.

Every answer is appended and fsynced the moment it arrives, so a crash loses at most the
requests in flight. Each writer (one infer shard, one judge job) appends only to its own file,
locked with flock, and reads every file in the folder: no two processes ever append to one
file, which keeps it safe on shared filesystems where O_APPEND is not atomic (NFS), with no
database. A torn last line (a crash mid-write) is cut off when the writer reopens its file.
The folder lives beside the declared outputs, so Snakemake never deletes it.

`borrow` reads answers from other folders of the same model (its other datasets): the key is the
model's settings and the message content, so an equal key is the same question, whichever
benchmark asked it. Only successes are borrowed, and only for the keys asked about.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
from pathlib import Path

from .errors import InputError
from .fileio import dumps_line, sha256_json

log = logging.getLogger(__name__)

# records are written with sorted keys, so "key" is found without parsing the whole line
_KEY = re.compile(r'"key": "([^"]+)"')


def answer_key(settings: dict, message_digest: str) -> str:
    """What produced an answer: the generation settings and the message (images by hash)."""
    return sha256_json({"settings": settings, "message": message_digest})


def answer_keys(settings: dict, message_digests: list[str]) -> list[str]:
    """`answer_key` of many messages, the settings serialised once: the same text sha256_json
    hashes ({"message": ..., "settings": ...} with sorted keys), so the same keys."""
    tail = ', "settings": ' + json.dumps(settings, sort_keys=True, ensure_ascii=False) + "}"
    return [hashlib.sha256(('{"message": ' + json.dumps(d, ensure_ascii=False) + tail).encode()).hexdigest()
            for d in message_digests]


def _truncate_torn_tail(path: Path) -> None:
    with open(path, "rb+") as fh:
        data = fh.read()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            fh.truncate(keep)
            log.warning("%s: dropped a torn last line left by an interrupted write", path)


class AnswerCache:
    def __init__(self, directory: str | Path, writer: str):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / f"{writer}.jsonl"
        self.entries: dict[str, dict] = {}
        self._fh = open(self.path, "a+b")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.close()
            raise InputError(f"{self.path} is being written by another process: is a second run working on the "
                             "same target? Wait for it to finish.") from None
        _truncate_torn_tail(self.path)
        for path in sorted(self.directory.glob("*.jsonl")):
            self._load(path)

    def _load(self, path: Path) -> None:
        bad = 0
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                    key = rec["key"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    bad += 1
                    continue
                # a success is never replaced by a later failure for the same key
                if rec.get("ok", True) or not self.entries.get(key, {}).get("ok", False):
                    self.entries[key] = rec
        if bad:
            log.warning("%s: skipped %d unreadable line(s)", path, bad)

    def get(self, key: str) -> dict | None:
        return self.entries.get(key)

    def answered(self, key: str, keep_failed: bool = False) -> bool:
        rec = self.entries.get(key)
        return rec is not None and (rec.get("ok", True) or keep_failed)

    def put(self, record: dict) -> None:
        self.put_many([record])

    def put_many(self, records: list[dict]) -> None:
        """Append records with one write and one fsync (answers that arrived together)."""
        if not records:
            return
        self._fh.write("".join(dumps_line(r) for r in records).encode("utf-8"))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        for record in records:
            self.entries[record["key"]] = record

    def borrow(self, directories, keys: set[str]) -> int:
        """Successful answers for `keys` from other folders (another dataset's cache of the same
        model), added to this cache's view (not to its file). Returns how many were borrowed."""
        wanted = {k for k in keys if not self.answered(k)}
        borrowed = 0
        for directory in directories:
            for path in sorted(Path(directory).glob("*.jsonl")):
                if not wanted:
                    return borrowed
                try:
                    fh = open(path, encoding="utf-8", errors="replace")
                except OSError:
                    continue
                with fh:
                    for line in fh:
                        m = _KEY.search(line)
                        if not m or m[1] not in wanted:
                            continue
                        try:
                            rec = json.loads(line)
                        except json.JSONDecodeError:  # a line another writer is still appending
                            continue
                        if rec.get("key") == m[1] and rec.get("ok", True):
                            self.entries[m[1]] = rec
                            wanted.discard(m[1])
                            borrowed += 1
        return borrowed

    def close(self) -> None:
        if not self._fh.closed:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def count_answers(root: str | Path) -> int:
    """Successful answers kept under `root` (a work dir's work/cache: {model}/{dataset}/*.jsonl),
    each question once; the judge's replies (root/judge/) are not answers."""
    keys = set()
    for path in Path(root).glob("*/*/*.jsonl"):
        if path.parts[-3] == "judge":
            continue
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                m = _KEY.search(line)
                if m and line.endswith("\n") and '"ok": false' not in line:
                    keys.add((path.parts[-3], m[1]))
    return len(keys)
