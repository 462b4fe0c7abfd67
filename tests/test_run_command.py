"""`vlmeval-steps run` end to end: VLMEvalKit-style options and EvalScope task files run the demo through
Snakemake in their own work dirs and score exactly what the Snakemake target scores."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from vlmeval_steps.evalscope import safe_name

pytestmark = pytest.mark.slow

ACC = "results/TinyLLaVA-Demo/DemoShapes_limit20_acc.csv"
SECRET = "sk-e2e-never-in-a-file-41c7"


def vs_run(workflow, *args, cwd, env=None, timeout=900):
    """`python -m vlmeval_steps run ...` with the workflow copy's package (its Snakefile is the one used)."""
    proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", "run", *map(str, args)], cwd=cwd,
                          env=workflow.env(env), capture_output=True, text=True, timeout=timeout)
    return proc


def ok(proc):
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    return proc.stdout + proc.stderr


def seed_demo_model(workflow, work_dir: Path) -> None:
    # as the workflow fixture does: the trained demo model stands in for the demo_model rule's output
    shutil.copytree(workflow.root / "resources/models/tiny-llava-demo", work_dir / "resources/models/tiny-llava-demo")


def planned(output: str) -> dict[str, int]:
    if "Nothing to be done" in output:
        return {}
    counts = {}
    for line in output.split("Job stats:", 1)[1].splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    counts.pop("total", None)
    return counts


def test_vlmevalkit_and_evalscope_entry_points_match_the_snakemake_target(workflow, tmp_path):
    workflow.snakemake(ACC)
    expected = (workflow.root / ACC).read_text()

    # VLMEvalKit's run.py options, from another folder, into a fresh work dir
    vk = tmp_path / "vk"
    seed_demo_model(workflow, vk)
    out = ok(vs_run(workflow, "--data", "DemoShapes", "--model", "TinyLLaVA-Demo", "--limit", 20, "--work-dir", vk,
                    "--cores", 2, "--verbose", cwd=tmp_path))
    assert (vk / ACC).read_text() == expected
    for name in ("summary.csv", "summary.md", "summary_provenance.csv", "report.html"):
        assert (vk / "results" / name).exists(), name
    assert f"Results in {vk}" in out and "Report: results/report.html" in out  # the onsuccess hook
    assert "TinyLLaVA-Demo / DemoShapes_limit20:" in out
    # incremental like any Snakemake run: the same command again has nothing to do
    assert "Nothing to be done" in ok(vs_run(workflow, "--data", "DemoShapes", "--model", "TinyLLaVA-Demo",
                                             "--limit", 20, "--work-dir", vk, "-n", cwd=tmp_path))

    # EvalScope's task file: a named model and a local checkpoint given by path, same settings as the demo's
    es = tmp_path / "es"
    seed_demo_model(workflow, es)
    task = {"work_dir": str(es), "eval_backend": "VLMEvalKit", "eval_config": {
        "model": ["TinyLLaVA-Demo", {"name": "MyCheckpoint",
                                     "model_path": str(workflow.root / "resources/models/tiny-llava-demo"),
                                     "device": "cpu", "dtype": "float32", "max_new_tokens": 8, "do_sample": False}],
        "data": ["DemoShapes"], "mode": "all", "limit": 20, "reuse": False, "nproc": 2}}
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(task))
    out = ok(vs_run(workflow, "--config", tmp_path / "task.yaml", "--cores", 2, cwd=tmp_path))
    assert (es / ACC).read_text() == expected
    assert (es / "results/MyCheckpoint/DemoShapes_limit20_acc.csv").read_text() == expected
    summary = (es / "results/summary.csv").read_text().splitlines()
    assert summary[0].startswith("model,DemoShapes_limit20,DemoShapes_limit20 ci_low,") and len(summary) == 3
    assert "MyCheckpoint" in out


