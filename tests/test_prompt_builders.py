"""Model-specific prompts: the Qwen2-VL and InternVL builders (upstream's use_custom_prompt /
build_prompt), golden prompts written out by hand, and the workflow sharing one prompt file
between the models that use the same builder."""
from __future__ import annotations

import re
import shutil

import pytest

from tests.benchdata import info, write_benchmark
from tests.conftest import REPO, Workflow
from vlmeval_steps.datasets.images import extract_images
from vlmeval_steps.datasets.registry import build_dataset
from vlmeval_steps.datasets.tsv import read_meta
from vlmeval_steps.prompts import BUILDERS, DEFAULT, build_messages, prompt_id_for

IMG = dict(type="image", value="img/1.png")


def prompt(builder, name, row, tmp_path, monkeypatch):
    tmp_path.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(tmp_path)
    tsv = write_benchmark(tmp_path / f"{name}.tsv", [dict(dict(index=1), **row)])
    meta = read_meta(tsv)
    ds = build_dataset(info(name), images=extract_images(tsv, meta, tmp_path / "img"))
    return build_messages(prompt_id_for(builder, name, ds.TYPE), ds, meta.iloc[0].to_dict())


MCQ = dict(hint="A hint.", question="Which shape?", A="circle", B="square", answer="A")
MCQ_CN = dict(question="哪个形状？", A="圆", B="方", answer="A")


def test_both_builders_are_registered_on_import():
    assert {"qwen2_vl", "internvl"} <= set(BUILDERS)


@pytest.mark.parametrize("name, kind, expected", [
    ("MMStar", "MCQ", "qwen2_vl"), ("MMMU_DEV_VAL", "MCQ", "qwen2_vl"),
    ("POPE", "Y/N", "qwen2_vl"), ("HallusionBench", "Y/N", "qwen2_vl"),
    ("MME", "Y/N", DEFAULT),                       # MME keeps its own instruction
    ("TextVQA_VAL", "VQA", "qwen2_vl"), ("MathVista_MINI", "VQA", "qwen2_vl"),
    ("MMVet", "VQA", DEFAULT),
])
def test_qwen2_vl_applies_where_upstream_uses_it(name, kind, expected):
    assert prompt_id_for("qwen2_vl", name, kind) == expected


def test_qwen2_vl_prompts(tmp_path, monkeypatch):
    assert prompt("qwen2_vl", "MMStar", MCQ, tmp_path / "a", monkeypatch) == [IMG, dict(
        type="text", value="Hint: A hint.\nQuestion: Which shape?\nOptions:\nA. circle\nB. square\n"
                           "Please select the correct answer from the options above.")]
    assert prompt("qwen2_vl", "MMBench_DEV_CN", dict(MCQ_CN, category="c", split="dev"), tmp_path / "b",
                  monkeypatch)[-1]["value"] == "Question: 哪个形状？\nOptions:\nA. 圆\nB. 方\n请直接回答选项字母。"
    # MMMU: every image first (no interleaving), the English instruction trimmed
    mmmu = prompt("qwen2_vl", "MMMU_DEV_VAL", dict(question="Is <image 1> round?", A="yes", B="no", answer="A",
                                                    split="dev"), tmp_path / "c", monkeypatch)
    assert mmmu == [IMG, dict(type="text", value="Question: Is <image 1> round?\nOptions:\nA. yes\nB. no\n"
                                                 "Please select the correct answer from the options above.")]
    assert prompt("qwen2_vl", "POPE", dict(question="Is there a cat?", answer="Yes"), tmp_path / "d",
                  monkeypatch) == [IMG, dict(type="text", value="Is there a cat? Please answer yes or no.")]
    assert prompt("qwen2_vl", "TextVQA_VAL", dict(question="Brand?", answer="['x']"), tmp_path / "e",
                  monkeypatch)[-1]["value"] == ("Brand?\nPlease try to answer the question with short words or "
                                                "phrases if possible.")
    # MME falls back to the dataset's prompt: the question as given
    assert prompt("qwen2_vl", "MME", dict(question="Is it red? Please answer yes or no.", answer="Yes",
                                          image_path="1.png", category="color"), tmp_path / "f",
                  monkeypatch)[-1]["value"] == "Is it red? Please answer yes or no."


