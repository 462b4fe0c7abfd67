"""Task files users already have, translated into a vlmeval-steps config.

`vlmeval-steps run --config FILE` accepts three shapes (YAML or JSON):

- EvalScope's task config for its VLMEvalKit backend: `work_dir`, `eval_backend`, and
  `eval_config: {model: [...], data: [...], mode, limit, nproc, reuse}`. A model entry is a name,
  `{name: CustomAPIModel, type, api_base, key, temperature, img_size}` (an OpenAI-compatible
  server) or `{name, model_path}` (a local checkpoint). `OPENAI_API_KEY`, `OPENAI_API_BASE` and
  `LOCAL_LLM` (the judge's server) may sit at the top level or in eval_config.
- VLMEvalKit's `run.py --config` JSON: `{"model": {NAME: {"class": ..., ...}}, "data": {NAME: {...}}}`.
- Our own config (`models`, `datasets`, ... as in config/config.yaml).

The result is a Task: a config with no secret in it, the run settings, and the environment
variables that carry the secrets to the run. Inline keys go through config.sanitise_spec,
which moves them into an environment variable and leaves only its name (`key_env`) behind.
"""
from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .config import sanitise_spec
from .errors import InputError

#: EvalScope's fixed `name` for a model behind an OpenAI-compatible API; GPT4V is VLMEvalKit's class for it
API_ENTRY_NAMES = frozenset({"CustomAPIModel", "GPT4V", "OpenAIAPI"})
API_CLASS = "OpenAIAPI"
LOCAL_CLASS = "TransformersVLM"
#: variables VLMEvalKit reads for the judge (and EvalScope lets users put in the task file)
JUDGE_ENV = ("OPENAI_API_KEY", "OPENAI_API_BASE", "LOCAL_LLM")
MODES = ("all", "infer", "eval")   # run.py's; eval: score the predictions there are, infer nothing

#: EvalScope's video keys: they go to the config as they are (video/settings.py reads them)
VIDEO_KEYS = ("nframe", "fps", "use_subtitle", "video_llm")
EVALSCOPE_TOP_KEYS = frozenset({"work_dir", "eval_backend", "eval_config", *JUDGE_ENV})
EVALSCOPE_EVAL_KEYS = frozenset({"model", "data", "mode", "limit", "nproc", "reuse", "rerun", "use_cache",
                                 "work_dir", *VIDEO_KEYS, *JUDGE_ENV})
#: accepted so that existing task files run, but they change nothing here (said in Task.notes)
EVALSCOPE_IGNORED = {
    "reuse": "vlmeval-steps always reuses what is up to date and recomputes only what is not",
    "rerun": "vlmeval-steps always reuses what is up to date and recomputes only what is not",
    "use_cache": "answers are cached per sample under work/cache/ in the work dir",
}


@dataclass
class Task:
    """What one `vlmeval-steps run` evaluates. `config` holds no secret; `env` does and is never written."""

    config: dict
    mode: str | None = None
    work_dir: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    source: str = "vlmeval-steps"
    judge_from: str | None = None   # who chose the judge (--judge, a config); None: run.py's default


def detect(doc: dict) -> str:
    """'evalscope', 'vlmevalkit' or 'native', from the keys at the top of a task file."""
    if "eval_config" in doc or "eval_backend" in doc:
        return "evalscope"
    if isinstance(doc.get("model"), dict) or isinstance(doc.get("data"), dict):
        return "vlmevalkit"
    return "native"


