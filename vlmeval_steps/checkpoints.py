"""Where a local model's weights are, and whether TransformersVLM can run them: checked before any job runs.

`model_path` is a folder, or a Hub id already in the local Hugging Face cache (runs are offline). The
checkpoint's config.json says what it is: a `model_type` transformers has built in (and an
image-text-to-text class for it), or code of its own (`auto_map`, trust_remote_code). Each way a
checkpoint can be wrong gets one message naming the model, the path and what to do.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .errors import InputError

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
WEIGHTS = ("*.safetensors", "*.bin", "*.safetensors.index.json", "*.bin.index.json", "*.pt", "*.pth")
SERVE = ("serve it with its own code and evaluate it through CustomAPIModel (docs/models.md, \"Checkpoints that need "
         "remote code\"): `lmdeploy serve api_server {path} --server-port 23333 --model-name {name}` (or `vllm serve "
         "{path} --trust-remote-code --port 23333 --served-model-name {name}`), then a custom_models entry "
         "{{class: CustomAPIModel, model: {name}, api_base: 'http://127.0.0.1:23333/v1'{prompt}}}")
# remote-code model types with a transformers-native conversion, named in the message
NATIVE_CONVERSION = {
    "internvl_chat": "InternVL3 has transformers-native checkpoints (OpenGVLab/InternVL3-<size>-hf, named "
                     "InternVL3-<size> here); InternVL2 and InternVL2.5 have none",
    "phi3_v": "Phi-3/3.5-Vision have no transformers-native checkpoint",
    "qwen": "Qwen-VL(-Chat) has no transformers-native checkpoint (Qwen2-VL is its successor)",
}
REMOTE_PROMPT = {"internvl_chat": "internvl"}   # the prompt builder a served checkpoint of that type keeps


def is_hub_id(path: str) -> bool:
    return bool(HUB_ID.match(path)) and not path.startswith((".", "/", "~"))


def hub_cache() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def locate(model_path: str) -> tuple[Path | None, str]:
    """(the checkpoint's folder or None, where it was looked for: 'folder' or 'cache')."""
    path = Path(os.path.expanduser(str(model_path)))
    if path.exists():
        return path, "folder"
    if is_hub_id(str(model_path)):
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(str(model_path), "config.json")
        if isinstance(found, str):
            return Path(found).parent, "cache"
        return None, "cache"
    return None, "folder"


def weights_status(spec: dict) -> str:
    """What `vlmeval-steps list models` shows in its weights column."""
    if "model_path" not in spec:
        return "served" if spec.get("api_base") else "API"
    if spec.get("build"):
        where, _ = locate(spec["model_path"])
        return "local" if where else f"built by the {spec['build']} rule"
    where, how = locate(spec["model_path"])
    if where is None:
        return "missing"
    return "local" if how == "folder" else "in HF cache"


def _read_config(name: str, model_path: str, folder: Path) -> dict:
    where = f"model {name!r}: model_path {model_path!r}"
    if not folder.is_dir():
        raise InputError(f"{where} is a file, not a checkpoint folder. Nothing was run: set model_path to the folder "
                         "that holds config.json and the weights.")
    cfg_file = folder / "config.json"
    if not cfg_file.is_file():
        raise InputError(f"{where} ({folder}) is not a checkpoint: it has no config.json. Nothing was run: set "
                         "model_path to the folder that holds config.json and the weights (*.safetensors), e.g. the "
                         "folder `save_pretrained` wrote or `hf download` filled.")
    try:
        cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{where}: {cfg_file} is not valid JSON ({exc}). Nothing was run: download the checkpoint "
                         "again.") from None
    if not isinstance(cfg, dict) or not cfg.get("model_type"):
        raise InputError(f"{where}: {cfg_file} has no model_type, so it is not a transformers checkpoint. Nothing "
                         "was run: point model_path at a transformers checkpoint.")
    if not any(next(folder.glob(p), None) for p in WEIGHTS):
        raise InputError(f"{where} ({folder}) has a config.json but no weights (*.safetensors or *.bin). Nothing was "
                         "run: finish the download (`hf download` resumes) or point model_path at the full checkpoint.")
    return cfg


