"""Resolve the config into what each stage needs: model specs, dataset entries, judge settings.

A model spec is a dict with a `class` and its constructor arguments. Keys in OPERATIONAL_KEYS
change how a stage runs, never what it answers; everything else is a generation setting and is
part of the answer cache key and of Snakemake's rerun params. Keys are never kept in a spec:
an inline `key` is moved to an environment variable and the spec names only that variable.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .datasets.registry import DatasetInfo, dataset_info
from .errors import InputError
from .model_keys import OPERATIONAL_KEYS, SECRET_KEYS, generation_settings  # noqa: F401 (re-exported)
from .fileio import load_yaml  # noqa: F401 - also imported from here (cli, runner, status, the .smk files)
from .names import split_limit, with_limit

#: keys of a model entry that the workflow reads, beside the adapter's own settings
WORKFLOW_MODEL_KEYS = OPERATIONAL_KEYS | {"class", "prompt", "doc_pages"}  # doc_pages: datasets/doc_pages.py
JUDGE_OPERATIONAL_KEYS = frozenset({"nproc", "key_env", "key_file", "timeout", "retry", "wait", "verbose",
                                    "keep_failed"})
DEFAULT_MODELS_FILE = Path(__file__).resolve().parent.parent / "config" / "models.yaml"


def secret_env_name(model: str) -> str:
    return "VLMEVAL_STEPS_KEY_" + re.sub(r"[^A-Za-z0-9]", "_", model).upper()


def sanitise_spec(name: str, spec: dict) -> dict:
    """The spec with any inline key moved into this process's environment (never to a file)."""
    spec = dict(spec)
    for k in SECRET_KEYS & set(spec):
        value = spec.pop(k)
        if value not in (None, ""):
            env = secret_env_name(name)
            os.environ[env] = str(value)
            spec["key_env"] = env
    return spec


def file_dataset_name(config: dict, dataset: str) -> str:
    """A configured dataset as file names show it: a video benchmark gets its frame setting
    (upstream's MVBench_8frame, Video-MME_1fps_subs); then the limit."""
    info = _info_or_none(config, dataset)
    if info is not None and info.name == split_limit(dataset)[0]:  # a bare name: the config's setting
        from .datasets.registry import CLASSES
        from .video.benchmark import is_video
        from .video.settings import config_setting, named

        if is_video(info):
            setting = config_setting(config)
            if setting.use_subtitle and not callable(getattr(CLASSES[info.cls], "subtitles", None)):
                setting = dataclasses.replace(setting, use_subtitle=False)  # only Video-MME has subtitles: no _subs
            dataset = named(dataset, setting)
    return with_limit(dataset, config.get("limit"))


def split_video_name(config: dict, name: str):
    """('MVBench', FrameSetting) for a video benchmark's name with its setting ('MVBench_8frame'), else None."""
    from .datasets.registry import REGISTERED
    from .video.benchmark import is_video
    from .video.settings import split_setting

    names = [n for n, i in REGISTERED.items() if is_video(i)]
    names += [n for n in config.get("custom_datasets") or {} if (i := _info_or_none(config, n)) and is_video(i)]
    return split_setting(split_limit(name)[0], names, video_llm=bool(config.get("video_llm", False)))


def all_pairs(config: dict) -> list[tuple[str, str]]:
    """(model, dataset as in file names, i.e. with its setting and limit) for every configured model x dataset."""
    return [(m, file_dataset_name(config, d)) for m in config.get("models") or [] for d in config.get("datasets") or []]


def _info_or_none(config: dict, dataset: str) -> DatasetInfo | None:
    name = split_limit(dataset)[0]
    try:
        return dataset_info(name, config.get("custom_datasets"))
    except InputError:
        pass
    video = split_video_name(config, name)
    try:  # a video benchmark named with its setting
        return dataset_info(video[0], config.get("custom_datasets")) if video else None
    except InputError:
        return None  # reported where the name is resolved for real


def configured_pairs(config: dict) -> list[tuple[str, str]]:
    """The configured pairs that get a score: all but benchmarks whose answers are withheld."""
    return [(m, d) for m, d in all_pairs(config) if not getattr(_info_or_none(config, d), "withheld", "")]


def withheld_pairs(config: dict) -> list[tuple[str, str]]:
    """Configured pairs of benchmarks whose answers are withheld: inference only (their prediction files)."""
    scored = set(configured_pairs(config))
    return [p for p in all_pairs(config) if p not in scored]


def pair_prediction_files(config: dict, model: str, dataset: str, suffix: str = ".xlsx") -> list[str]:
    """One pair's prediction files; a group's are its members' (it has none of its own)."""
    info = _info_or_none(config, dataset)
    names = [with_limit(x, split_limit(dataset)[1]) for x in info.members] if info and info.members else [dataset]
    return [f"results/{model}/{n}{suffix}" for n in names]


def prediction_files(config: dict) -> list[str]:
    """Every configured pair's prediction file; a group's are its members'."""
    return [f for m, d in all_pairs(config) for f in pair_prediction_files(config, m, d)]


