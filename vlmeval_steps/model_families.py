"""The named open VLMs of config/model_families.yaml, expanded into one model entry per name.

A family block holds the settings its sizes share and `models: {name: checkpoint}`; a size given as a
mapping overrides settings for that name. config/models.yaml and custom_models entries of the same name
replace these (config.py merges them in that order).
"""
from __future__ import annotations

from pathlib import Path

from .errors import InputError
from .fileio import load_yaml

FAMILIES_FILE = Path(__file__).resolve().parent.parent / "config" / "model_families.yaml"


def expand(doc: dict, source: str) -> tuple[dict[str, dict], dict[str, str]]:
    """({model name: entry}, {model name: family}) from a families document."""
    models: dict[str, dict] = {}
    family_of: dict[str, str] = {}
    for family, block in doc.items():
        if not isinstance(block, dict) or not isinstance(block.get("models"), dict):
            raise InputError(f"{source}: family {family!r} needs a `models:` mapping of name -> checkpoint.")
        shared = {k: v for k, v in block.items() if k != "models"}
        for name, size in block["models"].items():
            if name in models:
                raise InputError(f"{source}: model {name!r} is named twice ({family_of[name]} and {family}).")
            if isinstance(size, str):
                size = {"model_path": size}
            elif not isinstance(size, dict):
                raise InputError(f"{source}: {family}.models.{name}: give a checkpoint (Hub id or folder) or a "
                                 "mapping of settings.")
            models[str(name)] = {**shared, **size}
            family_of[str(name)] = str(family)
    return models, family_of


def load(path: str | Path = FAMILIES_FILE) -> tuple[dict[str, dict], dict[str, str]]:
    # read at every Snakemake start: the fast parser
    return expand(load_yaml(path, what="a mapping of families", fast=True), str(path))
