"""A video benchmark's folder (videos, subtitles, its index) and its index TSV.

The folder is a local one the user names (`video_roots: {MVBench: /data/MVBench}` in the config, a
class's DEFAULT_ROOT for the demo) or the benchmark's hub repository, fetched with huggingface_hub's
snapshot_download (HF_ENDPOINT, HF_HOME / HF_HUB_CACHE, HF_TOKEN and HF_HUB_OFFLINE honoured; a snapshot
already in the hub cache is used as it is, without asking the hub for a newer revision). The index TSV is upstream's: `{root}/{dataset}.tsv`, kept when its
md5 is the one upstream checks, else built again by the class's `prepare(root)` (upstream's
generate_tsv), as upstream does. A folder we may not write to gets its TSV in the data root instead.
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from .. import store
from ..errors import InputError
from ..fileio import md5_of

log = logging.getLogger(__name__)


def hub_snapshot(repo_id: str, revision: str | None = None) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise InputError("fetching a video benchmark from the hub needs huggingface_hub "
                         "(pip install huggingface_hub), or name a local copy under video_roots in the config.") from None
    log.info("hub dataset %s%s: snapshot_download (endpoint %s)", repo_id, f"@{revision}" if revision else "",
             os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:  # a snapshot already in the hub cache is used as it is: never fetched again behind the user's back
        return Path(snapshot_download(repo_id=repo_id, repo_type="dataset", revision=revision, local_files_only=True))
    except Exception:  # not cached yet (huggingface_hub's LocalEntryNotFoundError and kin)
        pass
    try:
        return Path(snapshot_download(repo_id=repo_id, repo_type="dataset", revision=revision))
    except Exception as exc:  # network, auth (gated repos need HF_TOKEN), offline without a cached copy
        raise InputError(f"could not fetch the hub dataset {repo_id}{f'@{revision}' if revision else ''} "
                         f"({type(exc).__name__}: {exc}). Set HF_TOKEN "
                         "for a gated repository or HF_ENDPOINT for a mirror, or download it yourself and name the "
                         "folder under video_roots in the config.") from None


def locate(name: str, url: str, root: str | None, basedir: str | Path = ".") -> Path:
    """The benchmark's folder: the configured one (video_roots), else its registry url: hf://<repo>[@<branch>]
    (a hub snapshot) or a local folder (a path or file:// URL)."""
    where = f"video_roots.{name} in the config"
    if not root and url and not url.startswith("hf://"):
        root, where = (unquote(urlparse(url).path) if url.startswith("file://") else url), f"the url of {name}"
    if root:
        path = Path(root).expanduser()
        path = path if path.is_absolute() else Path(basedir) / path
        if not path.is_dir():
            raise InputError(f"{name}: the video folder {path} ({where}) does not exist; download the benchmark "
                             "there or fix the path.")
        return path.resolve()
    if not url:
        raise InputError(f"{name}: no hub repository is known for it; name its folder under video_roots in the config.")
    repo, _, revision = url[len("hf://"):].partition("@")
    return hub_snapshot(repo, revision or None)


def index_tsv(name: str, dataset, root: Path, data_root: str | Path, md5: str | None = None) -> Path:
    """Upstream's index TSV for the folder: reused when its md5 is upstream's, else built by prepare()."""
    expected = md5 or dataset.INDEX_MD5
    candidates = [root / f"{name}.tsv",
                  Path(data_root) / "video" / f"{name}.{hashlib.sha1(str(root).encode()).hexdigest()[:8]}.tsv"]
    for tsv in candidates:
        if tsv.exists() and expected and md5_of(tsv) == expected:
            log.info("%s: %s has upstream's md5 %s: using it", name, tsv, expected)
            return tsv
    for tsv in candidates:
        tmp = tsv.with_name(f".{tsv.name}.{store.unique_name('tmp')}")
        try:
            tsv.parent.mkdir(parents=True, exist_ok=True)
            data = _write_index(dataset, root, tmp)
            os.replace(tmp, tsv)
            break
        except PermissionError:
            log.info("%s: %s is not writable; the index goes to the data root", name, tsv.parent)
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(f"{name}: could not build the index from {root} ({type(exc).__name__}: {exc}). "
                             "Is it the benchmark's folder in the hub layout?") from None
        finally:
            tmp.unlink(missing_ok=True)
    else:
        raise InputError(f"{name}: could not write its index TSV in {root} or the data root.")
    actual = md5_of(tsv)
    if expected and actual != expected:
        log.warning("%s: the index built from %s has md5 %s, not upstream's %s: this copy of the benchmark differs "
                    "from the one upstream was checked against (another release, or a subset); scores may not "
                    "compare with published ones.", name, root, actual, expected)
    log.info("%s: index %s (%d rows, md5 %s)", name, tsv, len(data), actual)
    return tsv


def _write_index(dataset, root: Path, dest: Path):
    """The class's write_index (prepare, then upstream's to_csv), where the class has one."""
    if hasattr(dataset, "write_index"):
        return dataset.write_index(root, dest)
    data = dataset.prepare(root)
    data.to_csv(dest, sep="\t", index=False)  # as upstream's generate_tsv writes it
    return data


def run(name: str, dataset, url: str, md5: str | None, root: str | None, basedir: str | Path,
        data_root: str | Path, link: str | Path, root_file: str | Path) -> Path:
    """Link the index TSV into the work dir (`link`) and write the folder's path to `root_file`."""
    folder = locate(name, url, root, basedir)
    with store.locked(Path(data_root) / ".locks" / f"{name}.video.lock", f"preparing {name}"):
        tsv = index_tsv(name, dataset, folder, data_root, md5)
    store.link(tsv, link)
    Path(root_file).parent.mkdir(parents=True, exist_ok=True)
    Path(root_file).write_text(str(folder) + "\n")
    return tsv
