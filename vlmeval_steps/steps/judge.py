"""judge: extract each prediction's answer; rules first, an LLM judge only on the misses.

Writes one JSON line per row: {"index", "extracted", "log", "method"} with method "rule"
(matched by upstream's rules), "judge" (decided by the LLM judge) or "none" (no rule matched
and no LLM judge is configured: upstream's exact-matching outcome).
"""
from __future__ import annotations

import collections
import logging
from pathlib import Path

from ..datasets.registry import DatasetInfo, build_dataset
from ..errors import InputError
from ..fileio import write_jsonl
from ..predictions import read_predictions

log = logging.getLogger(__name__)
EXACT_MATCHING = "exact_matching"


def build_judge(judge: dict):
    if judge.get("model", EXACT_MATCHING) == EXACT_MATCHING:
        return None
    raise InputError(f"judge model {judge['model']!r}: LLM judges are not available in this build; "
                     f"use judge: {{model: {EXACT_MATCHING}}}.")


def run(info: DatasetInfo, predictions: str | Path, judge: dict, out: str | Path) -> dict:
    dataset = build_dataset(info)
    data = read_predictions(predictions)
    judge_model = build_judge(judge)
    if judge_model is None and dataset.JUDGE_REQUIRED:
        raise InputError(f"{info.name} can only be scored by an LLM judge, and the config names none "
                         f"(judge.model is {EXACT_MATCHING}). Configure a judge; no score is written without one.")
    records = dataset.extract(data, judge=judge_model)
    write_jsonl(out, records)
    methods = dict(collections.Counter(r["method"] for r in records))
    log.info("%s: extracted %d answers with judge %s: %s", info.name, len(records), judge.get("model"), methods)
    return methods