def check(name: str, spec: dict) -> None:
    """InputError when a TransformersVLM entry's checkpoint is missing, not a checkpoint, of an architecture
    transformers does not know, needs code of its own, or is not the architecture the entry states."""
    import transformers
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES as VLM_CLASSES

    model_path = str(spec["model_path"])
    expected = spec.get("architecture")
    if expected and expected not in CONFIG_MAPPING_NAMES:
        from .names_check import close

        matches = close(str(expected), CONFIG_MAPPING_NAMES)
        hint = f" Did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""
        raise InputError(f"model {name!r}: architecture {expected!r} is not a model_type transformers "
                         f"{transformers.__version__} knows.{hint} Nothing was run: set architecture to the "
                         f"model_type in {model_path}'s config.json, or leave it out.")
    folder, how = locate(model_path)
    if folder is None:
        looked = (f"not a folder here ({Path.cwd()}) and not in the local Hugging Face cache ({hub_cache()})"
                  if how == "cache" else f"no such folder (from {Path.cwd()})")
        fetch = (f"download it first (`hf download {model_path}` where there is network, with the same HF_HOME), or "
                 if is_hub_id(model_path) else "")
        raise InputError(f"model {name!r}: model_path {model_path!r}: {looked}. Nothing was run: {fetch}set "
                         "model_path to the checkpoint's folder (custom_models in the config, or config/models.yaml).")
    cfg = _read_config(name, model_path, folder)
    model_type = str(cfg["model_type"])
    version = transformers.__version__
    where = f"model {name!r}: {model_path!r}"
    if cfg.get("auto_map") and model_type not in CONFIG_MAPPING_NAMES:
        _check_remote_code(where, name, model_path, cfg, bool(spec.get("trust_remote_code")), version)
        return
    if model_type not in CONFIG_MAPPING_NAMES:
        raise InputError(f"{where}: config.json says model_type {model_type!r}, an architecture transformers {version} "
                         "does not know. Nothing was run: upgrade transformers (`pip install -U transformers`) if the "
                         "architecture is newer, or point model_path at a transformers checkpoint.")
    if model_type not in VLM_CLASSES:
        raise InputError(f"{where}: model_type {model_type!r} has no image-text-to-text class in transformers "
                         f"{version} (AutoModelForImageTextToText), so TransformersVLM cannot run it. Nothing was run: use a "
                         "vision-language checkpoint, or serve this one and evaluate it through CustomAPIModel.")
    if expected and expected != model_type:
        raise InputError(f"{where} is a {model_type!r} checkpoint but the entry says architecture {expected!r}. "
                         f"Nothing was run: point model_path at a {expected!r} checkpoint, or set architecture: {model_type} "
                         "(and check the entry's prompt builder and settings suit it).")


def _check_remote_code(where: str, name: str, model_path: str, cfg: dict, trusted: bool, version: str) -> None:
    """A checkpoint that brings its own code: TransformersVLM loads it only with trust_remote_code and an
    AutoModelForImageTextToText class in that code; otherwise the message names the two routes that work."""
    model_type = str(cfg["model_type"])
    served = SERVE.format(path=model_path, name=name, prompt=(f", prompt: {REMOTE_PROMPT[model_type]}"
                                                               if model_type in REMOTE_PROMPT else ""))
    other = NATIVE_CONVERSION.get(model_type)
    alternative = f"{other}; " if other else "use a transformers-native conversion of it if one exists, or "
    classes = ", ".join(sorted(cfg["auto_map"]))
    if not trusted:
        raise InputError(f"{where} needs its own code (config.json's auto_map: {classes}; model_type {model_type!r}, "
                         f"which transformers {version} does not have) and trust_remote_code is off. Nothing was run: "
                         f"{alternative}{served}.")
    if "AutoModelForImageTextToText" not in cfg["auto_map"]:
        raise InputError(f"{where}: its own code (auto_map: {classes}) has no AutoModelForImageTextToText class, so "
                         f"TransformersVLM cannot load it even with trust_remote_code. Nothing was run: "
                         f"{alternative}{served}.")


def applies(spec: dict) -> bool:
    """Checked: TransformersVLM entries (and adapters built on it) that name a model_path."""
    from .models import adapter_class
    from .models.transformers_vlm import TransformersVLM

    if "model_path" not in spec:
        return False
    try:
        cls = adapter_class(spec["class"])
    except InputError:
        return False
    return isinstance(cls, type) and issubclass(cls, TransformersVLM)


def check_models(plan, models) -> None:
    """Before a run: every local checkpoint of `models` (names) that the workflow does not build itself."""
    for name in sorted(set(models)):
        spec = plan.model(name)
        if applies(spec) and not spec.get("build"):
            check(name, spec)
