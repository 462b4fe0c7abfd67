"""The content of a dataset's local source file (a `custom_datasets` url that is a path or file://).

The download rule's params say what its output must hold, so that an edited source reruns it:

- `md5`: the configured md5, else the local source file's md5. Editing a file that has no md5 in the
  config reruns the download (the data root's old copy goes to `.stale/`) and all that follows.
- `url`: as configured; but when a local file no longer has the configured md5 (it was edited, or the
  md5 is wrong), the url carries the file's own md5 as a fragment (`file:///...#md5=...`). The
  download then reruns and stops, naming the file and both md5s (`source_conflict`, in the fetch
  step), rather than keep serving the data root's copy of the old version. Other datasets go on.

Datasets whose source is unchanged keep exactly the params they had, so nothing reruns for them.
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


def download_params(url: str, md5: str | None, data_root: str | Path, tsv_name: str) -> tuple[str, str]:
    """The download rule's (url, md5) params for a dataset whose TSV is `{data_root}/{tsv_name}.tsv`."""
    cache = Path(data_root) / SIDECARS
    source = local_source(url)
    if source is not None and source.is_file():
        actual = cached_md5(source, cache)
        if md5 and md5 != actual:
            return f"{url}#md5={actual}", md5
        return url, md5 or actual
    if md5 or source is None:
        return url, md5 or ""
    # the source is gone: the copy fetched from it stands in, so the results made from it stay up to date
    copy = Path(data_root) / f"{tsv_name}.tsv"
    return url, cached_md5(copy, cache) if copy.is_file() else ""


def source_conflict(url: str, md5: str | None, data_root: str | Path) -> str | None:
    """The md5 of a local source file that is not the configured `md5`, else None."""
    source = local_source(url)
    if not md5 or source is None or not source.is_file():
        return None
    actual = cached_md5(source, Path(data_root) / SIDECARS)
    return actual if actual != md5 else None


def conflict_error(name: str, url: str, md5: str, actual: str, kept: Path | None) -> InputError:
    where = (f"The data root's copy of the configured version is kept ({kept}); nothing was copied."
             if kept else "Nothing was copied.")
    return InputError(
        f"{name}.tsv: md5 mismatch: expected {md5}, got {actual}: the source file {local_source(url)} no longer "
        f"has the md5 the config gives dataset {name!r} (it was edited after that md5 was written down, or the md5 "
        f"is wrong). If the file is right, set `md5: {actual}` in the config (or remove the md5 line to follow the "
        f"file's content); otherwise restore the file. {where}")
