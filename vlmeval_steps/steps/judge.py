"""judge: extract each prediction's answer; rules first, an LLM judge only on the misses.

Writes one JSON line per row: {"index", "extracted", "log", "method", "decided_by"} with method
"rule" (matched by upstream's rules), "judge" (decided by the LLM judge) or "none" (no rule matched
and no LLM judge is configured: upstream's exact-matching outcome); `decided_by` also names the
judge's version, or the judge the run fell back from (`fallback_from` in the judge settings: run.py's
default judge did not answer when the run started).

An LLM judge (judge/llm.py) caches every reply under `cache_dir`, which lies outside Snakemake's
outputs, so rerunning or re-scoring asks nothing twice. If some judge requests still fail after
their retries, nothing is written and the job fails (a rerun asks just those again), unless
the judge settings say keep_failed: true. Token usage goes to `<out>.usage.json`.
"""
from __future__ import annotations

import collections
import json
import logging
from pathlib import Path

from ..datasets.registry import DatasetInfo, build_dataset
from ..errors import InputError
from ..fileio import atomic_write_text, write_jsonl
from ..predictions import read_predictions
from ..reasoning import DEFAULT_TAGS, answers_only

log = logging.getLogger(__name__)
EXACT_MATCHING = "exact_matching"


def build_judge(judge: dict, cache_dir: str | Path | None = None, writer: str = "judge"):
    """None for exact matching, else an LLMJudge over the configured OpenAI-compatible endpoint."""
    if judge.get("model", EXACT_MATCHING) == EXACT_MATCHING:
        return None
    if judge["model"] == "auto":
        raise InputError("judge model 'auto' must be resolved per dataset by the config (Plan.judge) first.")
    from ..judge.llm import LLMJudge

    return LLMJudge(judge, cache_dir=cache_dir, writer=writer)


def decided_by(method: str, judge_model, fallback: str | None) -> str:
    """Who settled a row: "rules", "judge <version>", or "none" (rules found nothing and no judge was
    asked), with the judge the run fell back from when upstream's default did not answer."""
    if method == "judge":
        return f"judge {judge_model.version}"
    who = "rules" if method == "rule" else "none"
    return f"{who} (fallback: {fallback} did not answer)" if fallback else who


def run(info: DatasetInfo, predictions: str | Path, judge: dict, out: str | Path,
        cache_dir: str | Path | None = None, reasoning_tags=DEFAULT_TAGS) -> dict:
    dataset = build_dataset(info)
    # the rules and the LLM judge read the answer, not a thinking model's trace before it (reasoning.py)
    data, traces = answers_only(read_predictions(predictions), reasoning_tags)
    if traces["rows_with_trace"]:
        log.info("%s: %d prediction(s) with a reasoning trace, taken off before extraction (%d cut off by the "
                 "token limit: failed)", info.name, traces["rows_with_trace"], traces["unterminated"])
    # one cache file per judged output, so parallel jobs sharing the folder never share a file
    writer = f"{Path(out).parent.name}.{Path(out).name.removesuffix('.jsonl')}"
    # answers withheld: no score follows, so no LLM judge is asked (the rules still feed a submission file)
    judge_model = None if info.withheld else build_judge(judge, cache_dir=cache_dir, writer=writer)
    fallback = judge.get("fallback_from")
    if judge_model is None and dataset.JUDGE_REQUIRED and fallback:
        raise InputError(f"{info.name} can only be scored by an LLM judge, and upstream's default judge {fallback} "
                         "did not answer when the run started (see the run's first lines), so it is not scored, as "
                         "upstream's run.py records an error for it. Set OPENAI_API_KEY, or OPENAI_API_BASE (and "
                         "LOCAL_LLM) for a local judge, or give --judge MODEL, and run again.")
    if judge_model is None and dataset.JUDGE_REQUIRED:
        raise InputError(f"{info.name} can only be scored by an LLM judge, and the config names none "
                         f"(judge.model is {EXACT_MATCHING}). Configure a judge; no score is written without one.")
    try:
        records = dataset.extract(data, judge=judge_model)
    finally:
        if judge_model is not None:
            judge_model.close()
    for record in records:
        record["decided_by"] = decided_by(record["method"], judge_model, fallback)
    methods = dict(collections.Counter(r["method"] for r in records))
    if judge_model is not None:
        _report_judge(judge_model, out, info.name)
    write_jsonl(out, records)
    log.info("%s: extracted %d answers with judge %s: %s", info.name, len(records), judge.get("model"), methods)
    return methods


def _report_judge(judge, out, dataset: str) -> None:
    stats = dict(judge.stats, judge=judge.name, version=judge.version)
    log.info("judge %s (%s) on %s: %d requests, %d replies from the cache, %d failed; tokens this run: %s; "
             "tokens behind all replies: %s", judge.name, judge.version, dataset, stats["asked"], stats["cached"],
             stats["failed"], judge.usage_run or "-", judge.usage_all or "-")
    if stats["skipped_failed_predictions"]:
        log.warning("%d judge prompt(s) held a prediction that failed at inference; they were not sent",
                    stats["skipped_failed_predictions"])
    if judge.usage_all or stats["asked"]:
        atomic_write_text(Path(str(out) + ".usage.json"), json.dumps(
            dict(stats, usage_this_run=judge.usage_run, usage_answers=judge.usage_all), indent=2, sort_keys=True)
            + "\n")
    if (stats["failed"] or stats["not_sent"]) and not judge.keep_failed:
        not_sent = f" ({stats['not_sent']} more were not sent after that)" if stats["not_sent"] else ""
        raise InputError(f"judge {judge.name} ({judge.version}) failed {stats['failed']} request(s) on {dataset} "
                         f"after all retries{not_sent}: {judge.broken or 'see the log above'}. Nothing was written; "
                         "the replies that arrived are cached, so running again asks only the rest. Or set "
                         "keep_failed: true in the judge settings to accept failures (scored as upstream scores a "
                         "failed judgement).")
