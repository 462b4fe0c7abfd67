"""Before any job runs (or is submitted to SLURM): every API model and LLM judge that has work to do has a key,
and its endpoint does not refuse that key.

A missing key for OpenAI's endpoint is found without a request. A refused key costs one GET of
the endpoint's model list (free, answers in milliseconds; OpenAI, vLLM, LMDeploy, Ollama and
transformers serve all serve it): HTTP 401 or 403 stops the run with the model's name and the
variable or file the key came from, never the key. An endpoint that cannot be reached, or that
has no model list, is left to the jobs, which retry (a server may come up after planning).
"""
from __future__ import annotations

import logging

from .errors import InputError

log = logging.getLogger(__name__)

OPENAI_CLASSES = ("OpenAIAPI", "GPT4V", "CustomAPIModel")  # adapters whose key and endpoint we know how to read
TIMEOUT = 10


def _source(settings: dict) -> str:
    if settings.get("key"):
        return "the key given in the config"
    if settings.get("key_file"):
        return f"key_file {settings['key_file']!r}"
    return f"the environment variable {settings.get('key_env') or 'OPENAI_API_KEY'}"


def endpoint_of(settings: dict, who: str) -> tuple[str, str]:
    """(base URL, key) as the adapter will use them; InputError when the key is missing."""
    from .models.openai_api import normalise_base, resolve_key

    base = normalise_base(settings.get("api_base"))
    key = resolve_key(settings.get("key_env"), settings.get("key_file"), base, who, settings.get("key"))
    return base, key


def probe(base: str, key: str, who: str, source: str) -> None:
    """GET {base}/models with the key: InputError on 401/403, nothing otherwise."""
    import requests

    try:
        r = requests.get(f"{base}/models", headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT)
    except requests.RequestException as exc:
        log.info("%s: %s not reachable at plan time (%s); the jobs will retry", who, base, type(exc).__name__)
        return
    if r.status_code in (401, 403):
        raise InputError(f"{who}: {base} refused the key from {source} (HTTP {r.status_code}). Nothing was run: "
                         "set the right key (key_env / key_file in the model's or judge's entry) and run again.")


def check(plan, models, datasets, network: bool = True) -> None:
    """Check the endpoints of `models` (names) and of the LLM judges of `datasets` (names, limit suffix allowed)."""
    from .judge.llm import EXACT_MATCHING, resolve_version

    seen = set()
    todo = []
    for name in sorted(set(models)):
        spec = plan.model(name)
        if spec.get("class") in OPENAI_CLASSES:
            todo.append((f"model {name!r}", spec))
    for dataset in sorted(set(datasets)):
        judge = plan.judge(dataset)
        if judge.get("model", EXACT_MATCHING) != EXACT_MATCHING:
            todo.append((f"judge {resolve_version(str(judge['model']))!r} (for {dataset})", judge))
    for who, settings in todo:
        base, key = endpoint_of(settings, who)
        if network and (base, key) not in seen:
            seen.add((base, key))
            probe(base, key, who, _source(settings))