def safe_name(text: str) -> str:
    """A model id as a file name: `Qwen/Qwen2-VL-7B` -> `Qwen_Qwen2-VL-7B`."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_.")
    if not name:
        raise InputError(f"cannot make a model name out of {text!r}; give the entry a name.")
    return name


def load_task(path: str | Path, base_config: dict, named_models: dict) -> Task:
    """Read a task file of any of the three shapes. `base_config` supplies what the file leaves out
    (the judge, custom datasets such as the demo); `named_models` is the models file."""
    from .config import load_yaml

    path = Path(path)
    doc = load_yaml(path)
    kind = detect(doc)
    where = path.resolve().parent
    if kind == "evalscope":
        return from_evalscope(doc, base_config, named_models, where, str(path))
    if kind == "vlmevalkit":
        return from_vlmevalkit(doc, base_config, named_models, where, str(path))
    return from_native(doc, where, str(path))


def _limit(value, where: str) -> int | None:
    if value in (None, "", 0):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{where}: limit must be a whole number of rows >= 1, not {value!r}.")
    return value


def _positive_int(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{where}: must be a whole number >= 1, not {value!r}.")
    return value


def _mode(value, where: str) -> str:
    if value not in MODES:
        raise InputError(f"{where}: mode must be one of {', '.join(MODES)}, not {value!r}.")
    return value


def _names(value, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise InputError(f"{where}: expected a non-empty list of names, found {value!r}.")
    return list(dict.fromkeys(value))


def resolve_path(value: str, *folders: Path) -> str:
    """A relative path made absolute against the first folder where it exists; kept as given when it
    exists nowhere (a Hugging Face id, or a file the workflow makes or resolves itself)."""
    if re.match(r"^[a-z][a-z0-9+.-]*://", str(value)) or Path(value).is_absolute():
        return str(value)
    for folder in folders:
        candidate = Path(folder) / value
        if candidate.exists():
            return str(candidate.resolve())
    return str(value)


def _search_folders(where: Path) -> list[Path]:
    # a task file beside the data, a project's config/config.yaml, or the folder the user runs from
    return [where, where.parent, Path.cwd()]


def _add_model(config: dict, name: str, spec: dict, env: dict, where: str) -> None:
    models = config.setdefault("custom_models", {})
    if name in models and models[name] != spec:
        raise InputError(f"{where}: two different models are both named {name!r}; give one of them another name.")
    spec = sanitise_spec(name, spec)
    if spec.get("key_env") and spec["key_env"] in os.environ:
        env[spec["key_env"]] = os.environ[spec["key_env"]]
    models[name] = spec


def _evalscope_model(entry, i: int, config: dict, named: dict, folders: list[Path], env: dict) -> str:
    where = f"eval_config.model[{i}]"
    if isinstance(entry, str):
        return entry
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected a model name or a mapping, found {entry!r}.")
    entry = dict(entry)
    name = entry.pop("name", None)
    if name in API_ENTRY_NAMES:
        model_id = entry.pop("type", None) or entry.pop("model", None)
        if not model_id:
            raise InputError(f"{where}: a {name} entry needs `type`, the model id the server serves "
                             "(vLLM/LMDeploy: the model id; Ollama: `ollama list`; ms-swift: --model_type).")
        our_name = safe_name(entry.pop("alias", None) or model_id)
        _add_model(config, our_name, {"class": API_CLASS, "model": model_id, **entry}, env, where)
        return our_name
    if not name:
        raise InputError(f"{where}: needs a `name` (a named model, or CustomAPIModel with `type` and `api_base`).")
    if "model_path" in entry:
        entry["model_path"] = resolve_path(entry["model_path"], *folders)
        if name in named:  # a named model pointed at another checkpoint keeps its other settings
            spec = {k: v for k, v in named[name].items() if k != "build"}
            spec.update(entry)
        else:
            spec = {"class": LOCAL_CLASS, **entry}
        _add_model(config, safe_name(name), spec, env, where)
        return safe_name(name)
    if entry:  # a named model with some settings changed
        if name not in named:
            raise InputError(f"{where}: {name!r} is not a named model (config/models.yaml); a local checkpoint "
                             "needs `model_path`, an API model `name: CustomAPIModel` with `type`.")
        _add_model(config, name, {**named[name], **entry}, env, where)
    return name


def _judge_env(doc: dict, task: Task) -> None:
    """EvalScope's judge recipe: the task file sets VLMEvalKit's judge variables. They go to the run's
    environment only; the run then picks each dataset's judge as run.py does (upstream's default
    where it answers, served as LOCAL_LLM when set; exact matching otherwise)."""
    given = {var: str(doc[var]) for var in JUDGE_ENV if doc.get(var) not in (None, "")}
    if not given:
        return
    task.env.update(given)
    task.notes.append(f"{', '.join(sorted(given))} given: the judge is upstream's default for each dataset"
                      + (f", served as {given['LOCAL_LLM']}" if "LOCAL_LLM" in given else "") + ".")


def from_evalscope(doc: dict, base_config: dict, named: dict, where: Path, source: str = "task") -> Task:
    unknown = sorted(set(doc) - EVALSCOPE_TOP_KEYS)
    if unknown:
        raise InputError(f"{source}: unknown top-level keys {unknown}; an EvalScope task for the VLMEvalKit backend "
                         f"has {sorted(EVALSCOPE_TOP_KEYS)}.")
    backend = doc.get("eval_backend", "VLMEvalKit")
    if str(backend).lower() != "vlmevalkit":
        raise InputError(f"{source}: eval_backend {backend!r} is not supported; vlmeval-steps runs EvalScope's "
                         "VLMEvalKit backend tasks only.")
    ev = doc.get("eval_config")
    if not isinstance(ev, dict):
        raise InputError(f"{source}: eval_config must be a mapping with model and data.")
    unknown = sorted(set(ev) - EVALSCOPE_EVAL_KEYS)
    if unknown:
        raise InputError(f"{source}: eval_config has unknown keys {unknown}; known: {sorted(EVALSCOPE_EVAL_KEYS)}.")
    for key in ("model", "data"):
        if key not in ev:
            raise InputError(f"{source}: eval_config needs `{key}`.")
    config = copy.deepcopy(base_config)
    task = Task(config=config, source=source)
    folders = _search_folders(where)
    entries = ev["model"] if isinstance(ev["model"], list) else [ev["model"]]
    if not entries:
        raise InputError(f"{source}: eval_config.model is empty.")
    config["models"] = list(dict.fromkeys(
        _evalscope_model(e, i, config, named, folders, task.env) for i, e in enumerate(entries)))
    config["datasets"] = _names(ev["data"], f"{source}: eval_config.data")
    config["limit"] = _limit(ev.get("limit"), f"{source}: eval_config.limit")
    task.mode = _mode(ev.get("mode", "all"), f"{source}: eval_config.mode")
    task.work_dir = ev.get("work_dir") or doc.get("work_dir") or "outputs"  # EvalScope's default
    if ev.get("nproc") is not None:
        set_nproc(config, named, _positive_int(ev["nproc"], f"{source}: eval_config.nproc"))
    _judge_env({**doc, **ev}, task)
    for key in VIDEO_KEYS:
        if ev.get(key) is not None:
            config[key] = ev[key]
    _video_note(config, task)
    for key, why in EVALSCOPE_IGNORED.items():
        if ev.get(key) not in (None, False):
            task.notes.append(f"eval_config.{key} is ignored: {why}.")
    return task


def _video_note(config: dict, task: Task) -> None:
    """fps and nframe both set: said once, with upstream's precedence (fps)."""
    from .video.settings import precedence_note

    nframe, fps = config.get("nframe"), config.get("fps")
    if fps is not None and float(fps) > 0 and nframe is not None and int(nframe) > 0:
        task.notes.append(precedence_note(int(nframe), float(fps)))


