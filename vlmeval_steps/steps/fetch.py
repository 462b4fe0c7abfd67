"""fetch: put a benchmark's TSV, with the configured md5, in the shared data root and link it into the work dir.

The workflow's download stage. Under the dataset's lock in the data root (store.locked), in order:
a TSV already there with the right md5 is used as it is; one with another md5 is moved to
`.stale/` (never deleted); a set-aside copy with the right md5 is restored; else the url is
downloaded (resuming a partial download), its md5 checked (a mismatch is kept in
`.download/rejected/` and stops the run), and renamed into place. Any number of runs may ask at
once: one downloads, the others wait and reuse it. The work dir gets `resources/data/{name}.tsv`,
a symlink to the data root's file, as its Snakemake output. A local source file that no longer has
the configured md5 stops it before anything is used or copied (vlmeval_steps/sources.py).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from .. import sources, store
from ..errors import reporting_full_disk
from ..fileio import md5_of
from . import download, verify

log = logging.getLogger(__name__)


def run(name: str, url: str, md5: str | None, root: str | Path, link: str | Path, timeout: float = 60) -> str:
    """Returns the md5 of the TSV now in the data root."""
    root = Path(root)
    final = root / f"{name}.tsv"
    root.mkdir(parents=True, exist_ok=True)
    with store.locked(root / ".locks" / f"{name}.lock", f"fetching {name} into {root}") as held:
        actual = _ensure(name, url, md5 or None, root, final, timeout, held)
    with reporting_full_disk(link):
        store.link(final, link)
    log.info("%s -> %s", link, final)
    return actual


def _ensure(name: str, url: str, md5: str | None, root: Path, final: Path, timeout: float, held: bool) -> str:
    # a local source edited under its configured md5 (sources.py): never serve the old copy in its place
    edited = sources.source_conflict(url, md5, root)
    if final.exists():
        actual = md5_of(final)
        if md5 in (None, actual):
            if edited:
                raise sources.conflict_error(name, url, md5, edited, final)
            log.info("%s is already in the data root (md5 %s): using it, no download", final, actual)
            return actual
        aside = root / ".stale" / f"{name}.{actual}.tsv"
        aside.parent.mkdir(exist_ok=True)
        os.replace(final, aside)
        log.warning("%s has md5 %s, not the expected %s: moved it to %s and fetching the configured version",
                    final, actual, md5, aside)
    kept = root / ".stale" / f"{name}.{md5}.tsv"
    if edited:
        raise sources.conflict_error(name, url, md5, edited, kept if kept.exists() else None)
    if md5 and kept.exists():  # the right version was set aside by an earlier md5 change: bring it back
        log.info("restoring %s (md5 %s), set aside earlier; no download", kept, md5)
        os.replace(kept, final)
        return md5
    # ours alone while we hold the lock, so an interrupted download resumes; without locks, a name of our own
    part = root / ".download" / (f"{name}.tsv.part" if held else store.unique_name(f"{name}.tsv"))
    part.parent.mkdir(exist_ok=True)
    log.info("downloading %s -> %s", url, final)
    download.fetch(url, part, f"download {name}", timeout)
    return verify.run(part, final, md5)
