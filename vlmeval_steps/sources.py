"""The content of a dataset's local source file (a `custom_datasets` url that is a path or file://).

The download rule's `md5` param is what its output must hold: the configured md5, or, with none
configured, the md5 of the local source file. So editing the source reruns the download (the data
root's old copy goes to `.stale/`) and everything after it, and a configured md5 that the edited
file no longer has stops the run before anything starts, saying to update it.

Planning asks for the hash on every run: it is kept in a small sidecar per source file under the
data root (`.sources/`), keyed by the file's (path, size, mtime_ns), so a large file is hashed
once per edit, not once per plan.
"""
from __future__ import annotations

import hashlib
import json
import logging
import urllib.parse
from pathlib import Path

from .errors import InputError
from .fileio import atomic_write_text, md5_of

log = logging.getLogger(__name__)

SIDECARS = ".sources"  # in the data root


def local_source(url: str | None) -> Path | None:
    """The file a file:// url (or a plain path) names; None for http(s) and other remote urls."""
    if not url:
        return None
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return Path(urllib.parse.unquote(parsed.path))
    return Path(url) if parsed.scheme == "" else None


def cached_md5(path: str | Path, cache_dir: str | Path) -> str:
    """md5 of `path`, from its sidecar in `cache_dir` while the file's size and mtime_ns are unchanged.
    The sidecar is best effort: an unwritable cache folder only costs a rehash next time."""
    path = Path(path).resolve()
    st = path.stat()
    stamp = {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    sidecar = Path(cache_dir) / (hashlib.sha1(str(path).encode()).hexdigest()[:20] + ".json")
    try:
        known = json.loads(sidecar.read_text())
        if {k: known.get(k) for k in stamp} == stamp and known.get("md5"):
            return known["md5"]
    except (OSError, ValueError, AttributeError):
        pass
    md5 = md5_of(path)
    if path.stat().st_mtime_ns == st.st_mtime_ns:  # not written to while we read it
        try:
            atomic_write_text(sidecar, json.dumps(dict(stamp, md5=md5), indent=1) + "\n")
        except OSError as exc:
            log.debug("cannot record the md5 of %s in %s: %s", path, sidecar, exc)
    return md5


def expected_md5(name: str, url: str | None, md5: str | None, data_root: str | Path, upstream_name: str = "") -> str:
    """What the dataset's TSV in the data root must hold: the configured md5, else the local source's
    md5, else (no local source at hand) the data root's copy's, else ''. Raises InputError when a
    configured md5 is not the local source's: the file was edited after the md5 was written down."""
    cache = Path(data_root) / SIDECARS
    source = local_source(url)
    if source is not None and source.is_file():
        actual = cached_md5(source, cache)
        if md5 and md5 != actual:
            raise InputError(
                f"dataset {name!r}: its source file {source} has md5 {actual}, but the config says md5: {md5} "
                f"(custom_datasets.{name}.md5), so the file was edited after that md5 was written down (or the md5 "
                f"is wrong). If the file is right, set `md5: {actual}` in the config, or remove the md5 line to follow "
                "the file's content; otherwise restore the file. Nothing runs until then; the data root's copy and "
                "every result are kept.")
        return md5 or actual
    if md5 or source is None:
        return md5 or ""
    # the source is gone: the copy fetched from it stands in, so its results stay up to date
    copy = Path(data_root) / f"{upstream_name or name}.tsv"
    return cached_md5(copy, cache) if copy.is_file() else ""
