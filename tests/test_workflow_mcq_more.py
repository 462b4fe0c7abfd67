"""The demo model end to end through one benchmark of each of issue 11's multiple-choice families, on
generated TSVs standing in for the real ones (custom copies of the registered names keep their class and
options): plain (ScienceQA_TEST), multi-image (BLINK), own tables (GMAI through its alias), circular and
multilingual (MMBench_dev_en), answers withheld (MMMU_TEST). A group (MMMB: six members, so six more
inference jobs) is checked by a dry run only; its step runs through the CLI in test_datasets_mcq_more.py.
`limit` keeps every run to two rows."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.benchdata import shape_png, write_benchmark
from tests.test_datasets_mcq import mmbench
from vlmeval_steps.fileio import md5_of

pytestmark = pytest.mark.slow
M = "TinyLLaVA-Demo"


def _rows(n=3, **extra):
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200)]
    return [dict(index=i + 1, image=shape_png("circle", colours[i % 3]), question="What colour is the shape?",
                 A="red", B="green", C="blue", answer="ABC"[i % 3], category="color", **extra) for i in range(n)]


def test_one_benchmark_of_each_family_end_to_end(workflow):
    root = workflow.root
    tsvs = {
        "ScienceQA_TEST": _rows(),
        "BLINK": [dict(r, image=str([shape_png("square"), r["image"]])) for r in _rows()],
        "GMAI-MMBench_VAL": _rows(**{"clinical vqa task": "t", "department": "d", "perceptual granularity": "p"}),
        "MMMU_TEST": [dict(r, id=f"test_{r['index']}") for r in _rows()],
        **{f"MMMB_{lang}": _rows() for lang in ("ar", "cn", "en", "pt", "ru", "tr")},
    }
    cfg = workflow.config()
    for name, rows in tsvs.items():
        if name == "MMMU_TEST":
            for r in rows:
                r.pop("answer")
        path = write_benchmark(root / f"demo/{name}.tsv", rows)
        cfg["custom_datasets"][name] = {"url": f"demo/{name}.tsv", "md5": md5_of(path)}
    # circular: the first two rows are question 1 and its rotation (index 1000001)
    mmbench(root / "demo", name="MMBench_dev_en")
    cfg["custom_datasets"]["MMBench_dev_en"] = {"url": "demo/MMBench_dev_en.tsv",
                                                "md5": md5_of(root / "demo/MMBench_dev_en.tsv")}
    cfg["limit"] = 2
    workflow.write_config(cfg)
    # the group's plan: each member scored as itself, then the stacking rule
    planned = workflow.planned(f"results/{M}/MMMB_limit2_acc.csv")
    assert planned["score_group"] == 1 and planned["score"] == 6 and planned["build_prompts"] == 6
    targets = [f"results/{M}/{d}_limit2_acc.csv" for d in ("ScienceQA_TEST", "BLINK", "GMAI_mm_bench_VAL",
                                                                   "MMBench_dev_en")]
    workflow.snakemake(*targets)
    for target in targets:
        table = pd.read_csv(root / target)
        assert 0 <= table.iloc[0]["Overall"] <= 1
    # circular: one question group from two rows
    assert len(pd.read_excel(root / f"results/{M}/MMBench_dev_en_limit2_exact_matching_result.xlsx")) == 1
    # the alias's files carry the alias; its TSV is upstream's file name in the data root
    assert (root / f"results/{M}/GMAI_mm_bench_VAL_limit2_department_acc.csv").exists()
    assert (root / "LMUData/GMAI-MMBench_VAL.tsv").exists()
    # BLINK: both images reach the model, in the TSV's order
    prompts = [json.loads(x) for x in (root / "resources/prompts/BLINK_limit2/default.jsonl").read_text().splitlines()]
    assert [m["type"] for m in prompts[0]["message"]] == ["image", "image", "text"]
    # answers withheld: predictions and the server's json are written, the score stops and says why
    proc = workflow.snakemake(f"results/{M}/MMMU_TEST_limit2_acc.csv", check=False)
    assert proc.returncode != 0 and "MMMU_DEV_VAL carries answers" in proc.stdout + proc.stderr
    assert (root / f"results/{M}/MMMU_TEST_limit2.xlsx").exists()
    assert set(json.loads((root / f"results/{M}/MMMU_TEST_limit2.json").read_text())) == {"test_1", "test_2"}
