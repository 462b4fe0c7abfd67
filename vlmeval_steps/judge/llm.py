"""An LLM judge over any OpenAI-compatible endpoint, with every reply cached durably.

Settings come from the config's `judge:` block:

    judge:
      model: gpt-4o-mini           # a name; upstream's aliases resolve to a version (below)
      api_base: http://127.0.0.1:8000/v1   # default: $OPENAI_API_BASE, else OpenAI
      key_env: OPENAI_API_KEY      # the variable holding the key (or key_file: path)
      nproc: 8                     # requests in flight
      temperature: 0               # default for prompts that do not set their own
      max_tokens: 2048

As upstream, $LOCAL_LLM, when set, is the model version sent for every judge name: serve a
local model, set OPENAI_API_BASE and LOCAL_LLM, and every judge request goes there.

Each reply is cached under a key of the judge's identity (its result-deciding settings and the
resolved version), the prompt, the temperature, the token limit and the attempt number, in a
folder outside Snakemake's outputs (work/cache/judge/{judge}/{dataset}/). A rerun or a re-score
makes no request that was answered before; a failed request is asked again next time.

Requests take the same path as an API model's (models/openai_api.py): upstream's request bytes,
coroutines on the process's one event loop, a thin HTTP/1.1 client; the row threads of
judge/parallel.py only wait for their replies.
"""
from __future__ import annotations

import logging
import os
import threading

from ..cache import AnswerCache
from ..config import judge_name, judge_settings
from ..errors import DiskFullError
from ..fileio import sha256_json
from .matching import FAIL_MSG

log = logging.getLogger(__name__)

EXACT_MATCHING = "exact_matching"
# upstream's judge names -> model versions (vlmeval/dataset/utils/judge_util.py)
JUDGE_ALIASES = {
    "gpt-4-turbo": "gpt-4-1106-preview",
    "gpt-4-0613": "gpt-4-0613",
    "gpt-4-0125": "gpt-4-0125-preview",
    "gpt-4-0409": "gpt-4-turbo-2024-04-09",
    "chatgpt-1106": "gpt-3.5-turbo-1106",
    "chatgpt-0125": "gpt-3.5-turbo-0125",
    "gpt-4o": "gpt-4o-2024-05-13",
    "gpt-4o-0806": "gpt-4o-2024-08-06",
    "gpt-4o-1120": "gpt-4o-2024-11-20",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "qwen-7b": "Qwen/Qwen2.5-7B-Instruct",
    "qwen-72b": "Qwen/Qwen2.5-72B-Instruct",
    "deepseek": "deepseek-ai/DeepSeek-V3",
    "llama31-8b": "meta-llama/Llama-3.1-8B-Instruct",
}
# judge keys that configure the client or the stage rather than go into the request body
CLIENT_KEYS = ("api_base", "key_env", "key_file", "temperature", "max_tokens", "timeout", "retry", "wait",
               "verbose", "system_prompt")
STAGE_KEYS = ("model", "name", "nproc", "keep_failed")


def resolve_version(model: str) -> str:
    """The model id sent to the server: $LOCAL_LLM if set (upstream), else the alias's version."""
    local = os.environ.get("LOCAL_LLM", "").strip()
    if local:
        return local
    return JUDGE_ALIASES.get(model, model)


def judge_identity(judge: dict) -> dict:
    """What decides a judge's replies: its settings (no keys, no operational knobs) and, for an
    LLM judge, the resolved version, so a changed LOCAL_LLM reruns the judge stage."""
    settings = judge_settings(judge)
    if judge.get("model", EXACT_MATCHING) != EXACT_MATCHING:
        settings["version"] = resolve_version(str(judge["model"]))
    return settings


def upstream_default_judge(dataset: str, dataset_type: str) -> str:
    """The judge upstream's run.py picks for a dataset when --judge is not given (HEAD, §5.5).
    Used only when the config opts in with `judge: {model: auto}`."""
    name = dataset.lower()
    if any(k in name for k in ("visualpuzzles", "puzzlevqa", "visulogic")):
        return EXACT_MATCHING
    if dataset_type in ("MCQ", "Y/N", "MCQ_MMMU_Pro") or "moviechat1k" in name or "mme-reasoning" in name:
        return "gpt-4o-mini"
    if "llavabench_ko" in name:
        return "gpt-4o-0806"
    if any(k in name for k in ("mmvet", "llavabench", "mmbench_video", "mmbench-video")):
        return "gpt-4-turbo"
    if any(k in name for k in ("mathvista", "mathverse", "mathvision", "lens", "dynamath", "logicvista")):
        return "gpt-4o-mini"
    if any(k in name for k in ("mmlongbench", "mmdu", "dude", "slidevqa", "mia-bench", "wildvision")):
        return "gpt-4o"
    if "video-mme" in name:
        return "gpt-4o-mini"
    if "mvbench" in name:  # run.py names none; MVBench's evaluate then defaults to chatgpt-0125
        return "chatgpt-0125"
    return EXACT_MATCHING


