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
from ..stats.bootstrap import (DEFAULT_LEVEL, DEFAULT_RESAMPLES, Estimate, design_of, estimate, weights)
from ..stats.outcomes import Outcomes
from ..stats.paired import Comparison, NotComparable, check_comparable, from_estimates
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


def load(cell, acc: pd.DataFrame) -> CellStats:
    rows_csv, spec_json = outcome_files.paths(cell.acc_path)
    if not rows_csv.exists():
        return CellStats(None, note="no per-row outcomes (scored by an older version or a family without them)")
    try:
        out = outcome_files.read(rows_csv, spec_json)
    except InputError as exc:
        log.warning("%s", exc)
        return CellStats(None, note=str(exc))
    return CellStats(out, main_mask(out, acc, cell.score.metric))


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
        w_cache: dict[str, np.ndarray] = {}
        have = [c for c in group if stats[(c.model, c.dataset)].outcomes is not None]
        for c in have:
            st = stats[(c.model, c.dataset)]
            design = design_of(st.outcomes)
            w = w_cache.get(design.signature)
            if w is None:
                w = w_cache[design.signature] = weights(design, settings.resamples, settings.seed, dataset)
            st.estimate = estimate(st.outcomes, level=settings.level, mask=st.mask, design=design, w=w)
            if categories:
                for col in st.outcomes.spec.groups:
                    if col == "split" and st.mask is not None:
                        continue  # the splits are the headline's rows, not categories
                    cats = st.outcomes.categories(col)
                    if len(cats) < 2 and col != "category":
                        continue
                    for cat in cats:
                        sub = _and(st.mask, st.outcomes.subset(col, cat))
                        st.categories.setdefault(col, {})[cat] = estimate(
                            st.outcomes, level=settings.level, mask=sub, design=design, w=w)
                        st.counts.setdefault(col, {})[cat] = int(sub.sum())
        pairwise[dataset] = compare_all(have, stats, settings)
    return pairwise


def compare_all(cells: list, stats: dict, settings: Settings) -> list:
    from ..stats.paired import _binary

    out = []
    for a, b in itertools.combinations(cells, 2):
        sa, sb = stats[(a.model, a.dataset)], stats[(b.model, b.dataset)]
        reason = refusal(a, b, sa, sb)
        if reason:
            out.append((a.model, b.model, reason))
            continue
        mcnemar = _binary(sa.outcomes, sb.outcomes) if sa.mask is None else None
        out.append((a.model, b.model, from_estimates(sa.estimate, sb.estimate, settings.level, mcnemar)))
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
