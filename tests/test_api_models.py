"""API models end to end: the demo benchmark through the OpenAI-compatible adapter against a real
server (`transformers serve` with the demo model on loopback) answers what the local adapter answers on the
same pixels."""
from __future__ import annotations

import csv
import json
import re

import pytest

from vlmeval_steps.fileio import read_jsonl

pytestmark = pytest.mark.slow


def read_acc(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def api_entry(server, **extra):
    return dict({"class": "OpenAIAPI", "model": server.model, "api_base": server.base_url, "max_tokens": 8,
                 "temperature": 0, "img_size": -1, "nproc": 4, "retry": 3, "wait": 0.2}, **extra)


def jpeg_variant(workflow, name="DemoShapesJPEG") -> dict:
    """The demo benchmark with each image replaced by the JPEG the API adapter sends for it (upstream's
    re-encoding: RGB, small images upscaled, quality 75), so a local model can read the same pixels."""
    import base64
    import io

    import pandas as pd
    from PIL import Image

    from vlmeval_steps.fileio import md5_of
    from vlmeval_steps.models.openai_api import encode_image

    data = pd.read_csv(workflow.root / "demo/DemoShapes.tsv", sep="\t", dtype=str, keep_default_na=False)
    tmp = workflow.root / "demo/.image.png"
    for i, image in data["image"].items():
        if not image.isdigit():  # a digit is a reference to another row's image: kept
            Image.open(io.BytesIO(base64.b64decode(image))).save(tmp)
            data.at[i, "image"] = encode_image(str(tmp), -1)
    tmp.unlink()
    path = workflow.root / f"demo/{name}.tsv"
    data.to_csv(path, sep="\t", index=False)
    return {"url": f"demo/{name}.tsv", "md5": md5_of(path), "type": "MCQ"}


def read_predictions(path):
    with open(path, newline="") as fh:
        return {r["index"]: r["prediction"] for r in csv.DictReader(fh, delimiter="\t")}


def test_api_model_answers_what_the_local_model_answers_on_the_same_pixels(workflow, openai_server):
    """The API adapter sends JPEGs (as upstream), so on the original PNGs the two paths may differ in a
    few answers; on the same pixels the served model must answer exactly what the local one answers."""
    cfg = workflow.config()
    cfg["models"] = ["TinyLLaVA-Demo", "TinyAPI"]
    cfg["custom_models"] = {"TinyAPI": api_entry(openai_server)}
    cfg["custom_datasets"]["DemoShapesJPEG"] = jpeg_variant(workflow)
    workflow.write_config(cfg)
    api_acc, local_acc = "results/TinyAPI/DemoShapes_acc.csv", "results/TinyLLaVA-Demo/DemoShapesJPEG_acc.csv"
    # an API model's infer job holds no GPU (resources gpu=0), without anything said in its entry
    dry = workflow.snakemake("-n", api_acc)
    jobs = re.findall(r"rule infer_api:\n((?:    .*\n)+)", dry.stdout + dry.stderr)
    assert jobs and all("model=TinyAPI" in j and re.search(r"resources: .*\bgpu=0\b", j) for j in jobs)
    before = openai_server.requests_served()
    workflow.snakemake(api_acc, local_acc)
    n_rows = 120
    assert openai_server.requests_served() - before == n_rows

    api = read_predictions(workflow.root / "results/TinyAPI/DemoShapes.tsv")
    local = read_predictions(workflow.root / "results/TinyLLaVA-Demo/DemoShapesJPEG.tsv")
    assert len(api) == n_rows and api == local
    assert read_acc(workflow.root / api_acc) == read_acc(workflow.root / local_acc)

    # the API job asked for no GPU, and its token usage reached the provenance
    prov = json.loads((workflow.root / "results/TinyAPI/DemoShapes_provenance.json").read_text())
    assert prov["token_usage"]["infer"]["completion_tokens"] > 0
    assert prov["token_usage"]["infer"]["prompt_tokens"] > 0
    usage = json.loads((workflow.root / "work/predictions/TinyAPI/DemoShapes/shard-0-of-1.jsonl.usage.json")
                       .read_text())
    assert usage["asked"] == n_rows and usage["failed"] == 0

    # nothing to do on a rerun; a forced rerun of inference is answered by the cache
    assert workflow.planned(api_acc, local_acc) == {}
    workflow.snakemake("--forcerun", "infer_api", api_acc)
    assert openai_server.requests_served() - before == n_rows
    assert read_predictions(workflow.root / "results/TinyAPI/DemoShapes.tsv") == api


def _mmbench_pair(workflow):
    """MMBench_DEV_EN and a v1.1 that shares most questions: 3 with another image, 2 dropped, 4 added."""
    import pandas as pd

    from vlmeval_steps.fileio import md5_of

    data = pd.read_csv(workflow.root / "demo/DemoShapes.tsv", sep="\t", dtype=str)
    data = data[data["image"].str.len() > 64].head(27).reset_index(drop=True)  # rows with their own image
    v10 = data.head(20)
    v11 = pd.concat([data.iloc[2:20], data.iloc[20:24]]).reset_index(drop=True)
    v11.loc[:2, "image"] = data["image"].iloc[24:27].to_list()  # same text, other image bytes
    entries = {}
    for name, frame in (("MMBench_DEV_EN", v10), ("MMBench_DEV_EN_V11", v11)):
        path = workflow.root / f"demo/{name}.tsv"
        frame.to_csv(path, sep="\t", index=False)
        entries[name] = {"url": f"demo/{name}.tsv", "md5": md5_of(path), "type": "MCQ"}
    return entries


def _digests(workflow, dataset):
    return [r["digest"] for r in read_jsonl(workflow.root / f"resources/prompts/{dataset}/default.jsonl")]


def test_a_question_is_asked_once_across_datasets(workflow, openai_server):
    """MMBench_DEV_EN then MMBench_DEV_EN_V11: the second sends only the rows that differ (counted by
    the server), its provenance says how many answers came from the first; another generation
    setting asks everything again."""
    cfg = workflow.config()
    cfg["models"] = ["TinyAPI"]
    cfg["datasets"] = ["MMBench_DEV_EN"]
    cfg["custom_datasets"].update(_mmbench_pair(workflow))
    cfg["custom_models"] = {"TinyAPI": api_entry(openai_server)}
    workflow.write_config(cfg)
    before = openai_server.requests_served()
    workflow.snakemake()
    assert openai_server.requests_served() - before == 20

    cfg["datasets"] = ["MMBench_DEV_EN", "MMBench_DEV_EN_V11"]
    workflow.write_config(cfg)
    workflow.snakemake()
    # the questions (text and image bytes) v1.0 did not ask: the reworked and the new rows
    v10 = set(_digests(workflow, "MMBench_DEV_EN"))
    v11 = _digests(workflow, "MMBench_DEV_EN_V11")
    new = sum(d not in v10 for d in v11)
    assert len(v11) == 22 and 4 <= new <= 7
    assert openai_server.requests_served() - before == 20 + new
    prov = json.loads((workflow.root / "results/TinyAPI/MMBench_DEV_EN_V11_provenance.json").read_text())
    assert prov["answers_from_other_datasets"] == 22 - new
    first = json.loads((workflow.root / "results/TinyAPI/MMBench_DEV_EN_provenance.json").read_text())
    assert first["answers_from_other_datasets"] == 0
    # a forced rerun asks nothing: the dataset's own answers and the borrowed ones
    workflow.snakemake("--forcerun", "infer_api", "results/TinyAPI/MMBench_DEV_EN_V11_acc.csv")
    assert openai_server.requests_served() - before == 20 + new

    # a generation setting changed: every question of v1.1 is asked again, none borrowed
    cfg["custom_models"]["TinyAPI"]["max_tokens"] = 6
    cfg["datasets"] = ["MMBench_DEV_EN_V11"]
    workflow.write_config(cfg)
    workflow.snakemake()
    assert openai_server.requests_served() - before == 20 + new + 22
    prov = json.loads((workflow.root / "results/TinyAPI/MMBench_DEV_EN_V11_provenance.json").read_text())
    assert prov["answers_from_other_datasets"] == 0
