"""Named open VLMs (config/model_families.yaml), `vlmeval-steps list models`, close-name suggestions, and the
checkpoint pre-flight check: a missing, broken, unknown or remote-code checkpoint stops the run with one message
before any job runs (issue 15)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from vlmeval_steps.checkpoints import check, weights_status
from vlmeval_steps.config import OPERATIONAL_KEYS, generation_settings, load_plan
from vlmeval_steps.errors import InputError
from vlmeval_steps.model_families import expand
from vlmeval_steps.prompts import BUILDERS

# upstream's names (vlmeval/config.py at e8e78f05) for every family the issue asks for, with each size it lists
UPSTREAM_NAMES = {
    "Qwen2-VL": ["Qwen2-VL-2B-Instruct", "Qwen2-VL-7B-Instruct", "Qwen2-VL-72B-Instruct"],
    "Qwen2.5-VL": ["Qwen2.5-VL-3B-Instruct", "Qwen2.5-VL-7B-Instruct", "Qwen2.5-VL-32B-Instruct",
                   "Qwen2.5-VL-72B-Instruct"],
    "Qwen3-VL": ["Qwen3-VL-2B-Instruct", "Qwen3-VL-4B-Instruct", "Qwen3-VL-8B-Instruct", "Qwen3-VL-32B-Instruct",
                 "Qwen3-VL-30B-A3B-Instruct", "Qwen3-VL-235B-A22B-Instruct", "Qwen3-VL-2B-Thinking",
                 "Qwen3-VL-4B-Thinking", "Qwen3-VL-8B-Thinking", "Qwen3-VL-32B-Thinking",
                 "Qwen3-VL-30B-A3B-Thinking", "Qwen3-VL-235B-A22B-Thinking"],
    "InternVL2": [f"InternVL2-{s}" for s in ("1B", "2B", "4B", "8B", "26B", "40B", "76B")],
    "InternVL2.5": [f"InternVL2_5-{s}" for s in ("1B", "2B", "4B", "8B", "26B", "38B", "78B")],
    "InternVL3": [f"InternVL3-{s}" for s in ("1B", "2B", "8B", "9B", "14B", "38B", "78B")],
    "LLaVA": ["llava_v1.5_7b", "llava_v1.5_13b", "llava_next_vicuna_7b", "llava_next_vicuna_13b",
              "llava_next_mistral_7b", "llava_next_yi_34b", "llava_next_llama3", "llava_next_72b", "llava_next_110b",
              "llava-onevision-qwen2-0.5b-ov-hf", "llava-onevision-qwen2-7b-si-hf"],
    "Idefics/SmolVLM": ["Idefics3-8B-Llama3", "SmolVLM-256M", "SmolVLM-500M", "SmolVLM", "SmolVLM2-256M",
                        "SmolVLM2-500M", "SmolVLM2"],
    "Gemma": ["Gemma3-4B", "Gemma3-12B", "Gemma3-27B", "paligemma-3b-mix-448", "paligemma2-3b-pt-224",
              "paligemma2-10b-mix-448", "paligemma2-28b-mix-448"],
    "others": ["Llama-3.2-11B-Vision-Instruct", "Llama-3.2-90B-Vision-Instruct", "Phi-3.5-Vision"],
}


def vs(*args, cwd, env=None, check=True):
    import os

    proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", **(env or {})))
    if check and proc.returncode != 0:
        raise AssertionError(proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def plan():
    return load_plan({}, REPO)


# ---- the registry ----

@pytest.mark.parametrize("family", sorted(UPSTREAM_NAMES))
def test_upstream_names_are_named(plan, family):
    missing = [n for n in UPSTREAM_NAMES[family] if n not in plan.model_names()]
    assert not missing


def test_every_named_model_resolves_and_states_a_runnable_architecture(plan):
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    from vlmeval_steps.models.transformers_vlm import PROVEN_ARCHITECTURES

    assert len(plan.family_of) >= 80
    for name in plan.family_of:
        spec = plan.model(name)   # its settings are ones its adapter takes (names_check)
        if spec["class"] == "TransformersVLM":
            assert spec["architecture"] in CONFIG_MAPPING_NAMES, name
            assert spec["architecture"] in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES, name
            assert spec["architecture"] in PROVEN_ARCHITECTURES, name  # run on a tiny checkpoint (test_tiny_vlms)
            assert spec["model_path"]
        else:   # the remote-code families: asked through a server (docs/models.md, "Checkpoints that need remote code")
            assert spec["class"] == "CustomAPIModel" and spec["api_base"].startswith("http://127.0.0.1:")
        if spec.get("prompt"):
            assert spec["prompt"] in BUILDERS, name


def test_family_settings_are_upstreams(plan):
    qwen2 = plan.model("Qwen2-VL-7B-Instruct")
    assert (qwen2["model_path"], qwen2["prompt"], qwen2["max_new_tokens"]) == ("Qwen/Qwen2-VL-7B-Instruct", "qwen2_vl",
                                                                                2048)
    assert "prompt" not in plan.model("Qwen2.5-VL-7B-Instruct")   # upstream: use_custom_prompt=False
    q3 = plan.model("Qwen3-VL-30B-A3B-Thinking")
    assert (q3["architecture"], q3["temperature"], q3["top_p"], q3["max_new_tokens"]) == ("qwen3_vl_moe", 1.0, 0.95,
                                                                                          40960)
    assert plan.model("InternVL3-8B")["model_path"] == "OpenGVLab/InternVL3-8B-hf"
    assert plan.model("InternVL2-2B")["prompt"] == "internvl"
    assert plan.model("Gemma3-4B")["system_prompt"] == "You are a helpful assistant. "
    assert plan.model("llava_next_interleave_7b")["architecture"] == "llava"
    # upstream's pixel budgets (Qwen2VLChat entries): they change answers, so they rerun inference
    for name in ("Qwen2-VL-7B-Instruct", "Qwen2.5-VL-72B-Instruct"):
        budget = {k: generation_settings(plan.model(name)).get(k) for k in ("min_pixels", "max_pixels")}
        assert budget == {"min_pixels": 1280 * 28 * 28, "max_pixels": 16384 * 28 * 28}, name
    assert "min_pixels" not in plan.model("Qwen3-VL-8B-Instruct")  # upstream sets none for Qwen3-VL
    # the architecture never reruns inference: the checkpoint decides the answers
    assert "architecture" in OPERATIONAL_KEYS and "architecture" not in generation_settings(qwen2)


def test_a_models_file_entry_replaces_the_familys(tmp_path):
    own = tmp_path / "models.yaml"
    own.write_text(yaml.safe_dump({"Qwen2-VL-7B-Instruct": {
        "class": "TransformersVLM", "model_path": "/share/Qwen2-VL-7B-Instruct", "architecture": "qwen2_vl"}}))
    plan = load_plan({"models_file": str(own), "custom_models": {"InternVL3-1B": {
        "class": "TransformersVLM", "model_path": "/share/InternVL3-1B-hf"}}}, tmp_path)
    assert plan.model("Qwen2-VL-7B-Instruct")["model_path"] == "/share/Qwen2-VL-7B-Instruct"
    assert "prompt" not in plan.model("Qwen2-VL-7B-Instruct")   # replaced, not merged
    assert plan.model("InternVL3-1B")["model_path"] == "/share/InternVL3-1B-hf"
    assert plan.model("InternVL3-2B")["model_path"] == "OpenGVLab/InternVL3-2B-hf"


def test_family_file_errors_name_the_family():
    with pytest.raises(InputError, match="family 'X' needs a `models:` mapping"):
        expand({"X": {"class": "TransformersVLM"}}, "f.yaml")
    with pytest.raises(InputError, match="model 'a' is named twice"):
        expand({"X": {"models": {"a": "o/a"}}, "Y": {"models": {"a": "o/b"}}}, "f.yaml")


# ---- list models and close names ----

def hub_cache_with(cache: Path, repo_id: str, config: dict) -> None:
    """A Hugging Face cache entry laid out as `hf download` leaves it (refs/main -> snapshots/<commit>)."""
    entry = cache / ("models--" + repo_id.replace("/", "--"))
    snap = entry / "snapshots" / ("0" * 40)
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(config))
    (snap / "model.safetensors").write_bytes(b"")
    (entry / "refs").mkdir()
    (entry / "refs" / "main").write_text("0" * 40)


def test_list_models_shows_adapter_architecture_prompt_and_weights(tmp_path, random_model):
    cache = tmp_path / "hf"
    hub_cache_with(cache, "Qwen/Qwen2-VL-2B-Instruct", {"model_type": "qwen2_vl"})
    cfg = tmp_path / "config" / "config.yaml"
    cfg.parent.mkdir()
    cfg.write_text(yaml.safe_dump({"custom_models": {"MyLocal": {
        "class": "TransformersVLM", "model_path": str(random_model), "architecture": "llava", "prompt": "llava"}}}))
    out = vs("list", "models", "--config", cfg, cwd=tmp_path, env={"HF_HUB_CACHE": str(cache)}).stdout
    rows = {line.split("\t")[0]: line.split("\t") for line in out.splitlines()}
    assert rows["model"] == ["model", "adapter", "architecture", "prompt", "weights", "family", "checkpoint"]
    assert rows["MyLocal"][1:6] == ["TransformersVLM", "llava", "llava", "local", "custom_models"]
    assert rows["Qwen2-VL-2B-Instruct"][1:7] == ["TransformersVLM", "qwen2_vl", "qwen2_vl", "in HF cache", "Qwen2-VL",
                                                 "Qwen/Qwen2-VL-2B-Instruct"]
    assert rows["Qwen2-VL-7B-Instruct"][4] == "missing"
    assert rows["InternVL2-2B"][1:6] == ["CustomAPIModel", "-", "internvl", "served", "InternVL2"]
    assert rows["GPT4o"][1:5] == ["OpenAIAPI", "-", "-", "API"]
    assert rows["TinyLLaVA-Demo"][4] == "built by the demo_model rule"


@pytest.mark.parametrize("typed, suggested", [
    ("Qwen2VL-7B-Instruct", "Qwen2-VL-7B-Instruct"),
    ("InternVL3-2b", "InternVL3-2B"),
    ("llava-v1.5-7b", "llava_v1.5_7b"),
])
def test_an_unknown_model_suggests_the_closest_named_ones(tmp_path, typed, suggested):
    proc = vs("infer", "--prompts", REPO / "README.md", "--model", typed, "--dataset", "D", "--cache-dir", tmp_path,
              "--out", tmp_path / "o.jsonl", "--config", REPO / "config/config.yaml", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"unknown model {typed!r}; did you mean " in proc.stderr and repr(suggested) in proc.stderr
    assert "`vlmeval-steps list models` shows them all" in proc.stderr


def test_an_unknown_model_in_a_target_suggests_without_listing_every_name():
    from vlmeval_steps.names_check import explain_target

    plan = load_plan({}, REPO)
    msg = explain_target("results/Qwen2-VL-7B/DemoShapes_acc.csv", plan.model_names(), plan.dataset_names())
    assert "did you mean 'Qwen2-VL-7B-Instruct'" in msg and "vlmeval-steps list models" in msg
    assert "Gemma3-27B" not in msg


# ---- the pre-flight check ----

def checkpoint(folder: Path, config: dict | None, weights: bool = True) -> Path:
    folder.mkdir(parents=True)
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    if weights:
        (folder / "model.safetensors").write_bytes(b"")
    return folder


REMOTE = {"model_type": "internvl_chat", "auto_map": {
    "AutoConfig": "configuration_internvl_chat.InternVLChatConfig",
    "AutoModel": "modeling_internvl_chat.InternVLChatModel",
    "AutoModelForCausalLM": "modeling_internvl_chat.InternVLChatModel"}}


@pytest.mark.parametrize("config, weights, spec, message", [
    (None, False, {}, "is not a checkpoint: it has no config.json"),
    ({"model_type": "fancy_vlm"}, True, {}, "model_type 'fancy_vlm', an architecture transformers"),
    ({"model_type": "qwen2"}, True, {}, "model_type 'qwen2' has no image-text-to-text class"),
    ({"model_type": "qwen2_vl"}, False, {}, "has a config.json but no weights"),
    ({"model_type": "llava"}, True, {"architecture": "qwen2_vl"},
     "is a 'llava' checkpoint but the entry says architecture 'qwen2_vl'"),
    (REMOTE, True, {}, "needs its own code (config.json's auto_map: AutoConfig, AutoModel, AutoModelForCausalLM"),
    (REMOTE, True, {"trust_remote_code": True}, "has no AutoModelForImageTextToText class"),
])
def test_each_bad_checkpoint_gets_its_message(tmp_path, config, weights, spec, message):
    folder = checkpoint(tmp_path / "ckpt", config, weights)
    with pytest.raises(InputError) as err:
        check("My-VLM", {"model_path": str(folder), **spec})
    text = str(err.value)
    assert text.startswith("model 'My-VLM'") and str(folder) in text and message in text
    assert "Nothing was run" in text


def test_a_remote_code_checkpoint_names_the_hf_checkpoints_and_the_serving_route(tmp_path):
    folder = checkpoint(tmp_path / "InternVL2-2B", REMOTE)
    with pytest.raises(InputError) as err:
        check("InternVL2-2B", {"model_path": str(folder)})
    text = str(err.value)
    assert "OpenGVLab/InternVL3-<size>-hf" in text
    assert f"lmdeploy serve api_server {folder} --server-port 23333 --model-name InternVL2-2B" in text
    assert "class: CustomAPIModel, model: InternVL2-2B" in text and "prompt: internvl" in text


def test_good_checkpoints_pass_and_are_found_in_the_hub_cache(tmp_path, monkeypatch, random_model):
    check("Tiny", {"model_path": str(random_model), "architecture": "llava"})
    cache = tmp_path / "hf"
    hub_cache_with(cache, "Org/Some-VL", {"model_type": "qwen2_vl"})
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    check("Some-VL", {"model_path": "Org/Some-VL", "architecture": "qwen2_vl"})
    assert weights_status({"model_path": "Org/Some-VL"}) == "in HF cache"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"not in the local Hugging Face cache .*hf download Org/Other-VL"):
        check("Other-VL", {"model_path": "Org/Other-VL"})
    with pytest.raises(InputError, match=r"model 'Gone': model_path '/no/such/folder': no such folder"):
        check("Gone", {"model_path": "/no/such/folder"})


def nothing_ran(workflow) -> bool:
    return not (workflow.root / "logs").exists() and not (workflow.root / "work").exists()


@pytest.mark.slow
def test_bad_checkpoints_stop_the_workflow_before_any_job(workflow, tmp_path):
    """Through a real `snakemake` run: the onstart check (beside the key check) stops it before any job starts
    or is submitted, with the model's name, its path and what to do."""
    cases = {
        "Empty-VL": (checkpoint(tmp_path / "empty", None, weights=False), "it has no config.json"),
        "Unknown-VL": (checkpoint(tmp_path / "unknown", {"model_type": "fancy_vlm"}),
                       "model_type 'fancy_vlm', an architecture transformers"),
        "InternVL2-2B": (checkpoint(tmp_path / "InternVL2-2B", REMOTE), "needs its own code"),
    }
    cfg = workflow.config()
    for name, (path, message) in cases.items():
        cfg["custom_models"] = {name: {"class": "TransformersVLM", "model_path": str(path), "device": "cpu"}}
        workflow.write_config(dict(cfg, models=[name], limit=2))
        proc = workflow.snakemake(check=False)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0 and f"model {name!r}" in out and str(path) in out and message in out, out[-3000:]
        assert "Nothing was run" in out and "Traceback" not in out
        assert nothing_ran(workflow)


