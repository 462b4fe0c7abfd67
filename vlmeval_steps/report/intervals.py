"""Intervals and paired comparisons for the leaderboard's cells, from their per-row outcomes.

The bridge between the leaderboard (which number of a score table is the headline, report/
metrics.py) and the statistics room (vlmeval_steps/stats/, which knows only units and sums).
Models scored on the same rows of a benchmark share one set of resamples, so their intervals
and all their pairwise differences come from the same draws.
"""
from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..stats import outcomes as outcome_files
from ..stats.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, Estimate, design_of, estimate_many, weights
from ..stats.outcomes import Outcomes
from ..stats.paired import Comparison, NotComparable, check_comparable
from .metrics import _row, key_column

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    resamples: int = DEFAULT_RESAMPLES
    level: float = DEFAULT_LEVEL
    seed: int = 0

    def __post_init__(self):
        if self.resamples < 1 or not 0 < self.level < 1:
            raise InputError(f"statistics: resamples must be >= 1 and level between 0 and 1 "
                             f"(got {self.resamples}, {self.level}).")


@dataclass
class CellStats:
    outcomes: Outcomes | None
    mask: pd.Series | None = None                  # the lines of the headline metric (e.g. one split)
    estimate: Estimate | None = None
    categories: dict[str, dict[str, Estimate]] = field(default_factory=dict)  # group -> category -> estimate
    counts: dict[str, dict[str, int]] = field(default_factory=dict)           # group -> category -> rows
    note: str = ""


def main_mask(outcomes: Outcomes, acc: pd.DataFrame, metric) -> pd.Series | None:
    """The lines behind the headline number: for a table with one row per split (MCQ), the split
    the leaderboard shows (MMMU's validation, else the first); None for all lines."""
    rows = outcomes.rows
    if "split" not in rows or acc.empty:
        return None
    key = key_column(acc)
    if key != "split" or len(acc) < 2:
        return None
    row, _ = _row(acc, key, metric.row)
    if row is None or str(row["split"]) not in set(rows["split"].astype(str)):
        return None
    return rows["split"].astype(str) == str(row["split"])


def load(cell, text: bool = True) -> CellStats:
    """A cell's outcomes and the mask of its headline lines; text=False reads only what statistics need."""
    from .summary import read_acc

    rows_csv, spec_json = outcome_files.paths(cell.acc_path)
    if not rows_csv.exists():
        return CellStats(None, note="no per-row outcomes (scored by an older version or a family without them)")
    try:
        out = outcome_files.read(rows_csv, spec_json, text=text)
    except InputError as exc:
        log.warning("%s", exc)
        return CellStats(None, note=str(exc))
    # only a table with splits as rows needs the score table to find the headline's split
    mask = main_mask(out, read_acc(cell.acc_path), cell.score.metric) if "split" in out.rows else None
    return CellStats(out, mask)


def _and(a: pd.Series | None, b: pd.Series) -> pd.Series:
    return b if a is None else (a & b)


def compute(cells: list, stats: dict, settings: Settings, categories: bool = False) -> dict:
    """Fill each CellStats' estimate (and, for the report, per-category estimates); return the
    pairwise comparisons per dataset: {dataset: [(model_a, model_b, Comparison | reason)]}."""
    by_dataset: dict[str, list] = {}
    for c in cells:
        by_dataset.setdefault(c.dataset, []).append(c)
    pairwise: dict[str, list] = {}
    for dataset, group in by_dataset.items():
        have = [c for c in group if stats[(c.model, c.dataset)].outcomes is not None]
        by_design: dict[str, list] = {}
        for c in have:
            by_design.setdefault(design_of(stats[(c.model, c.dataset)].outcomes).signature, []).append(c)
        for members in by_design.values():  # models scored on the same units share one set of draws
            design = design_of(stats[(members[0].model, dataset)].outcomes)
            w = weights(design, settings.resamples, settings.seed, dataset)
            items, slots = [], []
            for c in members:
                st = stats[(c.model, c.dataset)]
                items.append((st.outcomes, st.mask))
                slots.append((st, None, None, None))
                if categories:
                    for col in st.outcomes.spec.groups:
                        if col == "split" and st.mask is not None:
                            continue  # the splits are the headline's rows, not categories
                        cats = st.outcomes.categories(col)
                        if len(cats) < 2 and col != "category":
                            continue
                        for cat in cats:
                            sub = _and(st.mask, st.outcomes.subset(col, cat))
                            if not sub.any():
                                continue  # a category only outside the headline's split
                            items.append((st.outcomes, sub))
                            slots.append((st, col, cat, int(sub.sum())))
            for (st, col, cat, count), est in zip(slots, estimate_many(items, design, w, settings.level)):
                if col is None:
                    st.estimate = est
                else:
                    st.categories.setdefault(col, {})[cat] = est
                    st.counts.setdefault(col, {})[cat] = count
        pairwise[dataset] = compare_all(have, stats, settings)
    return pairwise


