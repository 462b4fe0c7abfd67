"""download: fetch a dataset TSV from http(s)://, file:// or a local path.

Streams to `<out>.part` with a progress bar and renames when complete; an interrupted http
download resumes from the partial file. The part file is written under a lock (store.locked),
so two runs asking for the same file at once never write it together: one downloads, the other
waits and finds it done. A TSV already in the data root with the expected md5 is moved into
place instead of downloaded; one with another md5 is moved aside, never deleted. (The workflow
uses steps/fetch.py, which keeps the TSV in the shared data root; this is the standalone step.)
"""
from __future__ import annotations

import logging
import os
import urllib.parse
from pathlib import Path

from tqdm import tqdm

from ..errors import DiskFullError, InputError, reporting_full_disk
from ..fileio import md5_of
from ..store import locked, unique_name

log = logging.getLogger(__name__)
CHUNK = 1 << 20


def _progress(total, desc):
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, mininterval=1.0)


def _copy_local(src: Path, part: Path, desc: str) -> None:
    if not src.exists():
        raise InputError(f"{src}: the dataset file does not exist. Check the url in the config.")
    with open(src, "rb") as fin, open(part, "wb") as fout, _progress(src.stat().st_size, desc) as bar:
        for block in iter(lambda: fin.read(CHUNK), b""):
            fout.write(block)
            bar.update(len(block))


def _http(url: str, part: Path, desc: str, timeout: float) -> None:
    import requests

    done = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={done}-"} if done else {}
    try:
        with requests.get(url, stream=True, timeout=timeout, headers=headers) as r:
            if r.status_code == 416:  # the partial file is already complete
                return
            r.raise_for_status()
            if done and r.status_code != 206:
                done = 0  # the server ignored Range: start over
            total = int(r.headers.get("Content-Length", 0)) + done or None
            with open(part, "ab" if done else "wb") as fout, _progress(total, desc) as bar:
                bar.update(done)
                for block in r.iter_content(CHUNK):
                    fout.write(block)
                    bar.update(len(block))
    except requests.RequestException as exc:
        raise InputError(f"cannot download {url}: {exc}. Without network access, put the TSV in the data root "
                         f"under the dataset's name, or point the dataset's url at a local copy.") from exc


def fetch(url: str, part: str | Path, desc: str, timeout: float = 60) -> None:
    """Download `url` (http(s)://, file:// or a path) into `part`; an http download resumes a partial `part`.
    The caller holds the lock that makes `part` its own."""
    part = Path(part)
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https", "file", ""):
        raise InputError(f"unsupported url scheme {parsed.scheme!r} in {url}; use http(s)://, file:// or a path.")
    try:
        with reporting_full_disk(part):
            if parsed.scheme in ("http", "https"):
                _http(url, part, desc, timeout)
            else:
                _copy_local(Path(urllib.parse.unquote(parsed.path) if parsed.scheme else url), part, desc)
    except DiskFullError:
        # a copy starts over anyway: give its space back; an http download keeps its part to resume from
        # (bytes reach the file in order, so the part is always a prefix of the download)
        if parsed.scheme not in ("http", "https"):
            part.unlink(missing_ok=True)
        raise


def run(url: str, out: str | Path, existing: str | Path | None = None, md5: str | None = None,
        timeout: float = 60) -> None:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with locked(out.parent / ".locks" / f"{out.name}.lock", f"downloading {out.name}") as held:
        _run(url, out, existing, md5, timeout, held)


def _run(url: str, out: Path, existing, md5, timeout: float, held: bool) -> None:
    if existing and md5:
        kept = Path(existing).parent / ".stale" / f"{Path(existing).stem}.{md5}{Path(existing).suffix}"
        if kept.exists():  # the right version was set aside by an earlier md5 change: bring it back
            log.info("restoring %s (md5 %s), set aside earlier; no download", kept, md5)
            os.replace(kept, out)
            return
    if existing and Path(existing).exists():
        existing = Path(existing)
        actual = md5_of(existing)
        if md5 in (None, "", actual):
            log.info("%s is already in the data root (md5 %s): using it, no download", existing, actual)
            os.replace(existing, out)
            return
        aside = existing.parent / ".stale" / f"{existing.stem}.{actual}{existing.suffix}"
        aside.parent.mkdir(exist_ok=True)
        os.replace(existing, aside)
        log.warning("%s has md5 %s, not the expected %s: moved it to %s and downloading again",
                    existing, actual, md5, aside)
    # ours alone while we hold the lock (an interrupted download resumes); without locks, a name of our own
    part = out.with_name(out.name + ".part" if held else unique_name(out.name))
    log.info("downloading %s -> %s", url, out)
    fetch(url, part, f"download {out.stem}", timeout)
    os.replace(part, out)
