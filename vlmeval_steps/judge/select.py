"""The judge `vlmeval-steps run` uses for each benchmark when neither --judge nor the config names one:
upstream's run.py choice.

run.py (e8e78f05, `get_judge_kwargs`) gives each dataset a default judge (gpt-4o-mini for MCQ and
Y/N, gpt-4-turbo for MMVet, rules only for plain VQA, ...). The dataset's `evaluate` builds that
judge and, when it does not answer its `working()` probe, falls back to exact matching while the
result files keep the judge's name (`_gpt-4o-mini_result.xlsx`). Here the probe runs once per
judge before any job starts, and each benchmark's choice is said in one line with its reason.

A judge is worth probing when it has somewhere to go, as upstream's wrapper reads it: an api_base
(`--judge-args`, else $OPENAI_API_BASE, served as $LOCAL_LLM when set) or a key for the official
endpoint ($OPENAI_API_KEY). With neither, the run is rules only and sends nothing.
"""
from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass, field

from ..datasets.registry import CLASSES
from .llm import EXACT_MATCHING, resolve_version, upstream_default_judge

PROBE = "hello"          # upstream's working() asks the same
PROBE_TIMEOUT = 60.0
CHOOSE = "--judge exact_matching (rules only) or --judge MODEL"


@dataclass
class Probe:
    ok: bool
    why: str


@dataclass
class Choice:
    dataset: str
    intended: str                      # upstream's default judge for it
    spec: dict = field(default_factory=dict)   # the judge settings the run uses for it
    line: str = ""


def _show_base(base: str) -> str:
    """An endpoint as it may be printed: without any user:password part."""
    parts = urllib.parse.urlsplit(base)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def endpoint_of(settings: dict) -> tuple[str | None, str | None]:
    """(api_base or None for the official endpoint, what makes it usable), or (None, None) when the
    judge has nowhere to go: no api_base, no OPENAI_API_BASE and no key."""
    base = settings.get("api_base") or os.environ.get("OPENAI_API_BASE", "").strip()
    if base and base.upper() != "OFFICIAL":
        source = "api_base in the judge settings" if settings.get("api_base") else "OPENAI_API_BASE is set"
        return base, source
    key_env = settings.get("key_env") or "OPENAI_API_KEY"
    if settings.get("key_file") or os.environ.get(key_env, "").strip():
        return None, f"{key_env} is set" if not settings.get("key_file") else "key_file is given"
    return None, None


def probe(model: str, settings: dict) -> Probe:
    """One request, as upstream's `working()`: does the judge answer at all?"""
    from ..models.openai_api import OpenAIAPI, normalise_base

    version = resolve_version(model)
    client = {k: settings[k] for k in ("api_base", "key_env", "key_file") if settings.get(k)}
    where = _show_base(normalise_base(client.get("api_base")))
    try:
        api = OpenAIAPI(model=version, retry=2, wait=0.5, max_tokens=16,
                        timeout=min(float(settings.get("timeout", PROBE_TIMEOUT)), PROBE_TIMEOUT), **client)
        answer, ok, info = api.generate([dict(type="text", value=PROBE)])
    except Exception as exc:  # any failure to answer means: not usable; the reason is shown
        return Probe(False, f"{where} did not answer as {version} ({type(exc).__name__}: {exc})")
    if not ok:
        error = info.get("error", info) if isinstance(info, dict) else info
        return Probe(False, f"{where} did not answer as {version} ({str(error)[:200]})")
    local = " (LOCAL_LLM)" if os.environ.get("LOCAL_LLM", "").strip() else ""
    return Probe(True, f"{where} answered as {version}{local}")


def needs_judge(info) -> bool:
    return bool(getattr(CLASSES.get(info.cls), "JUDGE_REQUIRED", False))


def choose(infos: list, settings: dict, prober=probe) -> list[Choice]:
    """Each dataset's judge as run.py picks it; every distinct judge is probed once."""
    base, source = endpoint_of(settings)
    probes: dict[str, Probe] = {}
    choices = []
    for info in infos:
        intended = upstream_default_judge(info.name, info.type)
        choice = Choice(info.name, intended)
        if intended == EXACT_MATCHING:
            choice.spec = {"model": EXACT_MATCHING}
            choice.line = (f"judge for {info.name}: rules only, as upstream scores {info.type} benchmarks. "
                           "Otherwise: --judge MODEL.")
            choices.append(choice)
            continue
        if source is None:
            result = Probe(False, "neither OPENAI_API_KEY nor OPENAI_API_BASE is set")
        else:
            version = resolve_version(intended)
            if version not in probes:
                probes[version] = prober(intended, settings)
            result = probes[version]
            result = Probe(result.ok, f"{source}; {result.why}" if result.ok else result.why)
        if result.ok:
            choice.spec = {"model": intended}
            choice.line = (f"judge for {info.name}: {intended}, upstream's default ({result.why}). "
                           f"Otherwise: {CHOOSE}.")
        else:
            # upstream names the files after the judge it meant to use, also when it fell back
            choice.spec = {"model": EXACT_MATCHING, "name": intended, "fallback_from": intended}
            what = ("none, so it is not scored" if needs_judge(info)
                    else f"rules only, files named _{intended}_ as upstream names them")
            choice.line = (f"judge for {info.name}: {what}; upstream's default {intended} is not reachable "
                           f"({result.why}). Otherwise: set OPENAI_API_KEY, or OPENAI_API_BASE (+ LOCAL_LLM), "
                           f"or {CHOOSE}.")
        choices.append(choice)
    return choices
