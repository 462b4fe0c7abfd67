"""Ctrl-C on `vlmeval-steps run` (issue 17): the prompt returns only when Snakemake and every job it started
have exited, so the next command starts from a quiet directory; a second Ctrl-C kills them at once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def processes_in(work_dir: Path) -> list[str]:
    """Live processes working in work_dir (their cwd is in it): Snakemake and its jobs."""
    found = []
    root = str(work_dir.resolve())
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != "Z" and (cwd == root or cwd.startswith(root + "/")):
            found.append(f"{pid}: {cmd[:200]}")
    return found


def files(work_dir: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in work_dir.rglob("*") if p.is_file()}


def start_and_wait_for_infer(workflow, work_dir: Path) -> subprocess.Popen:
    # a session of its own, as a shell runs a foreground command: the test's signals reach only the runner
    proc = subprocess.Popen([sys.executable, "-m", "vlmeval_steps", "run", "--data", "DemoShapes", "--model",
                             "TinyLLaVA-Demo", "--work-dir", str(work_dir), "--cores", "2"],
                            cwd=work_dir.parent, env=workflow.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.time() + 600
    while not list((work_dir / "logs" / "infer").rglob("*.log")):
        assert proc.poll() is None, proc.stdout.read()[-4000:]
        assert time.time() < deadline, "no infer job started"
        time.sleep(0.2)
    time.sleep(2)  # the infer jobs are loading the model or answering
    return proc


def test_ctrl_c_returns_only_when_the_whole_run_has_ended(workflow, tmp_path):
    work_dir = tmp_path / "wd"
    proc = start_and_wait_for_infer(workflow, work_dir)
    os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=300)
    assert processes_in(work_dir) == []  # before the fix, the prompt came back with the jobs still running
    assert proc.returncode == 130, out[-4000:]
    before = files(work_dir)
    time.sleep(2)
    assert files(work_dir) == before  # nobody writes any more
    assert "stopping Snakemake and its jobs" in out

    # a second Ctrl-C does not wait for the jobs to wind down: they are killed, and nothing is left running
    work_dir2 = tmp_path / "wd2"
    proc = start_and_wait_for_infer(workflow, work_dir2)
    os.kill(proc.pid, signal.SIGINT)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "killing Snakemake and its jobs" in out, out[-4000:]
    assert processes_in(work_dir2) == []

    # the next run in the interrupted directory resumes and finishes
    rerun = subprocess.run([sys.executable, "-m", "vlmeval_steps", "run", "--data", "DemoShapes", "--model",
                            "TinyLLaVA-Demo", "--work-dir", str(work_dir), "--cores", "2"], cwd=tmp_path,
                           env=workflow.env(), capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert (work_dir / "results/TinyLLaVA-Demo/DemoShapes_acc.csv").exists()
