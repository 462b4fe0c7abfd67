"""The SLURM profile on a real single-node SLURM cluster (scripts/setup_slurm.sh; CI starts it).

Without a cluster the cluster tests are skipped, unless VLMEVAL_STEPS_REQUIRE_SLURM=1 (set by
scripts/test.sh once it has started one) turns the skip into a failure.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

pytestmark = pytest.mark.slow

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


# the plugin's two submission messages: one job, or one job array (one sbatch call each)
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")
SUBMITTED_ARRAY = re.compile(r"Submitted array job with Snakemake IDs ([\d,]+) and SLURM job ID (\d+)\.")
RUN_ID = re.compile(r"SLURM run ID: ([\w-]+)")
PAIRS = [(m, d) for m in ("TinyLLaVA-Demo", "DemoB") for d in ("DemoShapes", "DemoMini")]


def _two_by_two(workflow) -> None:
    """The demo with two local models (2 shards each) on two datasets: 8 infer jobs."""
    from vlmeval_steps.demo import benchmark
    from vlmeval_steps.fileio import md5_of

    mini = workflow.root / "demo" / "DemoMini.tsv"
    benchmark.write(mini, n_images=10, seed=7)
    cfg = workflow.config()
    cfg["models"] = ["TinyLLaVA-Demo", "DemoB"]
    cfg["datasets"] = ["DemoShapes", "DemoMini"]
    cfg["custom_datasets"]["DemoMini"] = {"url": "demo/DemoMini.tsv", "md5": md5_of(mini), "type": "MCQ"}
    demo = yaml.safe_load((workflow.root / "config" / "models.yaml").read_text())["TinyLLaVA-Demo"]
    cfg["custom_models"] = {"DemoB": {**demo, "max_new_tokens": 6}}
    workflow.write_config(cfg)


def _queue_entries(run_id: str) -> list[dict[str, str]]:
    """What SLURM itself holds for this run (the plugin names every job after the run id); squeue
    keeps finished jobs for MinJobAge (300 s on the test cluster). Array tasks show as A_i."""
    out = subprocess.run(["squeue", "-h", "--states=all", "--name", run_id, "-o", "%i|%k|%T|%P|%A"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    rows = [dict(zip(("id", "comment", "state", "partition", "job_id"), line.split("|")))
            for line in out.splitlines() if line.strip()]
    return rows


def _sbatch_calls(out: str) -> list[str]:
    """The SLURM job id of each sbatch call, from the plugin's log."""
    return [m[2] for m in SUBMITTED_ARRAY.finditer(out)] + [m[1] for m in SUBMITTED.finditer(out)]


def _results(workflow) -> dict[str, str]:
    files = [f"results/{m}/{d}{suffix}" for m, d in PAIRS for suffix in ("_acc.csv", ".tsv")]
    return {f: (workflow.root / f).read_text() for f in files}


def test_demo_on_slurm_queues_only_inference_and_matches_a_local_run(workflow, slurm_cluster):
    _two_by_two(workflow)
    # the profile's partition comes from $SLURM_PARTITION; `gpu` is not the cluster's default one.
    # A shorter first status check than the profile's 20 s keeps the test short.
    fast = ["--slurm-init-seconds-before-status-checks", "3"]
    run = workflow.snakemake("--profile", "workflow/profiles/slurm", *fast, env={"SLURM_PARTITION": "gpu"},
                             timeout=900)
    out = run.stdout + run.stderr
    run_id = RUN_ID.search(out)[1]

    # every stage but inference ran here: Snakemake says `localrule` for a job it runs itself
    for rule in ("download", "build_prompts", "merge", "judge", "score", "summary", "report"):
        assert f"localrule {rule}:" in out, (rule, out[-3000:])
    assert "localrule infer:" not in out

    # SLURM saw only the 8 infer shards: 2 models x 2 datasets x 2 shards, as job arrays
    entries = _queue_entries(run_id)
    assert len(entries) == 8, entries
    assert {e["comment"].split("_wildcards_")[0] for e in entries} == {"rule_infer"}, entries
    assert all(re.fullmatch(r"\d+_\d+", e["id"]) for e in entries), entries  # array tasks
    assert {e["state"] for e in entries} == {"COMPLETED"} and {e["partition"] for e in entries} == {"gpu"}
    # fewer sbatch calls than shards: the ready shards went in together
    sbatch_calls = _sbatch_calls(out)
    assert 1 <= len(sbatch_calls) < 8, sbatch_calls
    tasks = {t["JobId"]: t for array_id in sbatch_calls for t in _scontrol(array_id)}
    assert len(tasks) == 8 and all(t["TresPerJob"] == "gres:gpu:1" for t in tasks.values()), tasks

    # each shard ran on the GPU SLURM gave its array task, and says which task it was
    for m, d in PAIRS:
        for shard in (0, 1):
            log = (workflow.root / f"logs/infer/{m}/{d}/shard-{shard}-of-2.log").read_text()
            given = re.search(r"GPUs: CUDA_VISIBLE_DEVICES=(\S+), given by SLURM job (\d+)", log)
            assert given and given[2] in tasks and given[1] in {"0", "1", "2", "3"}, log

    slurm_results = _results(workflow)
    assert float(slurm_results["results/TinyLLaVA-Demo/DemoShapes_acc.csv"].splitlines()[1]
                 .split(",")[1].strip('"')) >= 0.9

    # where the login node may run nothing: the profile's `groups` send merge -> judge -> score to
    # SLURM, one job per model (its datasets joined by group-components)
    groups = ["--groups", "merge=eval-{model}", "judge=eval-{model}", "score=eval-{model}",
              "--group-components", "eval-{model}=10"]
    regroup = workflow.snakemake("--profile", "workflow/profiles/slurm", *fast, *groups, "--forcerun", "merge",
                                 env={"SLURM_PARTITION": "gpu"}, timeout=900)
    out = regroup.stdout + regroup.stderr
    entries = _queue_entries(RUN_ID.search(out)[1])
    assert len(entries) == 2 and {e["state"] for e in entries} == {"COMPLETED"}, entries
    assert all(e["comment"].startswith("rule_eval-") for e in entries), entries  # the group's id
    assert not any("TresPerJob" in _scontrol(e["job_id"])[0] for e in entries)  # no GPU for these
    assert "localrule merge:" not in out and "localrule score:" not in out
    assert "localrule summary:" in out
    assert _results(workflow) == slurm_results

    # the same workflow on this machine, from scratch (answer cache included)
    for name in ("results", "work", "logs"):
        shutil.rmtree(workflow.root / name)
    workflow.snakemake()
    assert _results(workflow) == slurm_results


def _scontrol(job_id: str) -> list[dict[str, str]]:
    """SLURM's record of a job: one dict per array task (one for a plain job)."""
    out = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    return [dict(re.findall(r"(\w+)=(\S*)", line)) for line in out.splitlines() if line.strip()]


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
    assert gpu[("infer_api", "Remote")] == {"0"}
    assert gpu[("merge", "Remote")] == gpu[("score", "TinyLLaVA-Demo")] == {"none"}