@dataclass
class Plan:
    """Everything the Snakefile and the CLI resolve from one config."""

    config: dict
    models_file: dict
    basedir: Path
    models_path: Path | None = None   # where models_file was read from (named in errors)
    family_of: dict = dataclasses.field(default_factory=dict)   # named model -> its family (model_families.yaml)

    @property
    def data_root(self) -> str:
        """Shared by every work dir: data_root, else $LMUData, else ~/LMUData (store.py)."""
        from .store import data_root

        return data_root(self.config.get("data_root"))

    @property
    def model_store(self) -> str:
        """Shared by every work dir: model_store, else $VLMEVAL_STEPS_MODELS, else ~/.cache/vlmeval-steps/models."""
        from .store import model_store

        return model_store(self.config.get("model_store"))

    def model_names(self) -> list[str]:
        return sorted(set(self.models_file) | set(self.config.get("custom_models") or {}))

    def model(self, name: str) -> dict:
        inline = self.config.get("custom_models") or {}
        if name in inline:
            spec = inline[name]
        elif name in self.models_file:
            spec = self.models_file[name]
        else:
            raise InputError(unknown_model_message(name, self.model_names(), self.family_of))
        if not isinstance(spec, dict) or "class" not in spec:
            raise InputError(f"model {name!r}: its entry needs a 'class' (e.g. TransformersVLM, OpenAIAPI).")
        spec = sanitise_spec(name, spec)
        from .names_check import check_model_settings

        where = ("custom_models in the config" if name in inline else
                 f"config/model_families.yaml ({self.family_of[name]})" if name in self.family_of
                 else str(self.models_path or "the models file"))
        check_model_settings(name, spec, where, WORKFLOW_MODEL_KEYS)
        return spec

    def dataset_names(self) -> list[str]:
        from .datasets.registry import REGISTERED

        return sorted(set(REGISTERED) | set(self.config.get("custom_datasets") or {}))

    def dataset(self, name: str) -> DatasetInfo:
        video = split_video_name(self.config, name)  # MVBench_8frame: MVBench, sampled at 8 frames
        info = dataset_info(video[0] if video else split_limit(name)[0], self.config.get("custom_datasets"))
        if info.members:  # a group has no TSV of its own
            return info
        if info.upstream:  # an alias reads upstream's TSV (as the config resolves it: url and md5)
            target = self.dataset(info.upstream)
            return dataclasses.replace(info, url=target.url, md5=target.md5)
        return dataclasses.replace(info, url=self.absolute_url(info.url))

    def base_name(self, dataset: str) -> str:
        """The dataset whose TSV (and answer cache) a name in file names uses: MVBench_8frame_limit5 -> MVBench."""
        video = split_video_name(self.config, dataset)
        return video[0] if video else split_limit(dataset)[0]

    def prompt_id(self, model: str, dataset: str) -> str:
        """The prompt file a model x dataset reads: resources/prompts/{dataset}/{prompt_id}.jsonl."""
        from .datasets.doc_pages import prompt_id_with_layout
        from .prompts import prompt_id_for

        info, spec = self.dataset(dataset), self.model(model)
        # issue 11: multi-page documents lay pages out per kind of model (`{builder}__{layout}`)
        return prompt_id_with_layout(prompt_id_for(spec.get("prompt"), info.name, info.type), model, spec, info)

    def absolute_url(self, url: str) -> str:
        """Relative local paths are relative to the workflow's folder; they become file:// URLs."""
        if re.match(r"^[a-z][a-z0-9+.-]*://", url):
            return url
        path = Path(url)
        return (path if path.is_absolute() else (self.basedir / path)).resolve().as_uri()

    def judge(self, dataset: str) -> dict:
        """Judge settings for a dataset; `model: exact_matching` means rule-based extraction only."""
        judge = dict(self.config.get("judge") or {})
        video = split_video_name(self.config, dataset)  # MMBench-Video_8frame: MMBench-Video's settings
        per_dataset = (judge.pop("datasets", None) or {}).get(video[0] if video else split_limit(dataset)[0]) or {}
        judge.update(per_dataset)
        judge.setdefault("model", "exact_matching")
        if judge["model"] == "auto":  # opt-in: the judge upstream's run.py picks for this dataset
            from .judge.llm import upstream_default_judge

            info = self.dataset(dataset)
            judge["model"] = upstream_default_judge(info.name, info.type)
        return sanitise_spec("judge", judge)

    def targets(self) -> list[str]:
        return ([f"results/{m}/{d}_acc.csv" for m, d in configured_pairs(self.config)]
                + [f"results/{m}/{d}.xlsx" for m, d in withheld_pairs(self.config)])


def judge_name(judge: dict) -> str:
    """The judge as file names show it: its `name` if given (handy when `model` is a path), else `model`."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(judge.get("name") or judge["model"]))


def judge_settings(judge: dict) -> dict:
    return {k: v for k, v in judge.items() if k not in JUDGE_OPERATIONAL_KEYS and k not in SECRET_KEYS}


def unknown_model_message(name: str, known, family_of: dict) -> str:
    """The close known names first; then the models of the models file and config (the ~100 named families
    are left to `vlmeval-steps list models`, so the message stays readable)."""
    from .names_check import close

    matches = close(name, known)
    hint = f"; did you mean {' or '.join(repr(m) for m in matches)}?" if matches else "."
    own = [m for m in sorted(known) if m not in family_of]
    return (f"unknown model {name!r}{hint} Known models: {', '.join(own)}, and {len(known) - len(own)} named open "
            "VLMs (`vlmeval-steps list models` shows them all). Name one, or add it under custom_models in the "
            "config.")


def load_plan(config: dict, basedir: str | Path = ".") -> Plan:
    from . import model_families

    models_file = config.get("models_file") or DEFAULT_MODELS_FILE
    path = Path(models_file)
    if not path.is_absolute():
        path = Path(basedir) / path
    named, family_of = model_families.load()
    own = load_yaml(path)
    # an entry of the models file replaces a family's entry of the same name
    family_of = {m: f for m, f in family_of.items() if m not in own}
    plan = Plan(config=config, models_file={**named, **own}, basedir=Path(basedir).resolve(), models_path=path,
                family_of=family_of)
    return plan
