"""`vlmeval-steps status`: grouping Snakemake's file summary by model x dataset (the real command runs in
tests/test_statistics_workflow.py)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from vlmeval_steps.demo import benchmark
from vlmeval_steps.status import classify


def row(path, rule, status="ok", plan="no update"):
    return {"output_file": path, "rule": rule, "status": status, "plan": plan}


def test_each_state_and_its_reason():
    rows = [
        row("results/A/D_acc.csv", "score"), row("results/A/D.tsv", "merge"),
        row("results/B/D_acc.csv", "score", "ok", "update pending"),
        row("work/predictions/B/D/shard-0-of-1.jsonl", "infer", "params changed", "update pending"),
        row("results/C/D_acc.csv", "score", "missing", "update pending"), row("results/C/D.tsv", "merge"),
        row("work/judged/C/D.exact_matching.jsonl", "judge", "missing", "update pending"),
        row("results/E/D_acc.csv", "score", "missing", "update pending"),
        row("work/predictions/E/D/shard-0-of-2.jsonl", "infer"),
        row("work/predictions/E/D/shard-1-of-2.jsonl", "infer", "missing", "update pending"),
        row("results/F/D_acc.csv", "score", "missing", "update pending"),
        row("work/predictions/F/D/shard-0-of-1.jsonl", "infer", "missing", "update pending"),
        row("results/A/D_limit5_acc.csv", "score", "missing", "update pending"),  # another dataset name
    ]
    assert classify(rows, "A", "D")["state"] == "finished"
    b = classify(rows, "B", "D")
    assert b["state"] == "would rerun" and b["stages"] == "infer, score" and b["why"] == "params changed"
    c = classify(rows, "C", "D")
    assert c["state"] == "cached" and c["stages"] == "judge, score"
    e = classify(rows, "E", "D")
    assert e["state"] == "cached" and e["why"] == "1 of 2 inference shards done"
    assert classify(rows, "F", "D")["state"] == "to do"
    # a killed run: no shard written, but the answer cache holds some of the answers
    f = classify(rows, "F", "D", answers=lambda: (1023, 2000))
    assert f["state"] == "in progress" and f["why"] == "1,023 of 2,000 answers cached"
    e = classify(rows, "E", "D", answers=lambda: (1500, 2000))
    assert e["state"] == "in progress" and e["why"] == "1,500 of 2,000 answers cached; 1 of 2 inference shards done"
    assert classify(rows, "F", "D", answers=lambda: (0, 2000))["state"] == "to do"
    assert classify(rows, "F", "D", answers=lambda: None)["state"] == "to do"  # prompts not built yet
    asked = []
    assert classify(rows, "A", "D", answers=lambda: asked.append(1))["state"] == "finished" and not asked
    assert classify(rows, "A", "D_limit5")["state"] == "to do"


def test_an_edited_dataset_tsv_is_the_reason_every_model_reruns():
    # the download's params (the TSV's md5) changed: the link it makes is shared by every model's run
    rows = [
        row("resources/data/D.tsv", "download", "params changed", "update pending"),
        row("results/A/D_acc.csv", "score", "ok", "update pending"),
        row("results/A/D_limit5_acc.csv", "score", "ok", "update pending"),
        row("results/A/DX_acc.csv", "score"),
        row("resources/data/DX.tsv", "download"),
    ]
    for dataset in ("D", "D_limit5"):
        a = classify(rows, "A", dataset)
        assert a["state"] == "would rerun" and a["stages"] == "download, score" and a["why"] == "params changed"
    assert classify(rows, "A", "DX")["state"] == "finished"


@pytest.mark.slow
def test_status_counts_the_answers_a_killed_run_left_in_the_cache(workflow):
    """The real workflow: one of the demo model's two shards answered, then its output lost (as when the run
    is killed before the other shard and the merge): no shard is done, half the answers are cached."""
    benchmark.write(workflow.root / "demo/Mine.tsv", n_images=4, seed=7)  # 8 questions
    cfg = workflow.config()
    cfg["datasets"] = ["Mine"]
    cfg["custom_datasets"]["Mine"] = {"url": "demo/Mine.tsv", "type": "MCQ"}
    workflow.write_config(cfg)

    def status():
        proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", "status"], cwd=workflow.root,
                              env=workflow.env(), capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return next(ln for ln in proc.stdout.splitlines() if ln.startswith("TinyLLaVA-Demo"))

    assert "to do" in status()
    shard = "work/predictions/TinyLLaVA-Demo/Mine/shard-0-of-2.jsonl"
    workflow.snakemake(shard)
    assert "in progress" in status() and "4 of 8 answers cached; 1 of 2 inference shards done" in status()
    (workflow.root / shard).unlink()
    line = status()
    assert "in progress" in line and "4 of 8 answers cached" in line, line
    assert "inference shards done" not in line