def compare_all(cells: list, stats: dict, settings: Settings) -> list:
    """Every pair of cells of one benchmark: (model_a, model_b, Comparison or the reason they cannot be
    compared). Cells on the same units share their draws, so all their pairs are computed at once."""
    from ..stats.paired import bootstrap_p_many, mcnemar_exact

    groups: dict[tuple, list] = {}
    for c in cells:
        st = stats[(c.model, c.dataset)]
        key = (design_of(st.outcomes).signature, st.outcomes.index_signature(), st.outcomes.spec.terms,
               c.provenance.get("dataset_md5") or "", st.mask is None)
        groups.setdefault(key, []).append(c)
    results: dict[tuple[str, str], Comparison] = {}
    alpha = (1 - settings.level) / 2
    for members in groups.values():
        if len(members) < 2:
            continue
        ests = [stats[(c.model, c.dataset)].estimate for c in members]
        samples = np.stack([e.samples for e in ests])
        values = np.array([e.value for e in ests])
        ia, ib = np.triu_indices(len(members), k=1)
        diffs = samples[ia] - samples[ib]
        observed = values[ia] - values[ib]
        lows, highs = np.quantile(diffs, [alpha, 1 - alpha], axis=1)
        pvals = bootstrap_p_many(diffs, observed)
        first = stats[(members[0].model, members[0].dataset)]
        binary = None
        if first.mask is None and first.outcomes.spec.binary:
            binary = np.stack([stats[(c.model, c.dataset)].outcomes.binary_by_index() for c in members])
            a_only = binary @ (1 - binary).T  # [i, j]: rows i got right and j wrong
        for k, (i, j) in enumerate(zip(ia, ib)):
            mc = None
            if binary is not None:
                x, y = int(a_only[i, j]), int(a_only[j, i])
                mc = dict(a_only=x, b_only=y, p_value=mcnemar_exact(x, y))
            results[(members[i].model, members[j].model)] = Comparison(
                float(values[i]), float(values[j]), float(observed[k]), float(lows[k]), float(highs[k]),
                float(pvals[k]), ests[i].n_units, mc, ests[i].unit_name)
    out = []
    for a, b in itertools.combinations(cells, 2):
        cmp = results.get((a.model, b.model))
        out.append((a.model, b.model, cmp if cmp is not None else
                    refusal(a, b, stats[(a.model, a.dataset)], stats[(b.model, b.dataset)]) or "not comparable"))
    return out


def refusal(a, b, sa: CellStats, sb: CellStats) -> str:
    """Why two cells cannot be compared, or '' when they can."""
    ma, mb = a.provenance.get("dataset_md5"), b.provenance.get("dataset_md5")
    if ma and mb and ma != mb:
        return f"different dataset versions (md5 {ma} vs {mb})"
    try:
        check_comparable(sa.outcomes, sb.outcomes, a.model, b.model)
    except NotComparable as exc:
        return str(exc)
    return ""


def tied_with_best(dataset: str, cells: list, stats: dict, pairwise: dict) -> set[str]:
    """Models whose difference from the best model's score is not significant (0 inside the interval)."""
    scored = [c for c in cells if c.dataset == dataset and c.value is not None]
    if len(scored) < 2:
        return set()
    best = max(scored, key=lambda c: c.value).model
    tied = set()
    for a, b, cmp in pairwise.get(dataset, []):
        if isinstance(cmp, Comparison) and best in (a, b) and not cmp.significant:
            tied.add(b if a == best else a)
    return tied


def comparison_for(pairwise: dict, dataset: str, a: str, b: str):
    for x, y, cmp in pairwise.get(dataset, []):
        if (x, y) == (a, b):
            return cmp
        if (x, y) == (b, a):
            return flip(cmp)
    return None


def flip(cmp):
    if not isinstance(cmp, Comparison):
        return cmp
    mc = cmp.mcnemar and dict(cmp.mcnemar, a_only=cmp.mcnemar["b_only"], b_only=cmp.mcnemar["a_only"])
    return Comparison(cmp.b, cmp.a, -cmp.difference, -cmp.high, -cmp.low, cmp.p_value, cmp.n_units, mc,
                      cmp.unit_name)
