"""Errors a user can act on. The CLI prints their message without a traceback."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil

#: upstream's marker for an answer that could not be obtained (the prediction a failed request leaves); the
#: models write it and every later stage recognises it, so it lives here, below all of them
FAIL_MSG = "Failed to obtain answer via API."

#: a write that found the file system full, or the user's quota spent
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class InputError(Exception):
    """Bad input (file, row, column, config key or name); the message says where and what to do."""


class DiskFullError(InputError):
    """A write found no space left (ENOSPC, EDQUOT); the message names the file. The CLI exits 3."""


def _free_space(path: str | os.PathLike) -> str:
    """Free space on the file system holding `path` (its nearest existing folder), for the message."""
    folder = os.path.abspath(os.fspath(path))
    while folder != os.path.dirname(folder) and not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    try:
        free = float(shutil.disk_usage(folder).free)
    except OSError:
        return "free space unknown"
    if free < 1024:
        return f"{free:.0f} bytes free"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        free /= 1024
        if free < 1024 or unit == "TiB":
            break
    return f"{free:.1f} {unit} free"


def disk_full_error(path, exc: OSError) -> DiskFullError:
    """The one-line error for a write of `path` that failed with ENOSPC or EDQUOT."""
    why = "disk quota exceeded" if exc.errno == errno.EDQUOT else _free_space(path)
    return DiskFullError(f"{path}: no space left on device ({why}). Answers already cached and finished outputs "
                         "are kept: free some space (or raise the quota) and run again to resume.")


@contextlib.contextmanager
def reporting_full_disk(path):
    """Turn ENOSPC/EDQUOT raised in the block into a DiskFullError naming `path`: an OSError from a write
    often names no file at all (its filename is None)."""
    try:
        yield
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise disk_full_error(path, exc) from None
        raise
