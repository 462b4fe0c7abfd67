"""Model-specific prompt builders (upstream's model.use_custom_prompt / model.build_prompt).

A builder is registered under an id. A model names its builder with `prompt: <id>` in its
spec; the builder's `applies(dataset_name, dataset_type)` says for which datasets it replaces
the dataset's own prompt. Prompts are files keyed by builder id, so models that share a
builder share them, and a model whose builder does not apply uses the `default` file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

DEFAULT = "default"


@dataclass(frozen=True)
class PromptBuilder:
    id: str
    applies: Callable[[str, str], bool]
    build: Callable  # (dataset, line) -> list[dict]


BUILDERS: dict[str, PromptBuilder] = {}


def register(builder: PromptBuilder) -> PromptBuilder:
    BUILDERS[builder.id] = builder
    return builder


def prompt_id_for(builder_id: str | None, dataset_name: str, dataset_type: str) -> str:
    """The prompt file a model with this builder reads for this dataset."""
    if not builder_id or builder_id == DEFAULT:
        return DEFAULT
    if builder_id not in BUILDERS:
        from ..errors import InputError

        from ..names_check import close

        matches = close(builder_id, [DEFAULT, *BUILDERS])
        hint = f" Did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""
        raise InputError(f"unknown prompt builder {builder_id!r};{hint} known: {[DEFAULT, *sorted(BUILDERS)]}.")
    return builder_id if BUILDERS[builder_id].applies(dataset_name, dataset_type) else DEFAULT


def build_messages(prompt_id: str, dataset, line) -> list[dict]:
    if prompt_id == DEFAULT:
        return dataset.build_prompt(line)
    return BUILDERS[prompt_id].build(dataset, line)


# the builders register themselves; importing them here makes them known wherever BUILDERS is read
from . import internvl, llama_vision, llava, qwen2_vl  # noqa: E402,F401
