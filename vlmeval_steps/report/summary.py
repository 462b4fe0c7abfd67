"""The leaderboard: one row per model, one column per benchmark's headline score, and where each came from.

Reads `results/{model}/{dataset}_acc.csv` and `{dataset}_provenance.json` (written by the score
stage) and writes:
  summary.csv             model x benchmark, in each benchmark's leaderboard unit, with each cell's
                          95 % interval (`{benchmark} ci_low`, `ci_high`) and its number of units
  summary.md              the same table for people (62.30 ± 1.40), with each benchmark's metric,
                          pairwise comparisons with the best model, pairs that failed, and provenance
  summary_provenance.csv  one line per cell: score, interval, metric, dataset md5, judge, prompt id, ...

Every score table in the work dir is summarised (this run's and earlier runs'); configured pairs
without one are listed as not scored, so one failed pair never hides the others.
"""
from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..names import split_limit
from ..errors import InputError
from ..fileio import atomic_write_text
from . import formats
from .metrics import Score, main_score

log = logging.getLogger(__name__)

PROVENANCE_FIELDS = ("dataset_md5", "judge", "prompt_id", "limit", "rows", "failed_predictions", "package_version",
                     "git_commit", "model_identity", "scored_at")


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
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a score table ({exc}). Delete it and run again: the score stage writes it "
                         "anew from the cached predictions.") from None


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
    if provenance.get("limit") is None:  # the record's own limit wins; else the file name's
        provenance["limit"] = limit
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


def leaderboard_columns(cells: list[Cell]) -> tuple[list[str], list[str]]:
    """(leaderboard, trial runs): each benchmark's full run is its leaderboard column; `_limitN` trial runs
    (the first N rows only, not comparable with the full run) go to a table of their own, except that a
    benchmark with trial runs only shows its largest on the leaderboard."""
    runs: dict[str, list[tuple[int | None, str]]] = {}
    for d in _order(c.dataset for c in cells):
        base, limit = split_limit(d)
        runs.setdefault(base, []).append((limit, d))
    board, trials = [], []
    for found in runs.values():
        full = [d for limit, d in found if limit is None]
        shown = full[0] if full else max(found, key=lambda r: r[0])[1]
        board.append(shown)
        trials += [d for _, d in found if d != shown]
    return board, trials


def wide(cells: list[Cell], datasets: list[str] | None = None) -> pd.DataFrame:
    """Models as rows, benchmarks as columns, in the order the pairs were given; `datasets`: only these
    columns, and only the models with a cell in them."""
    if datasets is not None:
        cells = [c for c in cells if c.dataset in datasets]
    models, datasets = _order(c.model for c in cells), _order(c.dataset for c in cells)
    table = pd.DataFrame(index=pd.Index(models, name="model"), columns=datasets, dtype=float)
    for c in cells:
        table.loc[c.model, c.dataset] = c.value
    return table


def _fmt(value, digits=2) -> str:  # summary_provenance.csv's numbers (4 decimals), not the people's format
    return "" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def provenance_rows(cells: list[Cell], stats: dict | None = None, configured: set | None = None) -> list[dict]:
    rows = []
    for c in cells:
        p = c.provenance
        st = (stats or {}).get((c.model, c.dataset))
        e = st.estimate if st is not None else None
        rows.append(dict(model=c.model, dataset=c.dataset, dataset_type=c.dataset_type or "",
                         score=_fmt(c.value, 4), ci_low=_fmt(e.low, 4) if e else "", ci_high=_fmt(e.high, 4) if e else "",
                         n_units=e.n_units if e else "", resampling_unit=e.unit_name if e else "",
                         metric=c.score.metric.label, unit=c.score.metric.unit,
                         **{f: "" if p.get(f) is None else json.dumps(p[f], sort_keys=True) if isinstance(p[f], dict)
                            else p.get(f) for f in PROVENANCE_FIELDS},
                         versions=json.dumps(p.get("versions") or {}, sort_keys=True),
                         in_config="" if configured is None else (c.model, c.dataset) in configured,
                         note=c.score.note, source=str(c.acc_path.resolve())))
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


def _interval(st) -> str:
    e = st.estimate if st is not None else None
    return "" if e is None else " " + formats.plus_minus(e.low, e.high)


