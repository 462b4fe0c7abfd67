"""Faults against a real server: kill -9 mid-inference, a server failing a third of its requests,
and a judge behind the same faults. Nothing answered is lost, nothing is asked twice, and every
failure is bounded and counted."""
from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.faulty_proxy import FaultyProxy
from tests.test_resume import cache_records
from vlmeval_steps.demo import benchmark
from vlmeval_steps.fileio import md5_of
from vlmeval_steps.judge.matching import FAIL_MSG

pytestmark = pytest.mark.slow


# The client's timeout is far above what the real server needs even on a busy machine (the tiny model
# answers in well under a second), and the proxy's "slow" fault stays silent for longer than it: only
# the injected faults fail, whatever else the machine is doing.
TIMEOUT = 10
SLOW = TIMEOUT + 2


def api_model(base_url, model, **extra):
    return dict({"class": "OpenAIAPI", "model": model, "api_base": base_url, "max_tokens": 8, "temperature": 0,
                 "nproc": 4, "retry": 3, "wait": 0.1, "timeout": TIMEOUT}, **extra)


def add_dataset(workflow, cfg, name, n_images, seed):
    benchmark.write(workflow.root / f"demo/{name}.tsv", n_images=n_images, seed=seed)
    cfg["custom_datasets"][name] = {"url": f"demo/{name}.tsv", "md5": md5_of(workflow.root / f"demo/{name}.tsv"),
                                    "type": "MCQ"}


