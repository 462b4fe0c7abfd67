"""`vlmeval-steps run` without --judge picks the judge as upstream's run.py does, through the real command
line against a real judge server (`transformers serve` with the demo model on loopback): upstream's default
judge when it answers (probed once before any job), exact matching otherwise, and the result files named
after upstream's default judge in both cases."""
from __future__ import annotations

import json

import pytest

from tests.test_llm_judge import _rules_miss_dataset
from tests.test_run_command import ok, seed_demo_model, vs_run
from vlmeval_steps.fileio import read_jsonl

pytestmark = pytest.mark.slow

NO_JUDGE_ENV = {"OPENAI_API_KEY": "", "OPENAI_API_BASE": "", "LOCAL_LLM": ""}
JUDGED = "work/judged/TinyLLaVA-Demo/Wordy.gpt-4o-mini.jsonl"
RESULT = "results/TinyLLaVA-Demo/Wordy_gpt-4o-mini_result.xlsx"   # upstream's name, judge or fallback


@pytest.fixture
def wordy(workflow):
    """The workflow copy with a benchmark whose answers the rules cannot all decide."""
    cfg = workflow.config()
    cfg["custom_datasets"]["Wordy"] = _rules_miss_dataset(workflow, rows=16)
    workflow.write_config(cfg)  # its judge stays exact_matching: `run` without --judge ignores it, as run.py
    return workflow


def run_wordy(workflow, tmp_path, name, env, *extra):
    wd = tmp_path / name
    seed_demo_model(workflow, wd)
    out = ok(vs_run(workflow, "--data", "Wordy", "--model", "TinyLLaVA-Demo", "--work-dir", wd, "--cores", 2, *extra,
                    cwd=tmp_path, env=env))
    return wd, out


def test_run_picks_the_judge_as_run_py_does(wordy, tmp_path, openai_server):
    # without OPENAI_API_KEY or OPENAI_API_BASE: rules only, files named after upstream's default judge
    before = openai_server.requests_served()
    wd, out = run_wordy(wordy, tmp_path, "wd", NO_JUDGE_ENV)
    assert "judge for Wordy: rules only, files named _gpt-4o-mini_" in out
    assert "neither OPENAI_API_KEY nor OPENAI_API_BASE is set" in out and "--judge exact_matching" in out
    assert openai_server.requests_served() == before     # nothing was asked
    assert (wd / RESULT).exists()
    rows = list(read_jsonl(wd / JUDGED))
    assert "none" in {r["method"] for r in rows}           # the wordy options leave rows undecided
    fallback = {"rules (fallback: gpt-4o-mini did not answer)", "none (fallback: gpt-4o-mini did not answer)"}
    assert {r["decided_by"] for r in rows} <= fallback
    prov = json.loads((wd / "results/TinyLLaVA-Demo/Wordy_provenance.json").read_text())
    assert prov["judge"] == "gpt-4o-mini"
    assert prov["judge_settings"]["model"] == "exact_matching"
    assert prov["judge_settings"]["fallback_from"] == "gpt-4o-mini"
    assert sum(prov["decided_by"].values()) == len(rows)

    # --judge exact_matching: rules as well, under exact matching's names (upstream's too)
    out = ok(vs_run(wordy, "--data", "Wordy", "--model", "TinyLLaVA-Demo", "--work-dir", wd, "-n", "--judge",
                    "exact_matching", cwd=tmp_path, env=NO_JUDGE_ENV))
    assert "judge for Wordy: rules only (exact matching) (--judge)." in out
    assert "Wordy.exact_matching.jsonl" in out and "Wordy_exact_matching" not in str(list(wd.rglob("*")))

    # upstream's local-judge recipe, OPENAI_API_BASE (its full chat/completions URL) and LOCAL_LLM: the
    # same command asks the judge, under the same file names; predictions are reused
    env = dict(NO_JUDGE_ENV, OPENAI_API_BASE=openai_server.base_url + "/chat/completions",
               LOCAL_LLM=openai_server.model)
    out = ok(vs_run(wordy, "--data", "Wordy", "--model", "TinyLLaVA-Demo", "--work-dir", wd, "--cores", 2,
                    cwd=tmp_path, env=env))
    line = next(ln for ln in out.splitlines() if ln.startswith("judge for Wordy:"))
    assert line.startswith("judge for Wordy: gpt-4o-mini, upstream's default (OPENAI_API_BASE is set;")
    assert f"answered as {openai_server.model}" in line and "--judge exact_matching" in line
    assert "rule infer:" not in out and "rule judge_llm:" in out
    assert (wd / RESULT).exists()
    rows = list(read_jsonl(wd / JUDGED))
    judged = [r for r in rows if r["method"] == "judge"]
    assert judged and all(r["decided_by"] == f"judge {openai_server.model}" for r in judged)
    assert "none" not in {r["method"] for r in rows}
    # every request is counted: the one probe before the jobs, then the judge stage's own
    stats = json.loads((wd / (JUDGED + ".usage.json")).read_text())
    assert openai_server.requests_served() - before == 1 + stats["asked"]
    assert len(judged) <= stats["asked"] <= 3 * len(judged)
    prov = json.loads((wd / "results/TinyLLaVA-Demo/Wordy_provenance.json").read_text())
    assert prov["judge"] == "gpt-4o-mini" and prov["judge_settings"]["version"] == openai_server.model
    assert "fallback_from" not in prov["judge_settings"]
    assert prov["decided_by"][f"judge {openai_server.model}"] == len(judged)