def markdown(cells: list[Cell], stats: dict | None = None, pairwise: dict | None = None, settings=None,
             missing: list[dict] | None = None, configured: set | None = None) -> str:
    from .intervals import tied_with_best

    stats, pairwise = stats or {}, pairwise or {}
    board, trials = leaderboard_columns(cells)
    table = wide(cells, board)
    tied = {d: tied_with_best(d, cells, stats, pairwise) for d in table.columns}
    first = {}
    for c in cells:
        first.setdefault(c.dataset, c)

    def legend(datasets):
        return [f"- **{d}** ({c.dataset_type or 'type unknown'}): {c.score.metric.label}, {c.score.metric.unit}"
                + (f"; first {c.provenance['limit']} rows only" if c.provenance.get("limit") else "")
                + (f"; resampled by {st.estimate.unit_name} ({st.estimate.n_units})"
                   if (st := stats.get((c.model, c.dataset))) and st.estimate else "; no interval (no per-row outcomes)")
                for d, c in first.items() if d in datasets]

    parts = ["# Summary", _md_table(["model", *table.columns], _md_rows(table, stats, tied)),
             "Main metric of each benchmark:\n" + "\n".join(legend(board))]
    if settings is not None and any(st.estimate for st in stats.values()):
        parts.append(f"± is half the {settings.level:.0%} bootstrap interval ({settings.resamples} resamples of the "
                     "benchmark's questions, seed " f"{settings.seed}); **bold** is the best score, ≈ marks a model "
                     "whose difference from the best is not significant (paired bootstrap). The interval is about the "
                     "sample of questions, not about the model's own randomness.")
    if trials:
        trial_table = wide(cells, trials)
        parts += ["## Trial runs", "Runs with `--limit N` (`_limitN`): scored on the first N rows only, so not comparable "
                  "with the full benchmark and kept out of the leaderboard above (a benchmark with trial runs only "
                  "shows its largest there).", _md_table(["model", *trial_table.columns],
                                                         _md_rows(trial_table, stats, {})),
                  "\n".join(legend(trials))]
    comparisons = _best_comparisons([c for c in cells if c.dataset in board], pairwise,
                                    settings.resamples if settings is not None else None)
    if comparisons:
        parts += ["## Compared with the best model",
                  _md_table(["dataset", "best", "model", "difference", "interval", "p", "McNemar p"], comparisons)]
    if missing:
        parts += ["## Not scored", "Configured pairs without a score table (the run failed or has not reached "
                  "them; their logs are under logs/). The other pairs are summarised above.",
                  _md_table(["model", "dataset", "last output", "see"], [[x["model"], x["dataset"], x["reached"],
                                                                            x["logs"]] for x in missing])]
    prov = [[c.model, c.dataset, formats.score(c.value), *(c.provenance.get(k) or "" for k in ("dataset_md5", "judge",
             "prompt_id", "limit")), c.provenance.get("failed_predictions", ""),
             "" if configured is None else ("yes" if (c.model, c.dataset) in configured else "earlier run"),
             _when(c.provenance.get("scored_at")), c.score.note] for c in cells]
    parts += ["## Provenance", _md_table(["model", "dataset", "score", "dataset md5", "judge", "prompt id", "limit",
                                          "failed", "in config", "scored (UTC)", "note"], prov)]
    return "\n\n".join(parts) + "\n"


def _md_rows(table: pd.DataFrame, stats: dict, tied: dict) -> list[list[str]]:
    """Each model's cells: score ± half its interval, **bold** for the best, ≈ when not significantly worse."""
    rows = []
    for m, r in table.iterrows():
        row = [m]
        for d, v in r.items():
            text = formats.score(v) + _interval(stats.get((m, d)))
            if text and len(table) > 1 and v == table[d].max():
                text = f"**{text}**"
            elif m in tied.get(d, ()):
                text += " ≈"
            row.append(text)
        rows.append(row)
    return rows


def _when(stamp) -> str:
    return str(stamp or "").replace("T", " ")[:16]


