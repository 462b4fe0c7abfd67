"""`vlmeval-steps status`: grouping Snakemake's file summary by model x dataset (the real command runs in
tests/test_statistics_workflow.py)."""
from __future__ import annotations

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