def test_infer_mode_stops_after_the_merged_predictions(workflow, tmp_path):
    wd = tmp_path / "wd"
    jobs = planned(ok(vs_run(workflow, "--data", "DemoShapes", "--model", "TinyLLaVA-Demo", "--mode", "infer",
                             "--work-dir", wd, "-n", cwd=tmp_path)))
    assert jobs.get("merge") == 1 and jobs.get("infer") == 2  # the demo model runs in two shards
    assert not {"judge", "score", "summary", "report"} & set(jobs)
    jobs = planned(ok(vs_run(workflow, "--data", "DemoShapes", "--model", "TinyLLaVA-Demo", "--work-dir", wd, "-n",
                             cwd=tmp_path)))
    assert {"judge": 1, "score": 1, "summary": 1, "report": 1}.items() <= jobs.items()

    # a real infer run in a work dir that has a leaderboard and a report from before: the run's last
    # lines point at the predictions it wrote, not at the files it did not update
    seed_demo_model(workflow, wd)
    (wd / "results").mkdir(parents=True)
    for old in ("summary.md", "report.html"):
        (wd / "results" / old).write_text("from an earlier run\n")
    out = ok(vs_run(workflow, "--data", "DemoShapes", "--model", "TinyLLaVA-Demo", "--mode", "infer", "--limit", 4,
                    "--work-dir", wd, "--cores", 2, cwd=tmp_path))
    end = out[out.index(f"Results in {wd}"):]
    assert "TinyLLaVA-Demo / DemoShapes_limit4: predictions only" in end
    assert "results/TinyLLaVA-Demo/DemoShapes_limit4.xlsx" in end
    assert "summary.md" not in end and "report.html" not in end


def test_a_bad_name_fails_before_snakemake_with_the_known_names(workflow, tmp_path):
    proc = vs_run(workflow, "--data", "DemoShapes", "--model", "NoSuchModel", "--work-dir", tmp_path / "wd",
                  cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown model 'NoSuchModel'" in proc.stderr and "TinyLLaVA-Demo" in proc.stderr
    assert not (tmp_path / "wd").exists()


def test_evalscope_api_task_against_a_real_server_keeps_the_key_out_of_every_file(workflow, tmp_path, openai_server):
    es = tmp_path / "api"
    task = {"work_dir": str(es), "eval_backend": "VLMEvalKit", "eval_config": {
        "model": [{"type": openai_server.model, "name": "CustomAPIModel",
                   "api_base": openai_server.base_url + "/chat/completions", "key": SECRET, "temperature": 0.0,
                   "img_size": -1}],
        "data": ["DemoShapes"], "mode": "all", "limit": 8, "reuse": False, "nproc": 2}}
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(task))
    before = openai_server.requests_served()
    ok(vs_run(workflow, "--config", tmp_path / "task.yaml", "--cores", 2, cwd=tmp_path))
    name = next(p.name for p in (es / "results").iterdir() if p.is_dir())
    assert (es / f"results/{name}/DemoShapes_limit8_acc.csv").exists()
    assert openai_server.requests_served() - before == 8
    leaked = [str(p) for p in es.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaked == []
    assert "key_env" in (es / ".vlmeval-steps/config.yaml").read_text()


@pytest.mark.parametrize("separator", [["--"], ["--", "--"]])
def test_snakemake_flags_after_the_double_dash_reach_snakemake(workflow, tmp_path, separator):
    """The documented form (`-- --resources gpu=N`), and `-- --` that users tried when it failed: the flags go
    to Snakemake, our targets are kept (a flag taking several values must not swallow them)."""
    wd = tmp_path / "wd"
    base = ["--data", "DemoShapes", "--model", "TinyLLaVA-Demo", "--work-dir", wd, "-n"]
    out = ok(vs_run(workflow, *base, *separator, "--resources", "gpu=1", cwd=tmp_path))
    jobs = planned(out)
    assert {"score", "summary", "report"} <= set(jobs)       # the targets survived --resources
    assert "--resources gpu=1" in out                        # the command echoed, as Snakemake got it
    # a flag that changes the plan: only what build_prompts needs
    jobs = planned(ok(vs_run(workflow, *base, *separator, "--resources", "gpu=1", "--until", "build_prompts",
                             cwd=tmp_path)))
    assert set(jobs) == {"download", "build_prompts"}


def test_run_help_says_where_snakemake_flags_go(workflow, tmp_path):
    out = " ".join(ok(vs_run(workflow, "--help", cwd=tmp_path)).split())
    assert "Arguments after `--` go to Snakemake" in out and "--resources gpu=1" in out


def merged(workflow, *args, cwd) -> str:
    """stdout and stderr in one stream, in order: each plan's output follows the line announcing it."""
    proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", "run", *map(str, args)], cwd=cwd,
                          env=workflow.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:]
    return proc.stdout


