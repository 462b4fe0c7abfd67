"""score-group: a group of benchmarks (upstream's ConcatDataset: MMMB, MTL_MMBench_DEV) from its members.

Upstream concatenates the members' rows, infers once, splits the predictions back by member and
evaluates each member alone; its `_acc.csv` is the members' tables stacked, with a DATASET column.
Here each member is inferred and scored as its own benchmark (the same prompts, the same per-member
files upstream writes), and this step stacks their tables.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from .. import __version__
from ..names import split_limit
from ..errors import InputError
from ..fileio import atomic_write_text
from .score import write_table

log = logging.getLogger(__name__)


def run(info, members: list[str], tables: list[str | Path], out: str | Path,
        provenances: list[str | Path] = (), provenance_out: str | Path | None = None) -> pd.DataFrame:
    if len(members) != len(tables):
        raise InputError(f"{info.name}: {len(members)} members but {len(tables)} score tables.")
    frames = []
    for name, path in zip(members, tables):
        table = pd.read_csv(path)
        table["DATASET"] = split_limit(name)[0]  # the member's name, as upstream writes it
        frames.append(table)
    result = pd.concat(frames, ignore_index=True)
    write_table(result, out)
    if provenance_out:
        member_prov = {m: _load(p) for m, p in zip(members, provenances)}
        record = dict(dataset=info.name, dataset_type=info.type, members=list(members), package_version=__version__,
                      limit=split_limit(members[0])[1] if members else None, member_provenance=member_prov)
        # what every member shares (model, judge, prompt builder, ...) is the group's, for the summary
        shared = [p for p in member_prov.values() if isinstance(p, dict)]
        for key in ("model", "model_settings", "prompt_id", "judge", "judge_settings"):
            values = {json.dumps(p.get(key), sort_keys=True, default=str) for p in shared}
            if shared and len(values) == 1:
                record[key] = shared[0].get(key)
        record["failed_predictions"] = sum(int(p.get("failed_predictions") or 0) for p in shared)
        record["rows"] = sum(int(p.get("rows") or 0) for p in shared)
        atomic_write_text(provenance_out, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    log.info("%s: stacked the tables of %s", info.name, ", ".join(members))
    return result


def _load(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
