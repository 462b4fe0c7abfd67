"""score: the metric table upstream writes for the dataset, plus provenance.

The main table goes to `<out>` (`results/{model}/{dataset}_acc.csv`); upstream's per-row
result table goes beside it as `{dataset}_{judge}_result.xlsx`, and a JSON record of what
produced the score as `{dataset}_provenance.json`.
"""
from __future__ import annotations

import collections
import csv
import datetime
import json
import logging
from pathlib import Path

import pandas as pd

from .. import __version__
from ..datasets.registry import DatasetInfo, build_dataset
from ..fileio import atomic_write_text, read_jsonl
from ..judge.matching import FAIL_MSG
from ..predictions import read_predictions, write_xlsx

log = logging.getLogger(__name__)


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    df.to_csv(tmp, index=False, encoding="utf-8", quoting=csv.QUOTE_ALL)
    tmp.replace(path)


def run(info: DatasetInfo, predictions: str | Path, extracted: str | Path, out: str | Path,
        provenance_out: str | Path | None = None, judge_name: str = "exact_matching",
        provenance: dict | None = None) -> pd.DataFrame:
    dataset = build_dataset(info)
    data = read_predictions(predictions)
    ext = pd.DataFrame(list(read_jsonl(extracted)))
    tables = dataset.score(data, ext)
    out = Path(out)
    write_table(tables["acc"], out)
    stem = out.name[: -len("_acc.csv")] if out.name.endswith("_acc.csv") else out.stem
    for suffix, table in tables.items():
        if suffix == "result":
            write_xlsx(table, out.with_name(f"{stem}_{judge_name}_result.xlsx"))
        elif suffix != "acc":
            write_table(table, out.with_name(f"{stem}_{suffix}.csv"))
    if provenance_out:
        failed = int(sum(FAIL_MSG in p for p in data["prediction"]))
        record = dict(provenance or {}, dataset=info.name, dataset_type=info.type, dataset_md5=info.md5,
                      judge=judge_name, rows=len(data), failed_predictions=failed,
                      extraction=dict(collections.Counter(ext["method"])) if "method" in ext else {},
                      package_version=__version__,
                      scored_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
        atomic_write_text(provenance_out, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    log.info("%s scored: %s", info.name, tables["acc"].to_dict("records"))
    return tables["acc"]
