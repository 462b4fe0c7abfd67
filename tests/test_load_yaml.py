"""The one YAML loader (fileio.load_yaml) behind config files and the model families file."""
import pytest

from vlmeval_steps import config, model_families
from vlmeval_steps.errors import InputError
from vlmeval_steps.fileio import load_yaml


@pytest.mark.parametrize("fast", [False, True])
def test_load_yaml_mappings_and_errors(tmp_path, fast):
    good, empty, bad, listed = (tmp_path / n for n in ("good.yaml", "empty.yaml", "bad.yaml", "list.yaml"))
    good.write_text("a: 1\nb: [x, y]\n")
    empty.write_text("")
    bad.write_text("a: [1, 2\n")
    listed.write_text("- a\n- b\n")
    assert load_yaml(good, fast=fast) == {"a": 1, "b": ["x", "y"]}
    assert load_yaml(empty, fast=fast) == {}
    with pytest.raises(InputError, match="file not found"):
        load_yaml(tmp_path / "missing.yaml", fast=fast)
    with pytest.raises(InputError, match="not valid YAML"):
        load_yaml(bad, fast=fast)
    with pytest.raises(InputError, match="expected a mapping at the top level, found list"):
        load_yaml(listed, fast=fast)


def test_config_and_families_share_it(tmp_path):
    assert config.load_yaml is load_yaml  # the name the cli, runner and .smk files import
    families = tmp_path / "families.yaml"
    families.write_text("- Qwen\n")
    with pytest.raises(InputError, match="expected a mapping of families at the top level"):
        model_families.load(families)
    families.write_text("Fam:\n  prompt: x\n  models: {M-1: org/m1, M-2: {model_path: org/m2, prompt: y}}\n")
    assert model_families.load(families) == ({"M-1": {"prompt": "x", "model_path": "org/m1"},
                                              "M-2": {"prompt": "y", "model_path": "org/m2"}},
                                             {"M-1": "Fam", "M-2": "Fam"})
