"""Every stage runs on its own through the `vlmeval-steps` command, without Snakemake."""
from __future__ import annotations

import csv
import json
import subprocess
import sys


from vlmeval_steps.fileio import md5_of
from tests.conftest import REPO


def vs(*args, cwd, check=True):
    proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"vlmeval-steps {args[0]} failed:\n{proc.stderr[-3000:]}")
    return proc


def test_list_shows_registered_names(tmp_path):
    datasets = vs("list", "datasets", "--config", REPO / "config/config.yaml", cwd=tmp_path).stdout
    assert "MMStar\tMCQ\te1ecd2140806c1b1bbf54b43372efb9e" in datasets and "DemoShapes\tMCQ" in datasets
    models = vs("list", "models", "--config", REPO / "config/config.yaml", cwd=tmp_path).stdout
    assert "TinyLLaVA-Demo\tTransformersVLM" in models


def test_unknown_names_list_the_known_ones(tmp_path):
    proc = vs("infer", "--prompts", REPO / "README.md", "--model", "Nope", "--dataset", "D", "--cache-dir", tmp_path,
              "--out", tmp_path / "o.jsonl", "--config", REPO / "config/config.yaml", cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert "unknown model 'Nope'. Known models:" in proc.stderr and "TinyLLaVA-Demo" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_all_stages_standalone(tmp_path, demo_model):
    demo = REPO / "demo/DemoShapes.tsv"
    spec = json.dumps(dict(name="DemoShapes", cls="ImageMCQDataset", url=demo.as_uri(), md5=md5_of(demo)))
    model = json.dumps({"class": "TransformersVLM", "model_path": str(demo_model), "device": "cpu",
                        "max_new_tokens": 8, "batch_size": 8})
    vs("download", "--url", demo.as_uri(), "--out", "LMUData/.download/DemoShapes.tsv", cwd=tmp_path)
    vs("verify", "--in", "LMUData/.download/DemoShapes.tsv", "--md5", md5_of(demo), "--out", "LMUData/DemoShapes.tsv",
       cwd=tmp_path)
    vs("build-prompts", "--dataset", "DemoShapes", "--dataset-spec", spec, "--data", "LMUData/DemoShapes.tsv",
       "--images", "img", "--limit", "40", "--out", "prompts.jsonl", cwd=tmp_path)
    assert len((tmp_path / "prompts.jsonl").read_text().splitlines()) == 40
    for shard in (0, 1):
        vs("infer", "--prompts", "prompts.jsonl", "--model", "M", "--model-spec", model, "--dataset", "DemoShapes",
           "--shard", shard, "--num-shards", 2, "--cache-dir", "cache", "--out", f"shard{shard}.jsonl", cwd=tmp_path)
    vs("merge", "--data", "LMUData/DemoShapes.tsv", "--prompts", "prompts.jsonl", "--out-xlsx", "pred.xlsx",
       "--out-tsv", "pred.tsv", "shard0.jsonl", "shard1.jsonl", cwd=tmp_path)
    vs("judge", "--dataset", "DemoShapes", "--dataset-spec", spec, "--predictions", "pred.tsv", "--out", "j.jsonl",
       cwd=tmp_path)
    vs("score", "--dataset", "DemoShapes", "--dataset-spec", spec, "--predictions", "pred.tsv", "--extracted",
       "j.jsonl", "--out", "out/DemoShapes_acc.csv", cwd=tmp_path)
    with open(tmp_path / "out/DemoShapes_acc.csv") as fh:
        (row,) = list(csv.DictReader(fh))
    assert float(row["Overall"]) >= 0.9
    # the xlsx holds the same predictions, so scoring it standalone gives the same table
    vs("score", "--dataset", "DemoShapes", "--dataset-spec", spec, "--predictions", "pred.xlsx",
       "--data", "LMUData/DemoShapes.tsv", "--out", "from_xlsx", cwd=tmp_path)
    assert (tmp_path / "from_xlsx/DemoShapes_acc.csv").read_text() == (tmp_path / "out/DemoShapes_acc.csv").read_text()


def test_transformers_adapter_sees_the_pixels(demo_model, tmp_path):
    import random

    from vlmeval_steps.demo.shapes import COLOR_QUESTION, draw
    from vlmeval_steps.datasets.mcq import mcq_prompt_text
    from vlmeval_steps.models import build_model

    model = build_model({"class": "TransformersVLM", "model_path": str(demo_model), "device": "cpu",
                         "max_new_tokens": 8})
    rng = random.Random(5)
    text = mcq_prompt_text(dict(question=COLOR_QUESTION, A="red", B="blue", C="green", D="yellow"))
    answers = {}
    for color in ("red", "blue", "green", "yellow"):
        path = tmp_path / f"{color}.png"
        draw("circle", color, rng).save(path)
        answers[color] = model.generate([str(path), text])  # upstream's list-of-strings message form
    assert answers == {c: c for c in answers}
