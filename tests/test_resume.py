"""kill -9 of the whole run at random moments: the rerun (the same command) asks only for what has no answer."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from vlmeval_steps.demo import benchmark
from vlmeval_steps.fileio import md5_of

pytestmark = pytest.mark.slow
N_IMAGES = 100  # 200 rows


def cache_records(root):
    recs = []
    for path in (root / "work/cache").rglob("*.jsonl"):
        for line in path.read_text().splitlines():
            try:
                recs.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # a torn last line: that answer was in flight and is asked again
    return recs


def configure(workflow):
    benchmark.write(workflow.root / "demo/Big.tsv", n_images=N_IMAGES, seed=11)
    cfg = workflow.config()
    cfg["models"] = ["TinyLLaVA-Demo"]  # one model: N answers per sample set
    cfg["datasets"] = ["Big"]
    cfg["custom_datasets"]["Big"] = {"url": "demo/Big.tsv", "md5": md5_of(workflow.root / "demo/Big.tsv"),
                                     "type": "MCQ"}
    workflow.write_config(cfg)


def test_kill_and_resume_loses_nothing_and_repeats_nothing(workflow, tmp_path_factory):
    configure(workflow)
    rng = random.Random(3)
    kills = 0
    for _ in range(3):
        before = len(cache_records(workflow.root))
        proc = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2"], cwd=workflow.root,
                                env=workflow.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        target = before + rng.randint(10, 50)
        deadline = time.time() + 300
        while len(cache_records(workflow.root)) < target and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole run: snakemake and its jobs
            kills += 1
        proc.wait()
    assert kills >= 2, "the run finished before it could be killed; make the dataset bigger"

    workflow.snakemake()  # the same command again: no --unlock, no cleanup
    keys = [r["key"] for r in cache_records(workflow.root)]
    assert len(keys) == len(set(keys)), "a sample was answered twice"
    assert len(keys) == 2 * N_IMAGES, "a sample was lost"

    # the table equals an uninterrupted run's
    clean = type(workflow)(tmp_path_factory.mktemp("clean") / "wf")
    import shutil

    shutil.copytree(workflow.root, clean.root, ignore=shutil.ignore_patterns("work", "results", "LMUData",
                                                                             ".snakemake", "logs", "resources"))
    shutil.copytree(workflow.root / "resources/models", clean.root / "resources/models")
    clean.snakemake()
    name = "results/TinyLLaVA-Demo/Big"
    assert (clean.root / f"{name}_acc.csv").read_text() == (workflow.root / f"{name}_acc.csv").read_text()
    assert (clean.root / f"{name}.tsv").read_text() == (workflow.root / f"{name}.tsv").read_text()
