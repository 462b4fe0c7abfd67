"""GPU placement for local-model jobs: claim free device ids with lock files, or take SLURM's.

Snakemake's `--resources gpu=N` only counts GPUs; it never says which device a job should use
(every job would land on device 0). So an infer job claims ids itself: one lock file per id,
held with flock for as long as the model lives, and sets CUDA_VISIBLE_DEVICES before CUDA starts.
The kernel drops a flock when its process dies, so a killed job never leaves a GPU taken.

Where the ids come from, first match wins:
  1. $VLMEVAL_STEPS_GPUS, e.g. "0,1,2,3" (the machine's GPUs, or the subset this workflow may use);
  2. $CUDA_VISIBLE_DEVICES, as set around `snakemake` (ids or UUIDs);
  3. `nvidia-smi` (PCI bus order, which CUDA_DEVICE_ORDER=PCI_BUS_ID makes CUDA use too);
  4. torch.cuda.device_count().
No ids at all (a CPU machine) means there is nothing to place: the environment is left alone.

Inside a SLURM job the scheduler has already chosen: when it gave exactly the GPUs the job needs,
they are used as they are, with no locks (another job on the node may see its own, different
GPU under the same id). When it gave more (`salloc --gpus=4`, then snakemake inside), the job
claims its share of them with locks kept per SLURM job.
"""
from __future__ import annotations

import fcntl
import logging
import os
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError
from .store import NO_LOCKS

log = logging.getLogger(__name__)

POOL_ENV = "VLMEVAL_STEPS_GPUS"
LOCK_DIR_ENV = "VLMEVAL_STEPS_GPU_LOCKS"


def parse_ids(value: str | None) -> list[str] | None:
    """'0,1, 2' -> ['0', '1', '2']; None when unset. An empty string means no GPUs."""
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def gpus_needed(spec: dict) -> int:
    """GPUs one infer job of this model holds: `gpus` if set, else 1 for a local model, 0 for an API."""
    from .models import is_local

    if "gpus" in spec:
        return int(spec["gpus"])
    return 1 if is_local(spec) else 0


def _nvidia_smi_ids() -> list[str]:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []


def _torch_ids() -> list[str]:
    try:
        import torch
    except ImportError:
        return []
    # device_count() does not start CUDA (nor cache a count before it starts), so setting
    # CUDA_VISIBLE_DEVICES afterwards still takes effect
    return [str(i) for i in range(torch.cuda.device_count())]


def discover_pool(env: dict | None = None) -> tuple[list[str], str]:
    """The ids jobs on this machine share, and where they came from."""
    env = os.environ if env is None else env
    for name in (POOL_ENV, "CUDA_VISIBLE_DEVICES"):
        ids = parse_ids(env.get(name))
        if ids is not None:
            return ids, f"${name}"
    ids = _nvidia_smi_ids()
    if ids:
        return ids, "nvidia-smi"
    return _torch_ids(), "torch.cuda.device_count()"


def default_lock_dir(env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(LOCK_DIR_ENV):
        return Path(env[LOCK_DIR_ENV])
    base = Path(tempfile.gettempdir()) / "vlmeval-steps-gpus"
    # ids inside a SLURM allocation are relative to it: keep each job's locks apart
    return base / f"slurm-{env['SLURM_JOB_ID']}" if env.get("SLURM_JOB_ID") else base


def _open_lock(directory: Path, gpu_id: str):
    directory.mkdir(parents=True, exist_ok=True)
    try:  # several users may share one machine's GPUs
        os.chmod(directory, 0o777)
    except OSError:
        pass
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in gpu_id)
    path = directory / f"gpu-{safe}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    return os.fdopen(fd, "r+")


def _try_claim(directory: Path, pool: list[str], n: int) -> list[tuple[str, object]]:
    held = []
    for gpu_id in pool:
        fh = _open_lock(directory, gpu_id)
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            continue
        except OSError as exc:
            fh.close()
            _release(held)
            if exc.errno not in NO_LOCKS:
                raise
            # a claim that cannot be locked could put two jobs on one GPU: refuse rather than guess
            raise InputError(f"{directory}: the GPU claims need file locks, and this file system has none "
                             f"({os.strerror(exc.errno)}). Set ${LOCK_DIR_ENV} to a folder on a local disk "
                             f"(the default is {Path(tempfile.gettempdir()) / 'vlmeval-steps-gpus'}).") from None
        # who holds it, for a person looking at the lock files
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.flush()
        held.append((gpu_id, fh))
        if len(held) == n:
            return held
    _release(held)
    return []


def _release(held) -> None:
    for _, fh in held:
        try:
            fcntl.flock(fh, fcntl.LOCK_UN)
        finally:
            fh.close()


@contextmanager
def claim_gpus(n: int, env: dict | None = None, lock_dir: str | Path | None = None, poll: float = 2.0,
               timeout: float | None = None):
    """Hold `n` GPUs for the duration of the block, with CUDA_VISIBLE_DEVICES set to them.

    Yields the ids (an empty list when there is nothing to place). Waits while every GPU of
    the pool is taken by other jobs; `timeout` (seconds) turns that wait into an error.
    """
    env = os.environ if env is None else env
    if n <= 0:
        yield []
        return
    given = parse_ids(env.get("CUDA_VISIBLE_DEVICES"))
    slurm_job = env.get("SLURM_JOB_ID")
    if slurm_job and given is not None:
        if len(given) < n:
            log.warning("SLURM job %s was given GPUs %s but the model needs %d; check the gpu resource",
                        slurm_job, ",".join(given) or "(none)", n)
        if len(given) <= n:
            log.info("GPUs: CUDA_VISIBLE_DEVICES=%s, given by SLURM job %s", ",".join(given), slurm_job)
            yield given
            return
        pool, source = given, f"SLURM job {slurm_job}'s allocation"
    else:
        pool, source = discover_pool(env)
    if not pool:
        log.info("GPUs: none found (%s); the model runs where its `device` setting puts it", source)
        yield []
        return
    if n > len(pool):
        raise InputError(f"the model needs {n} GPUs but only {len(pool)} are available ({','.join(pool)}, from "
                         f"{source}). Lower the model's `gpus`, or list more ids in ${POOL_ENV}.")
    directory = Path(lock_dir) if lock_dir else default_lock_dir(env)
    t0 = time.monotonic()
    next_note = t0
    while True:
        held = _try_claim(directory, pool, n)
        if held:
            break
        now = time.monotonic()
        if timeout is not None and now - t0 > timeout:
            raise TimeoutError(f"no {n} free GPU(s) among {','.join(pool)} after {timeout:.0f}s (locks in {directory})")
        if now >= next_note:  # say why nothing happens, now and then
            log.info("GPUs: all of %s are taken by other jobs; waiting (locks in %s)", ",".join(pool), directory)
            next_note = now + 60
        time.sleep(poll)
    ids = [gpu_id for gpu_id, _ in held]
    saved = {k: os.environ.get(k) for k in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")}
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(ids)
    if source == "nvidia-smi":  # nvidia-smi numbers GPUs in PCI order; make CUDA agree
        os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    log.info("GPUs: CUDA_VISIBLE_DEVICES=%s, claimed from %s (%s) after %.1fs", os.environ["CUDA_VISIBLE_DEVICES"],
             ",".join(pool), source, time.monotonic() - t0)
    try:
        yield ids
    finally:
        _release(held)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