def from_vlmevalkit(doc: dict, base_config: dict, named: dict, where: Path, source: str = "config") -> Task:
    """VLMEvalKit's run.py --config: every model entry is a class and its arguments, every data entry
    names a dataset."""
    config = copy.deepcopy(base_config)
    task = Task(config=config, source=source)
    models, datasets = doc.get("model") or {}, doc.get("data") or {}
    if not isinstance(models, dict) or not models or not isinstance(datasets, dict) or not datasets:
        raise InputError(f"{source}: a VLMEvalKit config needs non-empty `model` and `data` mappings.")
    folders = _search_folders(where)
    config["models"] = []
    for name, entry in models.items():
        spec = dict(entry or {})
        if "class" not in spec:
            if name not in named:
                raise InputError(f"{source}: model {name!r} has no `class` and is not a named model.")
            spec = {**named[name], **spec}
        if "model_path" in spec:
            spec["model_path"] = resolve_path(spec["model_path"], *folders)
        _add_model(config, name, spec, task.env, f"{source}: model.{name}")
        config["models"].append(name)
    config["datasets"] = [str((entry or {}).get("dataset") or name) for name, entry in datasets.items()]
    return task


def from_native(doc: dict, where: Path, source: str = "config") -> Task:
    """Our own config; relative paths are made absolute so the run works from any work dir."""
    config = copy.deepcopy(doc)
    task = Task(config=config, source=source)
    folders = _search_folders(where)
    for name, spec in (config.get("custom_datasets") or {}).items():
        if isinstance(spec, dict) and spec.get("url"):
            spec["url"] = resolve_path(spec["url"], *folders)
    if config.get("models_file"):
        config["models_file"] = resolve_path(config["models_file"], *folders)
    for name, spec in list((config.get("custom_models") or {}).items()):
        if isinstance(spec, dict):
            if spec.get("model_path") and not spec.get("build"):
                spec["model_path"] = resolve_path(spec["model_path"], *folders)
            config["custom_models"][name] = sanitise_spec(name, spec)
            env_var = config["custom_models"][name].get("key_env")
            if env_var and env_var in os.environ:
                task.env[env_var] = os.environ[env_var]
    return task


def set_nproc(config: dict, named: dict, nproc: int) -> None:
    """API threads for every model of the run and the judge. nproc never changes an answer, so this
    reruns nothing."""
    models = config.setdefault("custom_models", {})
    for name in config.get("models") or []:
        if name not in models and name in named:
            models[name] = sanitise_spec(name, named[name])
        if name in models:
            models[name]["nproc"] = nproc
    config.setdefault("judge", {})["nproc"] = nproc
