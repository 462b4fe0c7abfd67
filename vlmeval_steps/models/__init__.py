"""Model adapters, built from a spec: {'class': NAME or 'module:Class', **constructor arguments}."""
from __future__ import annotations

import importlib

from ..errors import InputError
from ..model_keys import OPERATIONAL_KEYS
from .api_base import BaseAPI
from .base import BaseModel

ADAPTERS = {
    "TransformersVLM": "vlmeval_steps.models.transformers_vlm:TransformersVLM",
    "OpenAIAPI": "vlmeval_steps.models.openai_api:OpenAIAPI",
    "GPT4V": "vlmeval_steps.models.openai_api:GPT4V",                    # upstream's name
    "CustomAPIModel": "vlmeval_steps.models.openai_api:CustomAPIModel",  # EvalScope's name
}
# operational keys an API adapter still needs at construction (they never change an answer)
API_RUNTIME_KEYS = ("key_env", "key_file", "timeout", "retry", "wait", "verbose")


def adapter_class(name: str):
    target = ADAPTERS.get(name, name)
    if ":" not in target:
        from ..names_check import close

        matches = close(name, ADAPTERS)
        hint = f" Did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""
        raise InputError(f"unknown model class {name!r};{hint} known: {sorted(ADAPTERS)}, or give "
                         "'package.module:Class'.")
    module, attr = target.split(":", 1)
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"cannot import model class {target!r}: {exc}") from exc


def is_local(spec: dict) -> bool:
    """Local models hold a GPU; API models do not."""
    cls = adapter_class(spec["class"])
    return not getattr(cls, "is_api", False)


def build_model(spec: dict):
    cls = adapter_class(spec["class"])
    # `prompt` names the model's prompt builder (vlmeval_steps/prompts): the workflow's, not the adapter's
    # (and `doc_pages` the page layout of multi-page documents, datasets/doc_pages.py)
    kwargs = {k: v for k, v in spec.items() if k not in ("class", "prompt", "doc_pages") and k not in OPERATIONAL_KEYS}
    if "device" in spec and not getattr(cls, "is_api", False):
        kwargs["device"] = spec["device"]
    if getattr(cls, "is_api", False):
        kwargs.update({k: spec[k] for k in API_RUNTIME_KEYS if k in spec})
    return cls(**kwargs)


__all__ = ["BaseAPI", "BaseModel", "build_model", "adapter_class", "is_local"]
