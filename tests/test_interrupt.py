"""Ctrl-C on `vlmeval-steps run` (issue 17): the prompt returns only when Snakemake and every job it started
have exited, so the next command starts from a quiet directory; a second Ctrl-C kills them at once.
A run killed outright (issue 28) leaves no process behind, and the same command resumes it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def processes_in(work_dir: Path) -> list[str]:
    """Live processes of the run in work_dir: working in it (their cwd), naming it on their command line
    (Snakemake, the watchdog), or marked with it in their environment (whatever the runner started)."""
    found = []
    root = str(work_dir.resolve())
    mark = f"VLMEVAL_STEPS_RUN={root}".encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if state != "Z" and (cwd == root or cwd.startswith(root + "/") or root in cmd or mark in environ):
            found.append(f"{pid}: {cmd[:200]}")
    return found


def files(work_dir: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in work_dir.rglob("*") if p.is_file()}


def run_command(work_dir: Path) -> list[str]:
    return [sys.executable, "-m", "vlmeval_steps", "run", "--data", "DemoShapes", "--model", "TinyLLaVA-Demo",
            "--work-dir", str(work_dir), "--cores", "2"]


def cached_keys(work_dir: Path) -> list[str]:
    """The answer cache's keys, one per line written whole (a torn last line was in flight)."""
    keys = []
    for path in sorted((work_dir / "work/cache").rglob("*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                keys.append(json.loads(line)["key"])
            except json.JSONDecodeError:
                pass
    return keys


def foreground_signals():
    """SIGINT and SIGHUP as a terminal's foreground command gets them, whatever the test run inherited (a suite
    started with `nohup` or `&` from a script ignores both, and its children would too)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def start_run(workflow, work_dir: Path, preexec_fn=None, **kwargs) -> subprocess.Popen:
    # a session of its own, as a shell runs a foreground command: the test's signals reach only the runner
    return subprocess.Popen(run_command(work_dir), cwd=work_dir.parent, env=workflow.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=preexec_fn or foreground_signals, **kwargs)


def start_and_wait_for_infer(workflow, work_dir: Path, **kwargs) -> subprocess.Popen:
    proc = start_run(workflow, work_dir, **kwargs)
    deadline = time.time() + 600
    while not list((work_dir / "logs" / "infer").rglob("*.log")):
        assert proc.poll() is None, proc.stdout.read()[-4000:]
        assert time.time() < deadline, "no infer job started"
        time.sleep(0.2)
    time.sleep(2)  # the infer jobs are loading the model or answering
    return proc


def assert_reported_as_an_interrupt(out: str, work_dir: Path) -> None:
    """One line says what happened and what to do; not Snakemake's report of the jobs it stopped as failures."""
    for noise in ("Error in rule", "WorkflowError", "Traceback", "Aborted!"):
        assert noise not in out, out[-4000:]
    n = len(set(cached_keys(work_dir)))
    assert f"interrupted; {n} answer{'s' * (n != 1)} cached, rerun the same command to resume" in out, out[-4000:]


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
    assert_reported_as_an_interrupt(out, work_dir)

    # a second Ctrl-C does not wait for the jobs to wind down: they are killed, and nothing is left running
    work_dir2 = tmp_path / "wd2"
    proc = start_and_wait_for_infer(workflow, work_dir2)
    os.kill(proc.pid, signal.SIGINT)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "killing Snakemake and its jobs" in out, out[-4000:]
    assert processes_in(work_dir2) == []
    assert_reported_as_an_interrupt(out, work_dir2)

    # the next run in the interrupted directory resumes and finishes
    rerun = subprocess.run(run_command(work_dir), cwd=tmp_path, env=workflow.env(), capture_output=True, text=True,
                           timeout=900)
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert (work_dir / "results/TinyLLaVA-Demo/DemoShapes_acc.csv").exists()


def kill_mid_infer(workflow, work_dir: Path, answers: int, whole_group: bool) -> list[str]:
    """Start the run, SIGKILL it once `answers` answers are cached: no process of it may be left 2 s later
    (before issue 28, Snakemake went on without its parent and wrote results/). The cached keys."""
    proc = start_run(workflow, work_dir)
    deadline = time.time() + 600
    while len(cached_keys(work_dir)) < answers:
        assert proc.poll() is None, proc.stdout.read()[-4000:]
        assert time.time() < deadline, "no answers arrived"
        time.sleep(0.05)
    if whole_group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(2)
    assert processes_in(work_dir) == []
    keys = cached_keys(work_dir)
    assert len(keys) < 120, "the run finished before it was killed"
    before = files(work_dir)
    time.sleep(1)
    assert files(work_dir) == before  # nobody writes any more
    assert not (work_dir / "results/TinyLLaVA-Demo/DemoShapes_acc.csv").exists()
    return keys


def test_a_killed_run_leaves_no_process_and_the_same_command_resumes_it(workflow, tmp_path):
    work_dir = tmp_path / "wd"
    first = kill_mid_infer(workflow, work_dir, answers=10, whole_group=True)  # kill -9 -PGID, a closed tmux pane
    second = kill_mid_infer(workflow, work_dir, answers=len(first) + 10, whole_group=False)  # kill -9 PID
    assert set(first) <= set(second)

    rerun = subprocess.run(run_command(work_dir), cwd=tmp_path, env=workflow.env(), capture_output=True, text=True,
                           timeout=900)
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    keys = cached_keys(work_dir)
    assert len(keys) == len(set(keys)) == 120, "a sample was asked twice, or lost"
    assert set(second) <= set(keys)

    # the results equal an uninterrupted run's
    clean = tmp_path / "clean"
    done = subprocess.run(run_command(clean), cwd=tmp_path, env=workflow.env(), capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    for name in ("DemoShapes_acc.csv", "DemoShapes.tsv"):
        assert (work_dir / "results/TinyLLaVA-Demo" / name).read_text() == \
            (clean / "results/TinyLLaVA-Demo" / name).read_text()


def ignore_sigint():
    foreground_signals()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as `vlmeval-steps run ... &` in a script, or nohup, starts it


@pytest.mark.parametrize("signum, preexec", [(signal.SIGINT, ignore_sigint), (signal.SIGTERM, None),
                                             (signal.SIGHUP, None)], ids=["SIGINT-ignored", "SIGTERM", "SIGHUP"])
def test_sigint_sigterm_and_sighup_stop_the_run_and_say_so(workflow, tmp_path, signum, preexec):
    # before: with SIGINT ignored, Snakemake and its jobs inherited the ignore, and the run went on to the end
    work_dir = tmp_path / "wd"
    proc = start_and_wait_for_infer(workflow, work_dir, preexec_fn=preexec)
    os.kill(proc.pid, signum)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 128 + signum, out[-4000:]
    assert processes_in(work_dir) == []
    assert not (work_dir / "results/TinyLLaVA-Demo/DemoShapes_acc.csv").exists()
    assert_reported_as_an_interrupt(out, work_dir)