@pytest.mark.slow
def test_the_serving_route_runs_with_the_familys_prompts(workflow, openai_server):
    """The route for remote-code checkpoints (InternVL2): a served model asked through CustomAPIModel, with
    upstream's InternVL prompts, end to end against a real OpenAI-compatible server on loopback."""
    cfg = workflow.config()
    cfg["custom_models"] = {"InternVL2-2B": {"class": "CustomAPIModel", "model": openai_server.model,
                                             "api_base": openai_server.base_url, "prompt": "internvl",
                                             "temperature": 0, "max_tokens": 8, "img_size": -1, "retry": 2}}
    workflow.write_config(dict(cfg, models=["InternVL2-2B"], limit=4))
    before = openai_server.requests_served()
    workflow.snakemake()
    assert (workflow.root / "results/InternVL2-2B/DemoShapes_limit4_acc.csv").exists()
    assert openai_server.requests_served() - before == 4
    prompts = workflow.root / "resources/prompts/DemoShapes_limit4/internvl.jsonl"
    first = json.loads(prompts.read_text().splitlines()[0])
    text = [m["value"] for m in first["message"] if m["type"] == "text"][0]
    assert text.endswith("Answer with the option's letter from the given choices directly.")


def test_misspelt_architecture_prompt_and_adapter_get_the_close_names(tmp_path):
    from vlmeval_steps.models import adapter_class
    from vlmeval_steps.prompts import prompt_id_for

    with pytest.raises(InputError, match=r"architecture 'qwen2vl' is not a model_type .* Did you mean 'qwen2_vl'"):
        check("My-VLM", {"model_path": str(tmp_path), "architecture": "qwen2vl"})
    with pytest.raises(InputError, match="unknown prompt builder 'internvl2'; Did you mean 'internvl'"):
        prompt_id_for("internvl2", "MMStar", "MCQ")
    with pytest.raises(InputError, match="unknown model class 'TransformerVLM'; Did you mean 'TransformersVLM'"):
        adapter_class("TransformerVLM")


def test_evalscopes_local_example_gets_the_serving_route(tmp_path):
    """EvalScope's local example names qwen_chat with a model_path: Qwen-VL-Chat needs its own code."""
    folder = checkpoint(tmp_path / "Qwen-VL-Chat", {"model_type": "qwen", "auto_map": {
        "AutoConfig": "configuration_qwen.QWenConfig", "AutoModelForCausalLM": "modeling_qwen.QWenLMHeadModel"}})
    with pytest.raises(InputError) as err:
        check("qwen_chat", {"model_path": str(folder)})
    assert "Qwen-VL(-Chat) has no transformers-native checkpoint" in str(err.value)
    assert f"lmdeploy serve api_server {folder} --server-port 23333 --model-name qwen_chat" in str(err.value)
