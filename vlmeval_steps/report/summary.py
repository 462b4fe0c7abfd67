"""The leaderboard: one row per model, one column per benchmark's headline score, and where each came from.

Reads `results/{model}/{dataset}_acc.csv` and `{dataset}_provenance.json` (written by the score
stage) and writes:
  summary.csv             model x benchmark, in each benchmark's leaderboard unit
  summary.md              the same table for people, with each benchmark's metric and provenance
  summary_provenance.csv  one line per cell: score, metric, dataset md5, judge, prompt id, limit, ...
"""
from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import split_limit
from ..errors import InputError
from ..fileio import atomic_write_text
from .metrics import Score, main_score

log = logging.getLogger(__name__)

PROVENANCE_FIELDS = ("dataset_md5", "judge", "prompt_id", "limit", "rows", "failed_predictions", "package_version",
                     "scored_at")


@dataclass
class Cell:
    model: str
    dataset: str            # as in the file names: DemoShapes, or DemoShapes_limit20
    dataset_type: str | None
    score: Score
    provenance: dict
    acc_path: Path

    @property
    def value(self) -> float | None:
        return self.score.value


def read_acc(path: Path) -> pd.DataFrame:
    # every cell as text: a split called "none" must not become NaN; numbers are parsed where used
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_cell(results: Path, model: str, dataset: str) -> Cell:
    acc = results / model / f"{dataset}_acc.csv"
    prov_path = results / model / f"{dataset}_provenance.json"
    if not acc.exists():
        raise InputError(f"{acc}: no score table; run the score stage for {model} on {dataset} first.")
    provenance = {}
    if prov_path.exists():
        try:
            provenance = json.loads(prov_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{prov_path}: not valid JSON ({exc}).") from None
    else:
        log.warning("%s: missing; the summary shows this cell without provenance", prov_path)
    base, limit = split_limit(dataset)
    provenance.setdefault("limit", limit)
    dataset_type = provenance.get("dataset_type")
    score = main_score(read_acc(acc), provenance.get("dataset") or base, dataset_type)
    if score.value is None:
        log.warning("%s: %s", acc, score.note)
    return Cell(model, dataset, dataset_type, score, provenance, acc)


def find_pairs(results: Path) -> list[tuple[str, str]]:
    """Every (model, dataset) with a score table under `results`, for a summary of whatever is there."""
    suffix = "_acc.csv"
    return sorted((p.parent.name, p.name[: -len(suffix)]) for p in results.glob(f"*/*{suffix}"))


def collect(results: str | Path, pairs: list[tuple[str, str]] | None = None) -> list[Cell]:
    results = Path(results)
    pairs = find_pairs(results) if pairs is None else pairs
    if not pairs:
        raise InputError(f"{results}: no results/{{model}}/{{dataset}}_acc.csv to summarise.")
    return [read_cell(results, m, d) for m, d in pairs]


def _order(values) -> list:
    return list(dict.fromkeys(values))


def wide(cells: list[Cell]) -> pd.DataFrame:
    """Models as rows, benchmarks as columns, in the order the pairs were given."""
    models, datasets = _order(c.model for c in cells), _order(c.dataset for c in cells)
    table = pd.DataFrame(index=pd.Index(models, name="model"), columns=datasets, dtype=float)
    for c in cells:
        table.loc[c.model, c.dataset] = c.value
    return table


def _fmt(value, digits=2) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def provenance_rows(cells: list[Cell]) -> list[dict]:
    rows = []
    for c in cells:
        p = c.provenance
        rows.append(dict(model=c.model, dataset=c.dataset, dataset_type=c.dataset_type or "",
                         score=_fmt(c.value, 4), metric=c.score.metric.label, unit=c.score.metric.unit,
                         **{f: "" if p.get(f) is None else p.get(f) for f in PROVENANCE_FIELDS},
                         note=c.score.note, source=str(c.acc_path)))
    return rows


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def esc(text):
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(x) for x in r) + " |" for r in rows]
    return "\n".join(lines)


def markdown(cells: list[Cell]) -> str:
    table = wide(cells)
    best = {d: table[d].max() for d in table.columns}
    rows = [[m] + [(f"**{_fmt(v)}**" if len(table) > 1 and v == best[d] else _fmt(v)) for d, v in r.items()]
            for m, r in table.iterrows()]
    first = {}
    for c in cells:
        first.setdefault(c.dataset, c)
    legend = [f"- **{d}** ({c.dataset_type or 'type unknown'}): {c.score.metric.label}, {c.score.metric.unit}"
              + (f"; first {c.provenance['limit']} rows only" if c.provenance.get("limit") else "")
              for d, c in first.items()]
    prov = [[c.model, c.dataset, _fmt(c.value), *(c.provenance.get(k) or "" for k in ("dataset_md5", "judge",
             "prompt_id", "limit")), c.provenance.get("failed_predictions", ""), c.score.note] for c in cells]
    return "\n\n".join([
        "# Summary",
        _md_table(["model", *table.columns], rows),
        "Main metric of each benchmark:\n" + "\n".join(legend),
        "## Provenance",
        _md_table(["model", "dataset", "score", "dataset md5", "judge", "prompt id", "limit", "failed", "note"], prov),
    ]) + "\n"


def write(cells: list[Cell], out_csv: str | Path, out_md: str | Path, out_provenance: str | Path | None = None) -> None:
    table = wide(cells).round(4)
    atomic_write_text(out_csv, table.to_csv(lineterminator="\n"))
    atomic_write_text(out_md, markdown(cells))
    if out_provenance:
        atomic_write_text(out_provenance, _csv(provenance_rows(cells)))
    log.info("summary of %d models x %d benchmarks written to %s", len(table), len(table.columns), out_csv)
