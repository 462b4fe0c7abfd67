"""Recover from a killed run without `snakemake --unlock`.

Snakemake's directory lock is a set of files with no owner, so a run killed with SIGKILL
leaves them behind and the next run refuses to start. The main Snakemake process of every run
holds an flock on `.snakemake/vlmeval-steps-run.lock` for its lifetime; the kernel drops it when
the process dies. A run that can take that flock therefore knows no other run of this directory
is alive, and that any Snakemake lock files present are stale.
"""
from __future__ import annotations

import fcntl
import logging
from pathlib import Path

from .store import NO_LOCKS

log = logging.getLogger(__name__)


def hold_run_lock(snakemake_dir: str | Path = ".snakemake"):
    """Take the liveness lock and clear stale Snakemake locks. Returns the open lock file, which
    the caller keeps for the life of the run, or None when another run is alive (then nothing is
    touched and Snakemake's own lock check decides)."""
    snakemake_dir = Path(snakemake_dir)
    snakemake_dir.mkdir(exist_ok=True)
    fh = open(snakemake_dir / "vlmeval-steps-run.lock", "a")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    except OSError as exc:
        fh.close()
        if exc.errno not in NO_LOCKS:
            raise
        # without locks no run can tell whether another is alive: clear nothing, Snakemake's own check decides
        log.warning("%s: this file system has no file locks; a run killed here leaves Snakemake's lock behind "
                    "(clear it with `snakemake --unlock`)", snakemake_dir)
        return None
    stale = [p for p in (snakemake_dir / "locks").glob("*") if p.is_file()]
    if stale:
        log.warning("removing %d Snakemake lock file(s) left by a run that was killed", len(stale))
        print(f"vlmeval-steps: a previous run was killed; removed its {len(stale)} stale lock file(s).")
        for p in stale:
            p.unlink(missing_ok=True)
    return fh
