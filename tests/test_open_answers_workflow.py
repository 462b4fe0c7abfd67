"""Issue 11 end to end: the demo model through one generated benchmark of each open-answer family
(VQA by rules, answers withheld, captioning, VCR, judged, multi-turn), with `limit`, through Snakemake."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.benchdata import shape_png
from tests.tsvs import write_tsv
from vlmeval_steps.fileio import md5_of

OPTS = str(["circle", "square", "triangle", "star"])
DATASETS = {
    "OCRVQA_TEST": ("ImageVQADataset", [dict(index=i, question="What shape is this?", answer=str(["circle"]),
                                             category="Shapes") for i in range(1, 4)]),
    "DocVQA_TEST": ("ImageVQADataset", [dict(index=i, question="What shape is this?") for i in range(1, 4)]),
    "COCO_VAL": ("ImageCaptionDataset", [dict(index=i, answer=str(["a red circle", "a circle on white"]))
                                         for i in range(1, 4)]),
    "VCR_EN_EASY_100": ("VCRDataset", [dict(index=i, question="What is the covered text?",
                                            answer=str(["red circle"])) for i in range(1, 4)]),
    "MathVision_MINI": ("MathVision", [dict(index=i, question="Which shape is shown?", answer="A", choices=OPTS,
                                            category="shapes") for i in range(1, 4)]),
    "MMDU": ("MMDUDataset", [dict(index=i, image=str([shape_png("circle"), shape_png("square")]),
                                  question=str(["<ImageHere><ImageHere>What shapes?", "Which is red?"]),
                                  answer=str(["A circle and a square.", "Both."])) for i in range(1, 4)]),
}


@pytest.mark.slow
def test_each_family_end_to_end_with_a_limit(workflow, openai_server):
    cfg = workflow.config()
    for name, (cls, rows) in DATASETS.items():
        path = workflow.root / "demo" / f"{name}.tsv"
        write_tsv(path, [dict(r, image=r.get("image") or shape_png()) for r in rows])
        cfg["custom_datasets"][name] = {"url": f"demo/{name}.tsv", "md5": md5_of(path), "class": cls}
    cfg["limit"] = 2
    tiny = {"model": openai_server.model, "name": "tiny", "api_base": openai_server.base_url, "max_tokens": 8,
            "keep_failed": True}  # the tiny model may reply with nothing; upstream scores that as no score
    cfg["judge"] = {"model": "exact_matching", "datasets": {"MathVision_MINI": tiny, "MMDU": tiny}}
    workflow.write_config(cfg)
    out = workflow.root / "results/TinyLLaVA-Demo"
    scored = ["OCRVQA_TEST", "COCO_VAL", "VCR_EN_EASY_100", "MathVision_MINI", "MMDU"]
    workflow.snakemake(*[f"results/TinyLLaVA-Demo/{d}_limit2_acc.csv" for d in scored],
                       "results/TinyLLaVA-Demo/DocVQA_TEST_limit2.xlsx")
    for d in scored:
        assert json.loads((out / f"{d}_limit2_provenance.json").read_text())["rows"] == 2
    assert list(pd.read_csv(out / "OCRVQA_TEST_limit2_acc.csv").columns) == ["Overall", "Shapes"]
    assert list(json.loads((out / "COCO_VAL_limit2_score.json").read_text())) == ["Bleu", "ROUGE_L", "CIDEr"]
    vcr = json.loads((out / "VCR_EN_EASY_100_limit2_en_easy_score.json").read_text())
    assert set(vcr) == {"Exact_Match", "Jaccard", "Predictions"} and len(vcr["Predictions"]) == 2
    assert pd.read_csv(out / "MathVision_MINI_limit2_tiny_score.csv")["tot"].tolist() == [2, 2]
    # MMDU: two turns per row, each answered by the demo model and graded by the judge
    turns = pd.read_csv(out / "MMDU_limit2.tsv", sep="\t")["prediction"].map(eval)
    assert [len(t) for t in turns] == [2, 2]
    assert pd.read_csv(out / "MMDU_limit2_tiny_score.csv")["set"].tolist() == ["all", "valid"]
    # the withheld split: predictions only; asking for a score names the split that has answers
    assert len(pd.read_excel(out / "DocVQA_TEST_limit2.xlsx")) == 2
    proc = workflow.snakemake("results/TinyLLaVA-Demo/DocVQA_TEST_limit2_acc.csv", check=False)
    assert proc.returncode != 0 and "evaluate DocVQA_VAL" in proc.stdout + proc.stderr
