"""End-to-end runs of the Snakemake workflow in a temp dir: targets, scores and incremental reruns."""
from __future__ import annotations

import csv

import pytest

from vlmeval_steps.demo import benchmark
from vlmeval_steps.fileio import md5_of

pytestmark = pytest.mark.slow


def read_acc(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_demo_scores_well_and_a_rerun_does_nothing(workflow):
    workflow.snakemake()
    rows = read_acc(workflow.root / "results/TinyLLaVA-Demo/DemoShapes_acc.csv")
    assert [r["split"] for r in rows] == ["none"]
    assert float(rows[0]["Overall"]) >= 0.9
    assert list(rows[0]) == ["split", "Overall", "attribute", "recognition", "color", "shape"]
    assert (workflow.root / "results/TinyLLaVA-Demo/DemoShapes.xlsx").exists()
    assert (workflow.root / "LMUData/DemoShapes.tsv").exists()
    assert not (workflow.root / "LMUData/.download/DemoShapes.tsv").exists()  # renamed, not copied
    summary = (workflow.root / "results/summary.csv").read_text().splitlines()
    assert summary[0].startswith("model,DemoShapes,DemoShapes ci_low,") and summary[1].startswith("TinyLLaVA-Demo,")
    assert (workflow.root / "results/report.html").stat().st_size > 10_000
    assert workflow.planned() == {}


def _two_by_two(workflow):
    """Two models x two datasets; the second dataset is a smaller variant of the demo."""
    benchmark.write(workflow.root / "demo/Second.tsv", n_images=8, seed=7)
    cfg = workflow.config()
    cfg["datasets"] = ["DemoShapes", "Second"]
    cfg["models"] = ["TinyLLaVA-Demo", "Other"]
    cfg["custom_datasets"]["Second"] = {"url": "demo/Second.tsv", "md5": md5_of(workflow.root / "demo/Second.tsv"),
                                        "type": "MCQ"}
    cfg["custom_models"] = {"Other": {"class": "TransformersVLM", "model_path": "resources/models/tiny-llava-demo",
                                      "build": "demo_model", "shards": 1, "device": "cpu", "max_new_tokens": 6}}
    workflow.write_config(cfg)
    workflow.snakemake()
    assert workflow.planned() == {}
    return cfg


def test_only_what_changed_reruns(workflow):
    cfg = _two_by_two(workflow)

    # a judge setting: judge-extract and score of every pair, nothing upstream of them
    # (the summary and report of all pairs follow any new score)
    changed = dict(cfg, judge={"model": "exact_matching", "temperature": 0.5})
    workflow.write_config(changed)
    assert workflow.planned() == {"judge": 4, "score": 4, "summary": 1, "report": 1}
    workflow.write_config(cfg)
    assert workflow.planned() == {}

    # one model's generation setting: that model's infer (both datasets) and what follows
    changed = yaml_copy(cfg)
    changed["custom_models"]["Other"]["max_new_tokens"] = 7
    workflow.write_config(changed)
    assert workflow.planned() == {"infer": 2, "merge": 2, "judge": 2, "score": 2, "summary": 1, "report": 1}
    # an operational setting (shards are part of file names; nproc is not) changes nothing
    changed = yaml_copy(cfg)
    changed["custom_models"]["Other"]["nproc"] = 3
    workflow.write_config(changed)
    assert workflow.planned() == {}
    workflow.write_config(cfg)

    # the scoring code: score only
    scoring = workflow.root / "vlmeval_steps/scoring/mcq.py"
    original = scoring.read_text()
    scoring.write_text(original + "\n# an edit\n")
    assert workflow.planned() == {"score": 4, "summary": 1, "report": 1}
    scoring.write_text(original)
    assert workflow.planned() == {}

    # another benchmark family's code (MVBench, the documents, Y/N): nothing of the demo's MCQ pairs
    for other in ("datasets/video/mvbench.py", "datasets/documents.py", "datasets/yorn.py", "scoring/yorn.py"):
        assert workflow.planned() == {} == _planned_after_edit(workflow, other), other
    # the demo's own family (the MCQ class serves every stage): all of its jobs from prompt-build on
    assert _planned_after_edit(workflow, "datasets/mcq.py") == {
        "build_prompts": 2, "infer": 6, "merge": 4, "judge": 4, "score": 4, "summary": 1, "report": 1}
    # a shared engine reruns the stages that run it: MCQ extraction runs in judge (and score re-reads it),
    # the MCQ metric tables in score only
    assert _planned_after_edit(workflow, "judge/mcq.py") == {"judge": 4, "score": 4, "summary": 1, "report": 1}
    assert _planned_after_edit(workflow, "scoring/mcq.py") == {"score": 4, "summary": 1, "report": 1}
    assert workflow.planned() == {}

    # one dataset's md5 (its TSV changed upstream): that dataset's whole chain, for both models
    benchmark.write(workflow.root / "demo/Second.tsv", n_images=9, seed=7)
    changed = yaml_copy(cfg)
    changed["custom_datasets"]["Second"]["md5"] = md5_of(workflow.root / "demo/Second.tsv")
    workflow.write_config(changed)
    # TinyLLaVA-Demo has 2 shards, Other has 1
    assert workflow.planned() == {"download": 1, "build_prompts": 1, "infer": 3, "merge": 2,
                                  "judge": 2, "score": 2, "summary": 1, "report": 1}
    workflow.snakemake()
    assert workflow.planned() == {}
    rows = read_acc(workflow.root / "results/Other/Second_acc.csv")
    assert float(rows[0]["Overall"]) >= 0.8


def _planned_after_edit(workflow, module: str) -> dict[str, int]:
    """What a dry run plans with a comment appended to the package file `module` (then restored)."""
    path = workflow.root / "vlmeval_steps" / module
    original = path.read_text()
    path.write_text(original + "\n# an edit\n")
    try:
        return workflow.planned()
    finally:
        path.write_text(original)


def yaml_copy(cfg):
    import copy

    return copy.deepcopy(cfg)
