"""The shared stores: the data root (benchmark TSVs) and the model store (models the workflow builds).

Every work dir and every concurrent run of one user uses the same two folders by default, on one
machine or on cluster nodes that share a file system, so a second work dir neither downloads a
benchmark again nor retrains the demo model. Three rules keep that safe:

- a writer holds a lock file (flock; on NFS the kernel maps it to a POSIX lock the server
  arbitrates) while it fills an entry, so one run downloads or builds and the others wait, then reuse;
- an entry is written under a name no other process uses (host, pid, random) and renamed into
  place, so a reader never sees half of it, even where locks are not supported;
- a work dir never owns a shared entry: its Snakemake output is a symlink to it
  (resources/data/X.tsv, resources/models/NAME). Snakemake deletes a job's outputs before it
  runs and after it fails; with a link it only ever deletes the link.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import secrets
import shutil
import socket
import sys
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_DATA_ROOT = "~/LMUData"                       # upstream's LMUDataRoot() without $LMUData
DEFAULT_MODEL_STORE = "~/.cache/vlmeval-steps/models"
MODEL_STORE_ENV = "VLMEVAL_STEPS_MODELS"
# file systems without locks (Lustre mounted without -o flock, some FUSE) answer these
NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


def data_root(configured: str | None = None) -> str:
    """The config's data_root, else $LMUData, else ~/LMUData (as upstream)."""
    root = configured or os.environ.get("LMUData") or DEFAULT_DATA_ROOT
    return str(Path(os.path.expanduser(str(root)))).rstrip("/") or "/"


def model_store(configured: str | None = None) -> str:
    """The config's model_store, else $VLMEVAL_STEPS_MODELS, else ~/.cache/vlmeval-steps/models."""
    root = configured or os.environ.get(MODEL_STORE_ENV) or DEFAULT_MODEL_STORE
    return str(Path(os.path.expanduser(str(root))))


def unique_name(name: str) -> str:
    """A name no other process (on this or another node) writes: for temporary files beside `name`."""
    return f".{name}.{socket.gethostname()}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


@contextlib.contextmanager
def locked(lock_path: str | Path, what: str):
    """Hold an exclusive lock on `lock_path` (created if needed) for the block; wait for it if another
    process holds it. The kernel drops the lock when its holder dies, so a killed run blocks nobody.
    Yields False where the file system has no locks: then the caller must not write a fixed name."""
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    held = True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another run %s (lock %s)", what, lock_path)
            print(f"vlmeval-steps: waiting for another run {what} ...", file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            if exc.errno not in NO_LOCKS:
                raise
            log.warning("%s: this file system has no file locks; going on without (entries are still written "
                        "under unique names and renamed into place)", lock_path)
            held = False
        yield held
    finally:
        os.close(fd)  # releases the lock


def link(target: str | Path, link_path: str | Path) -> None:
    """Make `link_path` a symlink to `target` (absolute), replacing whatever link or work-dir copy is there."""
    target, link_path = Path(target).resolve(), Path(link_path)
    link_path.parent.mkdir(parents=True, exist_ok=True)
    if link_path.is_dir() and not link_path.is_symlink():
        shutil.rmtree(link_path)  # a copy an older version of the workflow kept in the work dir
    tmp = link_path.with_name(unique_name(link_path.name))
    os.symlink(target, tmp)
    os.replace(tmp, link_path)


def build_once(entry: str | Path, build: Callable[[Path], None], what: str) -> bool:
    """Make sure the folder `entry` exists, calling build(tmp_folder) at most once among all the runs that
    ask at the same time. An entry that exists is complete (it only appears by a rename). Returns True
    when this call built it."""
    entry = Path(entry)
    with locked(entry.parent / ".locks" / f"{entry.name}.lock", f"building {what}"):
        if entry.is_dir():
            log.info("%s is already built in the store: %s (reused, not built again)", what, entry)
            return False
        tmp = entry.with_name(unique_name(entry.name))
        try:
            build(tmp)
            try:
                os.rename(tmp, entry)
            except OSError as exc:  # without locks another run may have renamed its copy first
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not entry.is_dir():
                    raise
                log.info("%s: another run stored it first; using that copy", entry)
                return False
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("%s built and stored at %s", what, entry)
        return True