def test_internvl_prompts(tmp_path, monkeypatch):
    # text first, then the images
    assert prompt("internvl", "MMStar", MCQ, tmp_path / "a", monkeypatch) == [dict(
        type="text", value="A hint.\nWhich shape?\nA. circle\nB. square\n"
                           "Answer with the option's letter from the given choices directly."), IMG]
    assert prompt("internvl", "MMBench_DEV_CN", dict(MCQ_CN, category="c", split="dev"), tmp_path / "b",
                  monkeypatch)[0]["value"] == "哪个形状？\nA. 圆\nB. 方\n请直接回答选项字母。"
    assert prompt("internvl", "MMMU_DEV_VAL", dict(question="What is 6*7?", answer="42", split="dev"),
                  tmp_path / "c", monkeypatch)[0]["value"] == "What is 6*7?\nAnswer the question directly."
    yn = dict(question="Is it red?", answer="Yes", image_path="1.png", category="color")
    assert prompt("internvl", "MME", yn, tmp_path / "d", monkeypatch)[0]["value"] == (
        "Is it red? Answer the question using a single word or phrase.")
    assert prompt("internvl", "HallusionBench", yn, tmp_path / "e", monkeypatch)[0]["value"] == (
        "Is it red? Please answer yes or no. Answer the question using a single word or phrase.")
    assert prompt("internvl", "POPE", yn, tmp_path / "f", monkeypatch)[0]["value"] == "Is it red?"
    vqa = dict(question="Value?", answer="['1']", category="Regular Text Recognition")
    assert prompt("internvl", "ChartQA_TEST", vqa, tmp_path / "g", monkeypatch)[0]["value"] == (
        "Value?\nAnswer the question using a single word or phrase.")
    assert prompt("internvl", "OCRBench", vqa, tmp_path / "h", monkeypatch)[0]["value"] == (
        "Value?\nAnswer the question using a single word or phrase.")
    assert prompt("internvl", "MathVista_MINI", vqa, tmp_path / "i", monkeypatch)[0]["value"] == "Value?"


# ------------------------------------------------------------------ one prompt file per builder
@pytest.fixture
def planning_workflow(tmp_path) -> Workflow:
    """A copy of the workflow (no trained model needed: these tests only plan)."""
    root = tmp_path / "wf"
    root.mkdir()
    for name in ("Snakefile", "workflow", "config", "demo", "vlmeval_steps"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name,
                                                          **({"ignore": shutil.ignore_patterns("__pycache__")}
                                                             if src.is_dir() else {}))
    return Workflow(root)


def _model(prompt_id=None):
    spec = {"class": "TransformersVLM", "model_path": "/models/none", "device": "cpu", "max_new_tokens": 4}
    return dict(spec, prompt=prompt_id) if prompt_id else spec


def test_models_with_the_same_builder_share_one_prompt_file(planning_workflow):
    wf = planning_workflow
    cfg = wf.config()
    cfg["models"] = ["QwenA", "QwenB", "InternA", "Plain"]
    cfg["custom_models"] = {"QwenA": _model("qwen2_vl"), "QwenB": dict(_model("qwen2_vl"), max_new_tokens=8),
                            "InternA": _model("internvl"), "Plain": _model()}
    wf.write_config(cfg)
    proc = wf.snakemake("-n", "-p")
    out = proc.stdout + proc.stderr
    built = re.findall(r"--out (resources/prompts/\S+\.jsonl)", out)
    assert sorted(built) == ["resources/prompts/DemoShapes/default.jsonl",
                             "resources/prompts/DemoShapes/internvl.jsonl",
                             "resources/prompts/DemoShapes/qwen2_vl.jsonl"]  # three builds for four models
    reads = dict(re.findall(r"infer --model (\S+) .*?--prompts (\S+)", out))
    assert reads == {"QwenA": "resources/prompts/DemoShapes/qwen2_vl.jsonl",
                     "QwenB": "resources/prompts/DemoShapes/qwen2_vl.jsonl",
                     "InternA": "resources/prompts/DemoShapes/internvl.jsonl",
                     "Plain": "resources/prompts/DemoShapes/default.jsonl"}


def test_a_limited_run_is_named_so_in_every_file(planning_workflow):
    wf = planning_workflow
    cfg = wf.config()
    cfg["limit"] = 5
    wf.write_config(cfg)
    proc = wf.snakemake("-n", "-p")
    out = proc.stdout + proc.stderr
    assert "--out resources/prompts/DemoShapes_limit5/default.jsonl" in out
    assert "--limit 5" in out
    assert "results/TinyLLaVA-Demo/DemoShapes_limit5_acc.csv" in out
    assert "work/judged/TinyLLaVA-Demo/DemoShapes_limit5.exact_matching.jsonl" in out
    # the limited run reads the same verified TSV as the full one
    assert "LMUData/DemoShapes_limit5.tsv" not in out


def test_registered_models_and_datasets_plan_the_builder_files_upstream_would_use(planning_workflow):
    wf = planning_workflow
    cfg = wf.config()
    cfg["models"] = ["Qwen2-VL-2B-Instruct", "InternVL3-1B"]
    cfg["datasets"] = ["MME", "POPE", "MMVet"]
    wf.write_config(cfg)
    proc = wf.snakemake("-n", "-p")
    built = sorted(re.findall(r"--out (resources/prompts/\S+\.jsonl)", proc.stdout + proc.stderr))
    # Qwen2-VL keeps the dataset's prompt on MME and MMVet; InternVL has its own everywhere
    assert built == ["resources/prompts/MME/default.jsonl", "resources/prompts/MME/internvl.jsonl",
                     "resources/prompts/MMVet/default.jsonl", "resources/prompts/MMVet/internvl.jsonl",
                     "resources/prompts/POPE/internvl.jsonl", "resources/prompts/POPE/qwen2_vl.jsonl"]