def _add(total: dict, usage: dict | None) -> None:
    for k, v in (usage or {}).items():
        total[k] = total.get(k, 0) + int(v or 0)


class LLMJudge:
    """The judge interface of judge/__init__.py: `name`, `nproc`, `ask(prompt, ...)`."""

    def __init__(self, judge: dict, cache_dir=None, writer: str = "judge"):
        from ..models.openai_api import OpenAIAPI

        judge = dict(judge)
        self.name = judge_name(judge)
        self.version = resolve_version(str(judge["model"]))
        self.identity = judge_identity(judge)
        self.nproc = max(1, int(judge.get("nproc", 8)))
        self.keep_failed = bool(judge.get("keep_failed", False))
        self.temperature = float(judge.get("temperature", 0))
        self.max_tokens = judge.get("max_tokens", 2048)
        if os.environ.get("LOCAL_LLM", "").strip() and self.version != JUDGE_ALIASES.get(judge["model"], judge["model"]):
            log.warning("LOCAL_LLM is set: judge %r is served as %r", judge["model"], self.version)
        client = {k: judge[k] for k in CLIENT_KEYS if k in judge}
        extra = {k: v for k, v in judge.items() if k not in CLIENT_KEYS and k not in STAGE_KEYS}
        client.setdefault("retry", 5)
        self.client = OpenAIAPI(model=self.version, **client, **extra)
        self.cache = AnswerCache(cache_dir, writer=writer) if cache_dir else None
        self._memory: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._inflight: dict[str, threading.Lock] = {}
        self.broken: str | None = None  # why the judge stopped asking (the endpoint failed)
        self.disk_full: DiskFullError | None = None  # replies can no longer be cached: ask nothing more
        # not_sent: asks answered None without a request because the judge had already failed
        self.stats = dict(asked=0, cached=0, failed=0, not_sent=0, skipped_failed_predictions=0)
        self.usage_run: dict = {}
        self.usage_all: dict = {}

    # ----- cache ----------------------------------------------------------------------------
    def _get(self, key: str) -> dict | None:
        if self.cache is not None:
            return self.cache.get(key)
        return self._memory.get(key)

    def _put(self, record: dict) -> None:
        with self._lock:  # AnswerCache appends are not thread-safe
            if self.disk_full:
                raise self.disk_full
            if self.cache is not None:
                try:
                    self.cache.put(record)
                except DiskFullError as exc:
                    self.disk_full = exc
                    raise
            else:
                self._memory[record["key"]] = record

    def key(self, prompt: str, temperature: float, max_tokens, attempt: int) -> str:
        return sha256_json(dict(judge=self.identity, prompt=prompt, temperature=temperature, max_tokens=max_tokens,
                                attempt=attempt))

    # ----- the interface ------------------------------------------------------------------
    def ask(self, prompt: str, temperature: float | None = None, max_tokens: int | None = None,
            attempt: int = 0) -> str | None:
        """The judge's reply, or None when it failed after its retries.

        `attempt` numbers repeated asks of one prompt (upstream retries the same prompt): each
        attempt is a request of its own, cached under its own key, so a replay is identical."""
        if FAIL_MSG in prompt:  # a prediction that failed at inference is never judged
            with self._lock:
                self.stats["skipped_failed_predictions"] += 1
            return None
        temperature = self.temperature if temperature is None else float(temperature)
        max_tokens = self.max_tokens if max_tokens is None else max_tokens
        key = self.key(prompt, temperature, max_tokens, attempt)
        with self._lock:
            gate = self._inflight.setdefault(key, threading.Lock())
        with gate:  # the same prompt asked by two rows at once is sent once
            rec = self._get(key)
            if rec is not None and rec.get("ok"):
                with self._lock:
                    self.stats["cached"] += 1
                    _add(self.usage_all, rec.get("usage"))
                return rec["prediction"]
            if self.disk_full:  # a reply that could not be cached would be paid for again next run
                raise self.disk_full
            if self.broken:
                with self._lock:
                    self.stats["not_sent"] += 1
                return None
            answer, ok, info = self.client.generate([dict(type="text", value=prompt)], temperature=temperature,
                                                    max_tokens=max_tokens)
            usage = info.get("usage") if isinstance(info, dict) else None
            record = dict(key=key, ok=ok, prediction=answer if ok else None, model=self.version)
            if usage:
                record["usage"] = usage
            if not ok:
                record["error"] = str(info.get("error", info) if isinstance(info, dict) else info)[:500]
            self._put(record)
            with self._lock:
                self.stats["asked"] += 1
                _add(self.usage_run, usage)
                _add(self.usage_all, usage)
                if not ok:
                    self.stats["failed"] += 1
                    if not self.keep_failed and not self.broken:
                        # the stage fails anyway; stop sending requests to an endpoint that fails
                        self.broken = record["error"]
                        log.error("judge %s (%s) failed after all retries: %s", self.name, self.version,
                                  record["error"])
            return answer if ok else None

    def close(self) -> None:
        self.client.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
