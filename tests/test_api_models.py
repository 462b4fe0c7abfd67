"""API models end to end: the demo benchmark through the OpenAI-compatible adapter against a real
server (`transformers serve` with the demo model on loopback) scores what the local adapter scores."""
from __future__ import annotations

import csv
import json
import re

import pytest

pytestmark = pytest.mark.slow


def read_acc(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def api_entry(server, **extra):
    return dict({"class": "OpenAIAPI", "model": server.model, "api_base": server.base_url, "max_tokens": 8,
                 "temperature": 0, "img_size": -1, "nproc": 4, "retry": 3, "wait": 0.2}, **extra)


def test_api_model_scores_like_the_local_model(workflow, openai_server):
    cfg = workflow.config()
    cfg["models"] = ["TinyLLaVA-Demo", "TinyAPI"]
    cfg["custom_models"] = {"TinyAPI": api_entry(openai_server)}
    workflow.write_config(cfg)
    # an API model's infer job holds no GPU (resources gpu=0), without anything said in its entry
    dry = workflow.snakemake("-n", "results/TinyAPI/DemoShapes_acc.csv")
    jobs = re.findall(r"rule infer_api:\n((?:    .*\n)+)", dry.stdout + dry.stderr)
    assert jobs and all("model=TinyAPI" in j and re.search(r"resources: .*\bgpu=0\b", j) for j in jobs)
    before = openai_server.requests_served()
    workflow.snakemake()
    n_rows = 120
    assert openai_server.requests_served() - before == n_rows

    local = read_acc(workflow.root / "results/TinyLLaVA-Demo/DemoShapes_acc.csv")
    api = read_acc(workflow.root / "results/TinyAPI/DemoShapes_acc.csv")
    assert float(local[0]["Overall"]) >= 0.9
    assert api == local

    # the API job asked for no GPU, and its token usage reached the provenance
    prov = json.loads((workflow.root / "results/TinyAPI/DemoShapes_provenance.json").read_text())
    assert prov["token_usage"]["infer"]["completion_tokens"] > 0
    assert prov["token_usage"]["infer"]["prompt_tokens"] > 0
    usage = json.loads((workflow.root / "work/predictions/TinyAPI/DemoShapes/shard-0-of-1.jsonl.usage.json")
                       .read_text())
    assert usage["asked"] == n_rows and usage["failed"] == 0

    # nothing to do on a rerun; a forced rerun of inference is answered by the cache
    assert workflow.planned() == {}
    workflow.snakemake("--forcerun", "infer_api", "results/TinyAPI/DemoShapes_acc.csv")
    assert openai_server.requests_served() - before == n_rows
    assert read_acc(workflow.root / "results/TinyAPI/DemoShapes_acc.csv") == local
