"""The SLURM profile on a real single-node SLURM cluster (scripts/setup_slurm.sh; CI starts it).

Without a cluster the cluster tests are skipped, unless VLMEVAL_STEPS_REQUIRE_SLURM=1 (set by
scripts/test.sh once it has started one) turns the skip into a failure.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")


def _cluster_problem() -> str | None:
    if not shutil.which("sbatch"):
        return "no sbatch on PATH"
    try:
        out = subprocess.run(["sinfo", "-h", "-N", "-o", "%P %G %T"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "sinfo timed out (is slurmctld running?)"
    if out.returncode != 0:
        return f"sinfo failed: {out.stderr.strip()}"
    lines = out.stdout.split("\n")
    if not any(line.startswith("gpu ") and "gpu:" in line and ("idle" in line or "mixed" in line) for line in lines):
        return f"no usable node with GPUs in a partition named gpu: {out.stdout.strip()!r}"
    return None


@pytest.fixture(scope="module")
def slurm_cluster():
    problem = _cluster_problem()
    if problem:
        message = f"no SLURM cluster with fake GPUs ({problem}); start one with `sudo bash scripts/setup_slurm.sh`"
        if os.environ.get("VLMEVAL_STEPS_REQUIRE_SLURM") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _job_info(job_id: str) -> dict[str, str]:
    out = subprocess.run(["scontrol", "-d", "-o", "show", "job", job_id], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    return dict(re.findall(r"(\w+)=(\S*)", out))


def test_demo_on_slurm_matches_a_local_run(workflow, slurm_cluster):
    # the profile's partition comes from $SLURM_PARTITION; `gpu` is not the cluster's default one.
    # A shorter first status check than the profile's 20 s keeps the test short.
    run = workflow.snakemake("--profile", "workflow/profiles/slurm", "--slurm-init-seconds-before-status-checks", "3",
                             env={"SLURM_PARTITION": "gpu"}, timeout=600)
    out = run.stdout + run.stderr

    # downloads stayed on the submitting machine; every other stage was an sbatch job
    assert "localrule download:" in out and "localrule verify:" in out
    jobs = {}
    for job_id, log in SUBMITTED.findall(out):
        rule = re.search(r"/rule_(\w+?)/", log)[1]
        jobs.setdefault(rule, []).append((job_id, Path(log)))
    assert sorted(jobs) == ["build_prompts", "infer", "judge", "merge", "score"], out[-3000:]
    assert len(jobs["infer"]) == 2
    for rule, submitted in jobs.items():
        for job_id, log in submitted:
            assert log.is_relative_to(workflow.root / "logs" / "slurm") and log.exists()  # successful logs kept
            info = _job_info(job_id)
            assert info["JobState"] == "COMPLETED" and info["Partition"] == "gpu", info
            # only local-model inference holds a GPU
            assert info["JOB_GRES"] == ("gpu:1" if rule == "infer" else "(null)"), (rule, info)

    # each shard ran on the GPU SLURM gave its job: the step logs it, and SLURM says which one
    for job_id, log in jobs["infer"]:
        shard = re.search(r"_(\d+)_2/", str(log))[1]
        infer_log = (workflow.root / f"logs/infer/TinyLLaVA-Demo/DemoShapes/shard-{shard}-of-2.log").read_text()
        m = re.search(r"GPUs: CUDA_VISIBLE_DEVICES=(\S+), given by SLURM job (\d+)", infer_log)
        assert m and m[2] == job_id, infer_log
        assert m[1] in {"0", "1", "2", "3"}

    slurm_acc = (workflow.root / "results/TinyLLaVA-Demo/DemoShapes_acc.csv").read_text()
    slurm_predictions = (workflow.root / "results/TinyLLaVA-Demo/DemoShapes.tsv").read_text()
    assert float(slurm_acc.splitlines()[1].split(",")[1].strip('"')) >= 0.9

    # the same workflow on this machine, from scratch (answer cache included)
    for name in ("results", "work", "logs"):
        shutil.rmtree(workflow.root / name)
    workflow.snakemake()
    assert (workflow.root / "results/TinyLLaVA-Demo/DemoShapes_acc.csv").read_text() == slurm_acc
    assert (workflow.root / "results/TinyLLaVA-Demo/DemoShapes.tsv").read_text() == slurm_predictions


def test_only_local_model_inference_asks_for_a_gpu(workflow):
    """The infer rule's `gpu` resource, which the SLURM plugin turns into sbatch --gpus (0: none)."""
    cfg = workflow.config()
    cfg["models"] = ["TinyLLaVA-Demo", "Remote"]
    cfg["custom_models"] = {"Remote": {"class": "OpenAIAPI", "model": "some-model",
                                       "api_base": "http://127.0.0.1:9/v1", "shards": 2}}
    workflow.write_config(cfg)
    out = workflow.snakemake("-n").stdout
    gpu = {}
    for block in re.split(r"\n\[[^\]\n]+\]\n", out):  # one block per job, after its timestamp
        m = re.search(r"rule (\w+):.*?wildcards: model=([\w-]+).*?resources: ([^\n]*)", block, re.S)
        if m:
            gpu.setdefault((m[1], m[2]), set()).add(re.search(r"gpu=(\d+)", m[3])[1]
                                                     if "gpu=" in m[3] else "none")
    assert gpu[("infer", "TinyLLaVA-Demo")] == {"1"}
    assert gpu[("infer", "Remote")] == {"0"}
    assert gpu[("merge", "Remote")] == gpu[("score", "TinyLLaVA-Demo")] == {"none"}
