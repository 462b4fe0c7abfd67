"""Two runs on one working directory: the second refuses clearly, the first finishes untouched."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow


def test_second_run_on_the_same_directory_refuses(workflow):
    first = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2"], cwd=workflow.root,
                             env=workflow.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        locks = workflow.root / ".snakemake" / "locks"
        deadline = time.time() + 60
        while not (locks.exists() and any(locks.iterdir())):
            assert first.poll() is None, first.stdout.read()
            assert time.time() < deadline, "the first run never took its lock"
            time.sleep(0.2)
        second = workflow.snakemake(check=False)
        out = second.stdout + second.stderr
        assert second.returncode != 0
        assert "Directory cannot be locked" in out
    finally:
        out, _ = first.communicate(timeout=600)
    assert first.returncode == 0, out[-3000:]
    assert (workflow.root / "results/TinyLLaVA-Demo/DemoShapes_acc.csv").exists()
