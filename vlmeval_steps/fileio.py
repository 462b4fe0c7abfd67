"""Small file helpers: atomic writes, JSON lines, checksums, YAML documents."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import InputError, reporting_full_disk


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, fsync, then rename: readers never see half a file."""
    path = Path(path)
    with reporting_full_disk(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; results should read like any other file
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


@contextlib.contextmanager
def replacing(path: str | Path):
    """Yields a temporary name beside `path` for a writer that wants a name (pandas, openpyxl); it is
    renamed onto `path` when the block succeeds and removed when it fails, and a full disk is reported
    with `path`'s name (a failed write's error names no file)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with reporting_full_disk(path):
        try:
            yield tmp
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def dumps_line(record) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"


def write_jsonl(path: str | Path, records: Iterable) -> None:
    atomic_write_text(path, "".join(dumps_line(r) for r in records))


def read_jsonl(path: str | Path, tolerate_torn_tail: bool = False) -> Iterator[dict]:
    """Records of a JSON-lines file. With tolerate_torn_tail, an unparseable *last* line (a write
    cut short by a crash) is skipped; a bad line anywhere else is always an error."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.readlines()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            if tolerate_torn_tail and n == len(lines):
                return
            raise ValueError(f"{path}: line {n} is not valid JSON ({exc})") from exc


def md5_of(path: str | Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def sha256_json(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def load_yaml(path: str | Path, *, what: str = "a mapping", fast: bool = False) -> dict:
    """The YAML mapping in `path` ({} for an empty file); InputError for a missing file, bad YAML or another type.

    what: the top-level mapping, as the error names it.
    fast: libyaml's parser where PyYAML has it (2 ms where the pure-Python one takes 130 on the families file,
    read at every Snakemake start); its errors show no excerpt of the line, so user files keep the pure-Python one.
    """
    import yaml  # not at the top: most users of this module never read YAML

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader) if fast else yaml.SafeLoader
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=loader) or {}
    except FileNotFoundError:
        raise InputError(f"{path}: file not found.") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc}).") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected {what} at the top level, found {type(data).__name__}.")
    return data
