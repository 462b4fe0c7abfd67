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
from ..errors import FAIL_MSG, InputError
from ..fileio import atomic_write_text, read_jsonl, replacing
from ..predictions import read_predictions, write_xlsx
from ..reasoning import DEFAULT_TAGS, answers_only
from ..scoring.common import rows_without_answer
from ..scoring.submission import withheld_message, write_submission
from ..provenance import record as environment_record

log = logging.getLogger(__name__)


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8", quoting=csv.QUOTE_ALL)


def extra_name(stem: str, suffix: str, judge_name: str) -> str:
    """`{stem}_{suffix}`, `{judge}` in the suffix filled in; .csv unless the suffix names .json or .xlsx."""
    name = f"{stem}_{suffix.format(judge=judge_name)}"
    return name if name.endswith((".json", ".xlsx", ".csv")) else name + ".csv"


def write_extra(table, path: Path) -> None:
    """A table beside the main one, under upstream's name (e.g. `_score.csv`, `_score.json`)."""
    if path.suffix == ".json":
        value = table.to_dict("records") if isinstance(table, pd.DataFrame) else table
        atomic_write_text(path, json.dumps(value, indent=4, ensure_ascii=False, default=_plain) + "\n")
    elif path.suffix == ".xlsx":
        write_xlsx(table, path)
    else:
        write_table(table, path)


def _plain(value):
    return value.item() if hasattr(value, "item") else str(value)


def require_columns(data: pd.DataFrame, columns, dataset_name: str, path) -> None:
    """The columns a benchmark's scoring needs (its class's SCORE_COLUMNS), named when missing."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise InputError(f"{path}: {dataset_name} is scored from column(s) {missing}, which this prediction file "
                         f"lacks (it has {list(data.columns)}). Use the benchmark's full TSV, whose columns the "
                         "merge stage carries into the prediction file.")


def token_usage(paths: list[str]) -> dict:
    """Tokens behind the scored answers, summed from the infer and judge jobs' usage files."""
    total: dict = {}
    for path in paths:
        try:
            rec = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a local model or exact matching writes none
        stage = "judge" if "/judged/" in Path(path).as_posix() else "infer"
        for k, v in (rec.get("usage_answers") or {}).items():
            total.setdefault(stage, {})[k] = total.get(stage, {}).get(k, 0) + int(v or 0)
    return total


def _stem(out: Path) -> str:
    return out.name[: -len("_acc.csv")] if out.name.endswith("_acc.csv") else out.stem


def answers_from_other_datasets(paths: list[str]) -> int:
    """Answers the infer jobs took from the same model's run on another dataset (same question)."""
    total = 0
    for path in paths:
        if "/judged/" in Path(path).as_posix():
            continue
        try:
            total += int(json.loads(Path(path).read_text(encoding="utf-8")).get("borrowed") or 0)
        except (OSError, ValueError, TypeError):
            continue
    return total


def write_outcomes(info: DatasetInfo, tables: dict, ext: pd.DataFrame, out: Path) -> None:
    """`{dataset}_rows.csv` and `_rows.json` beside the main table: what intervals and comparisons resample."""
    from ..stats import outcomes as outcome_files

    rows_csv, spec_json = outcome_files.paths(out)
    try:
        found = build_dataset(info).outcomes(tables)
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        # the score stands without them; the summary shows this cell without an interval
        log.error("%s: per-row outcomes not written (%s: %s); the score is unaffected", info.name,
                  type(exc).__name__, exc)
        found = None
    if found is None:  # a family without per-row outcomes yet: no intervals, and no stale files either
        rows_csv.unlink(missing_ok=True)
        spec_json.unlink(missing_ok=True)
        return
    if "method" in ext and "index" in ext:  # how each answer was extracted: rule, judge or none (unparsed)
        method = dict(zip(ext["index"].astype(str), ext["method"].astype(str)))
        found.rows["method"] = [method.get(i, "") for i in found.rows["index"]]
    outcome_files.write(found, rows_csv, spec_json)


def run(info: DatasetInfo, predictions: str | Path, extracted: str | Path, out: str | Path,
        provenance_out: str | Path | None = None, judge_name: str = "exact_matching",
        provenance: dict | None = None, reasoning_tags=DEFAULT_TAGS) -> pd.DataFrame:
    dataset = build_dataset(info)
    # scored on the answer after a thinking model's trace; the per-row files get the trace as `thinking`
    data, traces = answers_only(read_predictions(predictions), reasoning_tags)
    require_columns(data, getattr(dataset, "SCORE_COLUMNS", ()), info.name, predictions)
    ext = pd.DataFrame(list(read_jsonl(extracted)))
    out = Path(out)
    # answers withheld / an official server's file: scoring/submission.py
    submission = write_submission(info, data, ext, out.with_name(_stem(out)), judge_name)
    if info.withheld:
        raise InputError(withheld_message(info, submission))
    tables = dataset.score(data, ext)
    write_table(tables["acc"], out)
    stem = _stem(out)
    for suffix, table in tables.items():
        if suffix == "result":
            write_xlsx(table, out.with_name(f"{stem}_{judge_name}_result.xlsx"))
        elif suffix != "acc":
            write_extra(table, out.with_name(extra_name(stem, suffix, judge_name)))
    write_outcomes(info, tables, ext, out)
    if provenance_out:
        failed = int(sum(FAIL_MSG in p for p in data["prediction"]))
        provenance = dict(provenance or {})
        usage_files = provenance.pop("usage_files", None) or []
        usage = token_usage(usage_files)
        if usage:
            provenance["token_usage"] = usage
        provenance["answers_from_other_datasets"] = answers_from_other_datasets(usage_files)
        record = dict(provenance, dataset=info.name, dataset_type=info.type, dataset_md5=info.md5,
                      judge=judge_name, rows=len(data), failed_predictions=failed,
                      reasoning_traces=dict(traces, tags=list(reasoning_tags or ())),
                      rows_without_answer=len(rows_without_answer(data)),
                      extraction=dict(collections.Counter(ext["method"])) if "method" in ext else {},
                      # who settled each row: rules, the judge (its version), or rules after a fallback
                      decided_by=dict(collections.Counter(ext["decided_by"])) if "decided_by" in ext else {},
                      package_version=__version__,
                      **environment_record(provenance.get("model_settings"), predictions=predictions,
                                           extracted=extracted, scores=out),
                      scored_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
        atomic_write_text(provenance_out, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    log.info("%s scored: %s", info.name, tables["acc"].to_dict("records"))
    return tables["acc"]
