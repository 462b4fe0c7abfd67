"""Batched local inference gives the answers of one-at-a-time inference; shard counts can change freely."""
from __future__ import annotations

import re

import pytest
import yaml

from vlmeval_steps.config import load_plan, load_yaml
from vlmeval_steps.demo.shapes import COLORS, SHAPES
from vlmeval_steps.fileio import read_jsonl
from vlmeval_steps.steps import build_prompts, infer

from conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_prompts(tmp_path_factory):
    """The demo benchmark's 120 prompts, built by the build_prompts step."""
    tmp = tmp_path_factory.mktemp("prompts")
    info = load_plan(load_yaml(REPO / "config/config.yaml"), REPO).dataset("DemoShapes")
    out = tmp / "default.jsonl"
    build_prompts.run(info, REPO / "demo/DemoShapes.tsv", out, tmp / "images")
    return out


def test_batches_of_4_and_16_answer_as_batch_size_1(demo_model, demo_prompts, tmp_path):
    from transformers import AutoProcessor

    rows = list(read_jsonl(demo_prompts))
    # left padding really happens: the prompts are of different lengths within a batch
    tok = AutoProcessor.from_pretrained(demo_model).tokenizer
    lengths = {len(tok(r["message"][-1]["value"])["input_ids"]) for r in rows[:16]}
    assert len(lengths) >= 2, lengths

    spec = yaml.safe_load((REPO / "config/models.yaml").read_text())["TinyLLaVA-Demo"]
    spec = dict(spec, model_path=str(demo_model))
    predictions = {}
    for batch_size in (1, 4, 16):
        out = tmp_path / f"bs{batch_size}.jsonl"
        # a cache of its own per batch size: a shared one would answer the later runs without the model
        stats = infer.run(demo_prompts, dict(spec, batch_size=batch_size), 0, 1, tmp_path / f"cache{batch_size}", out,
                          dataset="DemoShapes")
        assert stats["asked"] == len(rows) == 120
        predictions[batch_size] = [r["prediction"] for r in read_jsonl(out)]
    assert predictions[4] == predictions[1]
    assert predictions[16] == predictions[1]
    # and they are answers, not padding artefacts: the trained model names colours and shapes
    names = set(COLORS) | set(SHAPES)
    assert sum(p in names for p in predictions[1]) >= 114, predictions[1]


ASKED = re.compile(r"shard (\d+)/(\d+) of DemoShapes: (\d+) rows, (\d+) answered in the cache, (\d+) to ask")


def _asked(workflow, n):
    """Per shard of an n-shard run: (rows, answered from the cache, asked), from the infer logs."""
    counts = {}
    for i in range(n):
        text = (workflow.root / f"logs/infer/TinyLLaVA-Demo/DemoShapes/shard-{i}-of-{n}.log").read_text()
        m = ASKED.findall(text)[-1]
        counts[i] = tuple(int(x) for x in m[2:])
    return counts


def test_changing_the_shard_count_asks_nothing_again(workflow):
    spec = yaml.safe_load((workflow.root / "config/models.yaml").read_text())["TinyLLaVA-Demo"]
    cfg = workflow.config()
    cfg["custom_models"] = {"TinyLLaVA-Demo": dict(spec, shards=2, batch_size=8)}
    workflow.write_config(cfg)
    workflow.snakemake()
    assert _asked(workflow, 2) == {0: (60, 0, 60), 1: (60, 0, 60)}
    acc = (workflow.root / "results/TinyLLaVA-Demo/DemoShapes_acc.csv").read_text()
    predictions = (workflow.root / "results/TinyLLaVA-Demo/DemoShapes.tsv").read_text()

    # three shards (and another batch size): new shard files, every answer from the cache
    cfg["custom_models"]["TinyLLaVA-Demo"].update(shards=3, batch_size=1)
    workflow.write_config(cfg)
    assert workflow.planned()["infer"] == 3
    workflow.snakemake()
    assert _asked(workflow, 3) == {0: (40, 40, 0), 1: (40, 40, 0), 2: (40, 40, 0)}
    for i in range(3):  # the model was not even loaded
        assert "ready in" not in (workflow.root / f"logs/infer/TinyLLaVA-Demo/DemoShapes/shard-{i}-of-3.log").read_text()
    assert (workflow.root / "results/TinyLLaVA-Demo/DemoShapes_acc.csv").read_text() == acc
    assert (workflow.root / "results/TinyLLaVA-Demo/DemoShapes.tsv").read_text() == predictions
