"""A sample-level answer cache: append-only JSON lines, one file per writer.

Every answer is appended and fsynced the moment it arrives, so a crash loses at most the
requests in flight. Each writer (one infer shard, one judge job) appends only to its own file,
locked with flock, and reads every file in the folder: no two processes ever append to one
file, which keeps it safe on shared filesystems where O_APPEND is not atomic (NFS), with no
database. A torn last line (a crash mid-write) is cut off when the writer reopens its file; a
write that fails (a full disk) takes back what part of it reached the file at once, so the file
holds whole lines only, and the error names it (DiskFullError).

Where the file system has no locks (flock fails with ENOLCK, EOPNOTSUPP, ENOSYS: NFS without its
lock service, Lustre mounted without -o flock), the writer appends to a file named for its host
and process instead, which no other process opens: still one writer per file, at the price of
one more file per run (readers read them all). docs/scale.md, "Shared file systems".
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
import secrets
import socket
from pathlib import Path

from .errors import DISK_FULL, InputError, disk_full_error, reporting_full_disk
from .fileio import dumps_line, sha256_json
from .store import NO_LOCKS

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
    """Cut a last line without its newline. Reads backwards from the end: a cache file can be large."""
    with open(path, "rb+") as fh:
        end = pos = fh.seek(0, os.SEEK_END)
        keep = 0
        while pos > 0:
            step = min(1 << 16, pos)
            fh.seek(pos - step)
            block = fh.read(step)
            if pos == end and block.endswith(b"\n"):
                return
            newline = block.rfind(b"\n")
            if newline >= 0:
                keep = pos - step + newline + 1
                break
            pos -= step
        if keep < end:
            fh.truncate(keep)
            log.warning("%s: dropped a torn last line left by an interrupted write", path)


class AnswerCache:
    def __init__(self, directory: str | Path, writer: str):
        self.directory = Path(directory)
        self.path = self.directory / f"{writer}.jsonl"
        self.entries: dict[str, dict] = {}
        with reporting_full_disk(self.path):
            self.directory.mkdir(parents=True, exist_ok=True)
            # unbuffered: a failed append must leave no bytes in a Python buffer for close() to flush later
            self._fh = open(self.path, "ab", buffering=0)
        self.locked = True
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.close()
            raise InputError(f"{self.path} is being written by another process: is a second run working on the "
                             "same target? Wait for it to finish.") from None
        except OSError as exc:
            if exc.errno not in NO_LOCKS:
                self._fh.close()
                raise
            # no locks to keep a second writer out of this file: write one that no other process opens
            self._fh.close()
            self.locked = False
            self.path = self.directory / f"{writer}.{socket.gethostname()}.{os.getpid()}.{secrets.token_hex(3)}.jsonl"
            log.warning("%s: this file system has no file locks (%s); appending to %s instead, a file no other "
                        "process writes", self.directory, os.strerror(exc.errno), self.path.name)
            with reporting_full_disk(self.path):
                self._fh = open(self.path, "ab", buffering=0)
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
        self._append("".join(dumps_line(r) for r in records).encode("utf-8"))
        for record in records:
            self.entries[record["key"]] = record

    def _append(self, data: bytes) -> None:
        fd = self._fh.fileno()
        start = os.fstat(fd).st_size  # this file's only writer (the lock), so its end is where we write
        view = memoryview(data)
        try:
            while view:  # a write may be short (the disk filled up part way); the next one says why
                view = view[os.write(fd, view):]
            os.fsync(fd)  # NFS and delayed allocation report a full disk here, not at write()
        except BaseException as exc:
            # A failed write or fsync: take back the part that reached the file, so no reader and no next
            # run sees half a line. Ctrl-C: it often lands just after os.write returned (before `view` is
            # updated), so the file says whether the records were written whole; if so they are kept.
            whole = False
            if not isinstance(exc, OSError):
                try:
                    whole = os.fstat(fd).st_size - start == len(data)
                    if whole:
                        os.fsync(fd)
                except OSError:
                    whole = False
            if not whole:
                try:
                    os.ftruncate(fd, start)
                except OSError:
                    log.warning("%s: could not cut off a failed append; the next run drops it", self.path)
            if isinstance(exc, OSError) and exc.errno in DISK_FULL:
                raise disk_full_error(self.path, exc) from None
            raise

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
            if self.locked:
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
