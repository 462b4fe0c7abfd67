"""merge: join a dataset's shard predictions into upstream's prediction file (xlsx) and a TSV.

Columns are the TSV's (minus `image`) plus `prediction`, in the TSV's row order; every
prompted index must have an answer.
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..datasets.tsv import read_meta
from ..errors import InputError
from ..fileio import read_jsonl
from ..predictions import write_tsv, write_xlsx

log = logging.getLogger(__name__)


def run(tsv: str | Path, prompts_path: str | Path, shards: list[str], out_xlsx: str | Path,
        out_tsv: str | Path) -> dict:
    order = [str(r["index"]) for r in read_jsonl(prompts_path)]
    answers = {}
    for shard in shards:
        for rec in read_jsonl(shard):
            answers[str(rec["index"])] = rec
    missing = [i for i in order if i not in answers]
    if missing:
        raise InputError(f"no prediction for {len(missing)} indices (e.g. {missing[:5]}) in {list(shards)}; "
                         "rerun infer for this model and dataset.")
    meta = read_meta(tsv)
    meta = meta[meta["index"].astype(str).isin(set(order))].reset_index(drop=True)
    keys = meta["index"].astype(str)
    meta["prediction"] = [str(answers[k]["prediction"]) for k in keys]
    if "image_path" in meta:  # a page list (multi-page documents) is written as the TSV spells it
        meta["image_path"] = [str(v) if isinstance(v, list) else v for v in meta["image_path"]]
    failed = sum(not answers[k].get("ok", True) for k in keys)
    write_tsv(meta, out_tsv)
    write_xlsx(meta, out_xlsx)
    log.info("merged %d predictions (%d failed) into %s and %s", len(meta), failed, out_xlsx, out_tsv)
    return dict(rows=len(meta), failed=failed)