def test_models_per_plan_plans_each_model_alone_then_the_leaderboard(workflow, tmp_path):
    """--models-per-plan 1: one Snakemake plan per model in turn, each holding only that model's jobs, then a
    leaderboard plan of two jobs. What it leaves is what one plan would have made: a one-plan run of the same
    options afterwards has nothing to do."""
    wd = tmp_path / "wd"
    base = ["--data", "DemoShapes", "--model", "TinyLLaVA-Demo", "TinyLLaVA-Demo-Terse", "--limit", 8,
            "--work-dir", wd]
    plans = merged(workflow, *base, "--models-per-plan", 1, "-n", cwd=tmp_path).split("vlmeval-steps run: plan ")[1:]
    assert [p.split(":", 1)[0] for p in plans] == ["1 of 2", "2 of 2"]
    first, second = (planned(p) for p in plans)
    assert first["infer"] == 2 and second["infer"] == 1  # the demo model's two shards; Terse runs in one
    assert first["score"] == second["score"] == 1 and not {"summary", "report"} & (set(first) | set(second))
    assert "then the leaderboard" in plans[-1]

    seed_demo_model(workflow, wd)
    out = merged(workflow, *base, "--models-per-plan", 1, "--cores", 2, cwd=tmp_path)
    leaderboard = out.split("vlmeval-steps run: the leaderboard", 1)[1]
    assert planned(leaderboard) == {"summary": 1, "report": 1}
    rows = (wd / "results/summary.csv").read_text().splitlines()
    assert len(rows) == 3 and {r.split(",")[0] for r in rows[1:]} == {"TinyLLaVA-Demo", "TinyLLaVA-Demo-Terse"}
    assert "Nothing to be done" in ok(vs_run(workflow, *base, "-n", cwd=tmp_path))


def test_base_url_evaluates_a_served_model_without_a_config_entry(workflow, tmp_path, openai_server):
    """run.py's --base-url: the --model is the endpoint's model id; results under its last path part, keys from the
    environment only; --judge-base-url and --judge-api-nproc reach the judge's settings."""
    wd = tmp_path / "served"
    before = openai_server.requests_served()
    out = ok(vs_run(workflow, "--base-url", openai_server.base_url, "--model", openai_server.model,
                    "--data", "DemoShapes", "--limit", 6, "--max-tokens", 16, "--work-dir", wd, "--cores", 2,
                    "--judge-base-url", openai_server.base_url, "--judge-api-nproc", 3, cwd=tmp_path,
                    env={"OPENAI_API_KEY": SECRET}))
    name = safe_name(openai_server.model)  # as an EvalScope task names it
    assert f"as model {name} (results/{name}/)" in out
    assert (wd / f"results/{name}/DemoShapes_limit6_acc.csv").exists()
    # the 6 answers, and run.py's default judge probed at --judge-base-url (this server serves one model, so it
    # refuses gpt-4o-mini: rules only, files named as upstream names them)
    assert openai_server.requests_served() - before == 7
    assert "judge for DemoShapes: rules only, files named _gpt-4o-mini_" in out
    # the run's last lines: the failure rates per pair that upstream's status file holds
    end = out[out.index(f"{name} / DemoShapes_limit6:"):]
    assert re.match(r".*\n.*_acc\.csv\n +inference failed 0/6 \(0\.0 %\), not extracted \d/6 \(\d+\.\d %\)\n", end)
    config = yaml.safe_load((wd / ".vlmeval-steps/config.yaml").read_text())
    assert config["custom_models"][name] == {"class": "OpenAIAPI", "model": openai_server.model,
                                             "api_base": openai_server.base_url, "max_tokens": 16, "timeout": 1800,
                                             "temperature": 0}
    assert config["judge"]["api_base"] == openai_server.base_url and config["judge"]["nproc"] == 3
    assert [str(p) for p in wd.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()] == []
    # a key on the command line is refused, and not echoed
    proc = vs_run(workflow, "--base-url", openai_server.base_url, "--model", "m", "--data", "DemoShapes",
                  "--key", SECRET, "-n", cwd=tmp_path)
    assert proc.returncode != 0 and "not taken on the command line" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
