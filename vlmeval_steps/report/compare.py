"""`vlmeval-steps compare`: two models on one benchmark, on the same units, and where they disagree."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..stats.paired import Comparison
from . import formats
from .intervals import Settings, compute, load
from .summary import read_cell


def disagreements(a, b, mask: pd.Series | None = None) -> pd.DataFrame:
    """Rows (by index) where the two models' outcomes differ: question, both predictions, the answer.
    `mask` (over a's lines) keeps only the lines behind the headline score (e.g. MMMU's validation split)."""
    ra = (a.rows if mask is None else a.rows[mask.to_numpy(dtype=bool)]).drop_duplicates("index").set_index("index")
    rb = b.rows.drop_duplicates("index").set_index("index")
    common = ra.index.intersection(rb.index)
    ra, rb = ra.loc[common], rb.loc[common]
    differ = (ra["correct"].astype(str) != rb["correct"].astype(str)) | (
        ra["extracted"].astype(str) != rb["extracted"].astype(str))
    out = pd.DataFrame({"index": common[differ], "question": ra.loc[differ, "question"].values,
                        "answer": ra.loc[differ, "answer"].values,
                        "a_prediction": ra.loc[differ, "prediction"].values, "a_correct": ra.loc[differ, "correct"].values,
                        "b_prediction": rb.loc[differ, "prediction"].values, "b_correct": rb.loc[differ, "correct"].values})
    if "options" in ra:  # multiple choice: what the letters stand for
        out.insert(2, "options", ra.loc[differ, "options"].values)
    # rows one model got right and the other wrong first: those make the difference
    out["_rank"] = (out["a_correct"].astype(str) == out["b_correct"].astype(str)).astype(int)
    return out.sort_values(["_rank", "index"], kind="stable").drop(columns="_rank").reset_index(drop=True)


def _cells(results: Path, a: str, b: str, dataset: str):
    cells = []
    for m in (a, b):
        if not (results / m / f"{dataset}_acc.csv").exists():
            known = sorted(p.name[: -len("_acc.csv")] for p in (results / m).glob("*_acc.csv"))
            raise InputError(f"{results / m / f'{dataset}_acc.csv'}: no score of {m} on {dataset}. "
                             f"Scored datasets of {m}: {', '.join(known) or 'none'}.")
        cells.append(read_cell(results, m, dataset))
    return cells


def compare_pair(results: str | Path, a: str, b: str, dataset: str, settings: Settings | None = None):
    """(cells, stats, Comparison or the reason they cannot be compared)."""
    results = Path(results)
    settings = settings or Settings()
    cells = _cells(results, a, b, dataset)
    stats = {(c.model, c.dataset): load(c) for c in cells}
    for c in cells:
        if stats[(c.model, c.dataset)].outcomes is None:
            raise InputError(f"{c.acc_path}: {stats[(c.model, c.dataset)].note}; rerun the score stage for "
                             f"{c.model} on {dataset} to write its per-row outcomes.")
    pairwise = compute(cells, stats, settings)
    return cells, stats, pairwise[dataset][0][2]


def compare_text(results: str | Path, a: str, b: str, dataset: str, settings: Settings | None = None,
                 show: int = 20) -> str:
    settings = settings or Settings()
    cells, stats, cmp = compare_pair(results, a, b, dataset, settings)
    if not isinstance(cmp, Comparison):
        raise InputError(f"{a} and {b} cannot be compared on {dataset}: {cmp}")
    metric = cells[0].score.metric
    ea, eb = stats[(a, dataset)].estimate, stats[(b, dataset)].estimate
    lines = [f"{dataset}: {metric.label} ({metric.unit}); {cmp.n_units} units of resampling ({cmp.unit_name}), "
             f"{settings.resamples} paired resamples, {settings.level:.0%} intervals",
             f"  {a:<30} {formats.score(ea.value):>8}  {formats.interval(ea.low, ea.high)}",
             f"  {b:<30} {formats.score(eb.value):>8}  {formats.interval(eb.low, eb.high)}",
             f"  difference ({a} - {b}): {formats.signed(cmp.difference)}  "
             f"{formats.interval(cmp.low, cmp.high, sign=True)}  {_p(cmp.p_value, settings.resamples)}"]
    if cmp.mcnemar:
        mc = cmp.mcnemar
        lines.append(f"  McNemar's exact test: {a} only right on {mc['a_only']}, {b} only right on {mc['b_only']}: "
                     f"{formats.p_text(formats.exact_p(mc['p_value']))}")
    verdict = (f"{a if cmp.difference > 0 else b} is better (the interval excludes 0)." if cmp.significant else
               "No significant difference: the interval includes 0.")
    lines.append("  " + verdict)
    rows = disagreements(stats[(a, dataset)].outcomes, stats[(b, dataset)].outcomes, stats[(a, dataset)].mask)
    lines.append(f"\nRows where they disagree: {len(rows)}" + (f" (first {show})" if len(rows) > show else ""))
    for r in rows.head(show).itertuples(index=False):
        mark = lambda ok: "right" if str(ok) == "1" else "wrong"  # noqa: E731
        options = "; ".join(str(getattr(r, "options", "") or "").splitlines())
        listed = f"    options: {_short(options, 200)}\n" if options else ""
        lines.append(f"- index {r.index}: {_short(r.question)}\n{listed}    answer: {_short(r.answer, 60)}\n"
                     f"    {a} ({mark(r.a_correct)}): {_short(r.a_prediction, 60)}\n"
                     f"    {b} ({mark(r.b_correct)}): {_short(r.b_prediction, 60)}")
    return "\n".join(lines)


def _p(p: float, resamples: int) -> str:
    text = formats.bootstrap_p(p, resamples)
    # a bound: (k + 1) / (B + 1) cannot go lower, which the reader should know
    return formats.p_text(text) + (f" (paired bootstrap; the smallest p {resamples} resamples can give)"
                                   if text.startswith("<") else " (paired bootstrap)")


def _short(text, n: int = 100) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"
