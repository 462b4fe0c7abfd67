"""Misspelt names in a user's files fail before anything runs, naming the file and the close known names:
model settings (against the adapter's), config keys (against the schema), through `vlmeval-steps run` and
plain `snakemake`."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from vlmeval_steps.config import WORKFLOW_MODEL_KEYS
from vlmeval_steps.errors import InputError
from vlmeval_steps.models.openai_api import OpenAIAPI
from vlmeval_steps.models.transformers_vlm import TransformersVLM
from vlmeval_steps.names_check import adapter_settings, check_model_settings

from tests.conftest import REPO


@pytest.fixture
def copy(tmp_path):
    """The workflow without its demo model: nothing here gets as far as running a job."""
    root = tmp_path / "wf"
    root.mkdir()
    for name in ("Snakefile", "workflow", "config", "demo", "vlmeval_steps"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    return root


def cli(root, *args, cwd):
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_adapters_say_what_they_take():
    names, open_ = adapter_settings(TransformersVLM)
    assert {"model_path", "max_new_tokens", "top_p"} <= names and not open_     # **generation is a fixed list
    names, open_ = adapter_settings(OpenAIAPI)
    assert {"model", "api_base", "max_tokens", "img_size", "retry"} <= names and open_  # others go in the body
    check_model_settings("M", {"class": "OpenAIAPI", "model": "m", "top_p": 0.5, "seed": 1}, "f", WORKFLOW_MODEL_KEYS)
    with pytest.raises(InputError, match="did you mean 'max_tokens'"):
        check_model_settings("M", {"class": "OpenAIAPI", "model": "m", "max_token": 5}, "f", WORKFLOW_MODEL_KEYS)
    with pytest.raises(InputError, match="has no setting 'beams'"):
        check_model_settings("M", {"class": "TransformersVLM", "model_path": "p", "beams": 2}, "f", WORKFLOW_MODEL_KEYS)


def test_run_refuses_a_misspelt_model_setting_before_anything_runs(copy, tmp_path):
    cfg = {"models": ["Mine"], "datasets": ["DemoShapes"],
           "custom_models": {"Mine": {"class": "TransformersVLM", "model_path": "ckpt", "max_new_token": 8}}}
    (tmp_path / "my.yaml").write_text(yaml.safe_dump(cfg))
    proc = cli(copy, "vlmeval_steps", "run", "--config", "my.yaml", "--work-dir", "wd", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "model 'Mine' (custom_models in the config): TransformersVLM has no setting 'max_new_token'; " \
           "did you mean 'max_new_tokens'?" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "wd").exists()


def test_run_and_snakemake_name_the_config_file_of_an_unknown_key(copy, tmp_path):
    (tmp_path / "my.yaml").write_text(yaml.safe_dump({"models": ["TinyLLaVA-Demo"], "datasets": ["DemoShapes"],
                                                      "limt": 5}))
    proc = cli(copy, "vlmeval_steps", "run", "--config", "my.yaml", "--work-dir", "wd", cwd=tmp_path)
    assert proc.returncode == 2
    assert "my.yaml: unknown config key 'limt'; did you mean 'limit'?" in proc.stderr
    assert not (tmp_path / "wd").exists()

    cfg = yaml.safe_load((copy / "config/config.yaml").read_text())
    cfg["custom_datasets"]["DemoShapes"]["md5sum"] = cfg["custom_datasets"]["DemoShapes"].pop("md5")
    (copy / "config/config.yaml").write_text(yaml.safe_dump(cfg))
    proc = cli(copy, "snakemake", "-n", "--cores", "1", cwd=copy)
    assert proc.returncode != 0
    assert ("config/config.yaml: unknown config key 'custom_datasets.DemoShapes.md5sum'; did you mean 'md5'?"
            in proc.stdout + proc.stderr)


@pytest.mark.parametrize("target, message", [
    ("results/TinyLLaVA-Demo/DemoShape_acc.csv", "unknown dataset 'DemoShape'; did you mean 'DemoShapes'?"),
    ("results/TinyLLaVA-Dem/DemoShapes_acc.csv", "unknown model 'TinyLLaVA-Dem'; did you mean 'TinyLLaVA-Demo'"),
    ("results/TinyLLaVA-Demo/DemoShapes_limit_acc.csv", "'DemoShapes_limit': a limit is written DemoShapes_limitN"),
    ("results/TinyLLaVA-Demo/DemoShape.xlsx", "unknown dataset 'DemoShape'"),
])
def test_plain_snakemake_names_the_unknown_part_of_a_target(copy, target, message):
    proc = cli(copy, "snakemake", "-n", "--cores", "1", target, cwd=copy)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and f"{target}: {message}" in out
    assert "MissingRuleException" not in out
    # the same pattern with known names still plans the real chain
    if "DemoShape_acc" in target:
        ok = cli(copy, "snakemake", "-n", "--cores", "1", "results/TinyLLaVA-Demo/DemoShapes_limit5_acc.csv", cwd=copy)
        assert ok.returncode == 0 and "rule score:" in ok.stdout + ok.stderr
