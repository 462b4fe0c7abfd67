"""`limit: N` evaluates the first N rows only, and every file of such a run says so in its name
({dataset}_limitN). The naming in the plan is tested in test_prompt_builders.py."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.benchdata import info, shape_png, write_benchmark
from vlmeval_steps.fileio import read_jsonl
from vlmeval_steps.steps import build_prompts


def test_build_prompts_with_a_limit_writes_n_rows_and_only_their_images(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = [dict(index=i, image=shape_png(color=(i * 20, 0, 0)), question=f"q{i}", A="a", B="b", answer="A")
            for i in range(1, 9)]
    rows[2]["image"] = "7"  # row 3 refers to row 7's image, which lies beyond the limit
    tsv = write_benchmark(tmp_path / "MMStar.tsv", rows)
    out = tmp_path / "prompts.jsonl"
    n = build_prompts.run(info("MMStar"), tsv, out, tmp_path / "img", limit=3, check_md5=False)
    records = list(read_jsonl(out))
    assert n == 3 and [r["index"] for r in records] == [1, 2, 3]
    # rows 1 and 2, and row 7 for the reference of row 3; nothing else
    assert sorted(p.name for p in (tmp_path / "img").iterdir()) == ["1.png", "2.png", "7.png"]
    assert records[2]["message"][0] == dict(type="image", value="img/7.png")


@pytest.mark.slow
def test_a_limited_run_scores_only_its_rows(workflow):
    target = "results/TinyLLaVA-Demo/DemoShapes_limit5_acc.csv"
    workflow.snakemake(target)
    root = workflow.root
    assert len(list(read_jsonl(root / "resources/prompts/DemoShapes_limit5/default.jsonl"))) == 5
    assert len(pd.read_csv(root / "results/TinyLLaVA-Demo/DemoShapes_limit5.tsv", sep="\t")) == 5
    assert len(list(read_jsonl(root / "work/judged/TinyLLaVA-Demo/DemoShapes_limit5.exact_matching.jsonl"))) == 5
    prov = json.loads((root / "results/TinyLLaVA-Demo/DemoShapes_limit5_provenance.json").read_text())
    assert prov["rows"] == 5 and prov["limit"] == 5
    acc = pd.read_csv(root / target)
    # five rows: the accuracy is a multiple of 1/5
    assert round(acc.iloc[0]["Overall"] * 5, 9) == int(round(acc.iloc[0]["Overall"] * 5))
    # the full dataset's files are untouched by a limited run
    assert not (root / "results/TinyLLaVA-Demo/DemoShapes_acc.csv").exists()