def _best_comparisons(cells: list[Cell], pairwise: dict, resamples: int | None = None) -> list[list[str]]:
    from .intervals import Settings, comparison_for

    resamples = resamples or Settings().resamples

    out = []
    for d in _order(c.dataset for c in cells):
        scored = [c for c in cells if c.dataset == d and c.value is not None]
        if len(scored) < 2:
            continue
        best = max(scored, key=lambda c: c.value)
        for c in scored:
            if c is best:
                continue
            cmp = comparison_for(pairwise, d, best.model, c.model)
            if cmp is None:
                continue
            if isinstance(cmp, str):
                out.append([d, best.model, c.model, "", f"not comparable: {cmp}", "", ""])
                continue
            mc = formats.exact_p(cmp.mcnemar["p_value"]) if cmp.mcnemar else ""
            out.append([d, best.model, c.model, formats.signed(cmp.difference),
                        formats.interval(cmp.low, cmp.high, sign=True), formats.bootstrap_p(cmp.p_value, resamples),
                        mc])
    return out


def wide_with_intervals(cells: list[Cell], stats: dict) -> pd.DataFrame:
    """summary.csv: each benchmark's score, then its `ci_low`, `ci_high` and `n_units`."""
    table = wide(cells)
    columns = {}
    for d in table.columns:
        columns[d] = table[d]
        for key in ("ci_low", "ci_high", "n_units"):
            columns[f"{d} {key}"] = pd.Series([_stat(stats.get((m, d)), key) for m in table.index], index=table.index,
                                              dtype=float)
    return pd.DataFrame(columns, index=table.index)


def _stat(st, key):
    e = st.estimate if st is not None else None
    if e is None:
        return None
    return {"ci_low": e.low, "ci_high": e.high, "n_units": e.n_units}[key]


def missing_pairs(results: Path, expected: list[tuple[str, str]] | None) -> list[dict]:
    """Configured pairs that have no score table, and how far each got."""
    out = []
    for m, d in expected or []:
        if (results / m / f"{d}_acc.csv").exists():
            continue
        work = results.parent / "work"
        if (results / m / f"{d}.tsv").exists():
            reached = f"results/{m}/{d}.tsv (predictions; the judge or score stage failed)"
        elif (work / "predictions" / m / d).exists():
            reached = f"work/predictions/{m}/{d}/ (some answers; inference did not finish)"
        else:
            reached = "none (failed before inference: download, verify or prompt building)"
        out.append(dict(model=m, dataset=d, reached=reached, logs=f"logs/*/{m}/{d}*.log, logs/*/{d}*.log"))
    return out


def summarise(results: str | Path, pairs=None, settings=None, expected=None, categories: bool = False):
    """Cells, their statistics and pairwise comparisons, and the expected pairs that are missing."""
    from .intervals import Settings, compute, load

    results = Path(results)
    settings = settings or Settings()
    missing = missing_pairs(results, expected)
    if pairs is None and missing and not find_pairs(results):
        cells = []
    else:
        cells = collect(results, pairs)
    stats = {(c.model, c.dataset): load(c, text=categories) for c in cells}  # the report shows rows' text
    pairwise = compute(cells, stats, settings, categories=categories)
    return cells, stats, pairwise, missing


def write(cells: list[Cell], out_csv: str | Path, out_md: str | Path, out_provenance: str | Path | None = None,
          stats: dict | None = None, pairwise: dict | None = None, settings=None, missing: list[dict] | None = None,
          configured: set | None = None) -> None:
    stats = stats or {}
    table = wide_with_intervals(cells, stats).round(4) if cells else pd.DataFrame(index=pd.Index([], name="model"))
    atomic_write_text(out_csv, table.to_csv(lineterminator="\n"))
    atomic_write_text(out_md, markdown(cells, stats, pairwise, settings, missing, configured) if cells else
                      "# Summary\n\nNo pair was scored.\n\n" + _md_table(
                          ["model", "dataset", "last output", "see"],
                          [[x["model"], x["dataset"], x["reached"], x["logs"]] for x in missing or []]) + "\n")
    if out_provenance and cells:
        atomic_write_text(out_provenance, _csv(provenance_rows(cells, stats, configured)))
    log.info("summary of %d models x %d benchmarks written to %s", len(table), len({c.dataset for c in cells}), out_csv)