def read_acc(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_kill_9_against_a_real_server_repeats_and_loses_nothing(workflow, openai_server, tmp_path_factory):
    cfg = workflow.config()
    add_dataset(workflow, cfg, "Big", n_images=100, seed=11)  # 200 rows
    nproc = 4
    cfg.update(models=["TinyAPI"], datasets=["Big"],
               custom_models={"TinyAPI": api_model(openai_server.base_url, openai_server.model, nproc=nproc,
                                                   timeout=60)})
    workflow.write_config(cfg)
    start = openai_server.requests_served()
    rng = random.Random(5)
    kills = 0
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2"], cwd=workflow.root,
                                env=workflow.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        target = openai_server.requests_served() + rng.randint(15, 45)
        deadline = time.time() + 300
        while openai_server.requests_served() < target and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 2
    workflow.snakemake()  # the same command: no --unlock, no cleanup
    served = openai_server.requests_served() - start
    keys = [r["key"] for r in cache_records(workflow.root)]
    assert len(keys) == len(set(keys)) == 200      # each sample recorded once, none lost
    assert 200 <= served <= 200 + kills * nproc   # at most the requests in flight at each kill are asked again

    clean = type(workflow)(tmp_path_factory.mktemp("clean") / "wf")
    import shutil

    shutil.copytree(workflow.root, clean.root, ignore=shutil.ignore_patterns(
        "work", "results", "LMUData", ".snakemake", "logs"))
    clean.snakemake()
    assert read_acc(clean.root / "results/TinyAPI/Big_acc.csv") == read_acc(workflow.root / "results/TinyAPI/Big_acc.csv")


def test_a_server_failing_a_third_of_requests(workflow, openai_server):
    cfg = workflow.config()
    with FaultyProxy(openai_server.base_url, fail_share=1 / 3, seed=1, slow_seconds=SLOW) as proxy:
        retry = 2
        cfg.update(models=["Flaky"], custom_models={"Flaky": api_model(proxy.base_url, openai_server.model,
                                                                     retry=retry)})
        workflow.write_config(cfg)
        first = workflow.snakemake(check=False)         # bounded: the run's own timeout fails a hang
        assert set(proxy.faults) == {"429", "500", "slow", "malformed", "drop"}
        assert max(proxy.attempts.values()) <= retry    # within the retry bounds
        out = first.stdout + first.stderr
        failed_first = sum(1 for r in cache_records(workflow.root) if not r.get("ok", True))
        assert failed_first > 0                         # with 2 tries, about 1 in 9 samples fails
        # failures are never scored: the infer job stops, says how many, and asks only them next time
        assert first.returncode != 0 and "failed" in out and "Run again to ask only the failed ones" in out
        assert not (workflow.root / "results/Flaky/DemoShapes_acc.csv").exists()
        attempts_before = sum(proxy.attempts.values())
        ok_before = sum(1 for r in cache_records(workflow.root) if r.get("ok", True))

        # keep_failed: the run finishes, failures count as wrong and the score says how many failed
        cfg["custom_models"]["Flaky"]["keep_failed"] = True
        workflow.write_config(cfg)
        workflow.snakemake()
        assert sum(proxy.attempts.values()) == attempts_before  # nothing asked again
        prov = json.loads((workflow.root / "results/Flaky/DemoShapes_provenance.json").read_text())
        with open(workflow.root / "results/Flaky/DemoShapes.tsv", newline="") as fh:
            preds = [r["prediction"] for r in csv.DictReader(fh, delimiter="\t")]
        assert prov["failed_predictions"] == sum(FAIL_MSG in p for p in preds) == failed_first
        assert len(preds) == 120 and ok_before + failed_first == 120

        # without keep_failed again: the next run asks only the failed samples, until all are answered
        cfg["custom_models"]["Flaky"]["retry"] = 8
        cfg["custom_models"]["Flaky"].pop("keep_failed")
        workflow.write_config(cfg)
        proxy.attempts.clear()
        workflow.snakemake("--forcerun", "infer_api")  # an API model's shards
        assert len(proxy.attempts) == failed_first            # only the failed samples were asked
        assert not any(FAIL_MSG in p for p in
                       (r["prediction"] for r in csv.DictReader(
                           open(workflow.root / "results/Flaky/DemoShapes.tsv", newline=""), delimiter="\t")))


def test_a_judge_failing_a_third_of_requests(workflow, openai_server):
    from tests.test_llm_judge import _rules_miss_dataset

    cfg = workflow.config()
    cfg["datasets"] = ["Wordy"]
    cfg["custom_datasets"]["Wordy"] = _rules_miss_dataset(workflow)
    with FaultyProxy(openai_server.base_url, fail_share=1 / 3, seed=4, slow_seconds=SLOW) as proxy:
        cfg["judge"] = {"model": openai_server.model, "api_base": proxy.base_url, "max_tokens": 8, "nproc": 4,
                        "retry": 2, "wait": 0.1, "timeout": TIMEOUT}
        workflow.write_config(cfg)
        n_rows = len((workflow.root / "demo/Wordy.tsv").read_text().splitlines()) - 1
        first = workflow.snakemake(check=False)
        out = first.stdout + first.stderr
        first_attempts = sum(proxy.attempts.values())
        # within bounds: at most 3 judge prompts per row (upstream's tries), each tried at most `retry` times
        assert proxy.faults and first_attempts <= 2 * 3 * n_rows
        # the judge stage refuses to score from failed judge calls, and says so
        assert first.returncode != 0 and "after all retries" in out and "asks only the rest" in out
        assert not (workflow.root / "results/TinyLLaVA-Demo/Wordy_acc.csv").exists()
        # the next run asks only what has no reply yet, and finishes once the judge answers
        cfg["judge"]["retry"] = 8
        workflow.write_config(cfg)
        workflow.snakemake()
        # a reply that arrived was recorded once and never asked for again
        replies = [r["key"] for p in (workflow.root / "work/cache/judge").rglob("*.jsonl")
                   for r in map(json.loads, p.read_text().splitlines()) if r.get("ok", True)]
        assert replies and len(replies) == len(set(replies))
        forwarded = proxy.forwarded
        workflow.snakemake("--forcerun", "judge_llm")
        assert proxy.forwarded == forwarded  # a re-judge is answered by the cache
        assert (workflow.root / "results/TinyLLaVA-Demo/Wordy_acc.csv").exists()
