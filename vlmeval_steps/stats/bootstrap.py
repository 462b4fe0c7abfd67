"""Seeded, vectorised bootstrap over units of resampling.

A resample is a count per unit (how often it was drawn); the statistic of every resample is
then one matrix product of those counts with the per-unit column totals (see spec.py). Units
are drawn within their stratum when the spec has strata. The counts depend only on the seed,
a name (the benchmark) and the sorted unit keys, so every model scored on the same rows gets
the same resamples: intervals are reproducible across runs and processes, and two models can
be compared resample by resample (stats/paired.py).
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .outcomes import Outcomes

DEFAULT_RESAMPLES = 1000
DEFAULT_LEVEL = 0.95
SEP = "\x1f"


@dataclass
class Design:
    """The sorted units of one table and the stratum each belongs to."""
    keys: np.ndarray          # unit keys (str), sorted
    strata: np.ndarray        # stratum index per unit
    stratum_names: list[str]

    @property
    def n_units(self) -> int:
        return len(self.keys)

    @functools.cached_property
    def signature(self) -> str:
        return hashlib.sha256("\n".join(self.keys).encode()).hexdigest()


def unit_keys(outcomes: Outcomes) -> np.ndarray:
    """Each line's unit (prefixed by its stratum when units are drawn within strata), as text."""
    if "unit_keys" not in outcomes.cache:
        rows, spec = outcomes.rows, outcomes.spec
        unit = rows["unit"].astype(str)
        keys = rows[spec.strata].astype(str) + SEP + unit if spec.strata else unit
        outcomes.cache["unit_keys"] = keys.to_numpy(dtype=object)
    return outcomes.cache["unit_keys"]


def design_of(outcomes: Outcomes) -> Design:
    if "design" in outcomes.cache:
        return outcomes.cache["design"]
    keys = np.unique(unit_keys(outcomes).astype(str)).astype(object)
    if outcomes.spec.strata:
        names = sorted({k.split(SEP, 1)[0] for k in keys})
        strata = np.array([names.index(k.split(SEP, 1)[0]) for k in keys], dtype=np.int64)
    else:
        names, strata = [""], np.zeros(len(keys), dtype=np.int64)
    outcomes.cache["design"] = Design(keys, strata, names)
    return outcomes.cache["design"]


def _seed(seed: int, name: str, design: Design) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}\n{name}\n{design.signature}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def weights(design: Design, resamples: int = DEFAULT_RESAMPLES, seed: int = 0, name: str = "") -> np.ndarray:
    """(resamples, n_units) draw counts; within each stratum they sum to its number of units."""
    rng = _seed(seed, name, design)
    counts = []
    for s in range(len(design.stratum_names)):
        members = np.flatnonzero(design.strata == s)
        n = len(members)
        draws = rng.integers(0, max(n, 1), size=(resamples, n), dtype=np.int32)
        flat = (draws + (np.arange(resamples, dtype=np.int64) * n)[:, None]).ravel()
        counts.append((members, np.bincount(flat, minlength=resamples * n).reshape(resamples, n)))
    if len(counts) == 1:  # one stratum (the usual case): no scatter needed
        return counts[0][1].astype(np.float64)
    out = np.zeros((resamples, design.n_units), dtype=np.float64)
    for members, c in counts:
        out[:, members] = c
    return out


def unit_totals(outcomes: Outcomes, design: Design, mask: pd.Series | None = None) -> np.ndarray:
    """(n_units, n_strata * n_columns): each unit's column sums, in its stratum's block.

    `mask` keeps only some lines (a category); units without kept lines get zeros.
    """
    spec, rows = outcomes.spec, outcomes.rows
    cols = spec.columns
    if "values" not in outcomes.cache:
        outcomes.cache["values"] = rows[cols].to_numpy(dtype=np.float64)
    values = outcomes.cache["values"]
    if mask is not None:
        values = values * mask.to_numpy(dtype=bool)[:, None]
    position = outcomes.cache.get(("position", design.signature))
    if position is None:
        position = pd.Index(design.keys).get_indexer(unit_keys(outcomes))
        if (position < 0).any():
            raise ValueError("outcome lines whose unit is not in the design")
        outcomes.cache[("position", design.signature)] = position
    per_unit = np.stack([np.bincount(position, weights=values[:, j], minlength=design.n_units)
                         for j in range(len(cols))], axis=1)
    n_strata = len(design.stratum_names)
    if n_strata == 1:
        return per_unit
    out = np.zeros((design.n_units, n_strata * len(cols)))
    for s in range(n_strata):
        members = design.strata == s
        out[members, s * len(cols):(s + 1) * len(cols)] = per_unit[members]
    return out


def metric(outcomes: Outcomes, totals: np.ndarray) -> np.ndarray:
    """The metric from (..., n_strata * n_columns) totals."""
    spec = outcomes.spec
    k = len(spec.columns)
    shaped = totals.reshape(*totals.shape[:-1], -1, k)
    per_stratum = spec.evaluate(shaped)
    return per_stratum.sum(axis=-1)


@dataclass
class Estimate:
    value: float
    low: float
    high: float
    n_units: int
    samples: np.ndarray        # the metric of every resample (for paired comparisons)
    unit_name: str = "row"


def interval(samples: np.ndarray, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """The percentile interval: the central `level` share of the resampled statistics."""
    alpha = (1 - level) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha])
    return float(low), float(high)


def estimate(outcomes: Outcomes, resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL,
             seed: int = 0, name: str = "", mask: pd.Series | None = None, design: Design | None = None,
             w: np.ndarray | None = None) -> Estimate:
    """The metric on the data as they are, and its bootstrap interval."""
    design = design or design_of(outcomes)
    w = weights(design, resamples, seed, name) if w is None else w
    return estimate_many([(outcomes, mask)], design, w, level)[0]


def estimate_many(items: list[tuple[Outcomes, pd.Series | None]], design: Design, w: np.ndarray,
                  level: float = DEFAULT_LEVEL) -> list[Estimate]:
    """Estimates of several tables (models, categories) on the same units with the same draws: their
    per-unit totals side by side make one matrix product, which BLAS does far faster than many."""
    xs = [unit_totals(o, design, mask) for o, mask in items]
    totals = w @ np.hstack(xs) if xs else None
    out, start = [], 0
    for (o, mask), x in zip(items, xs):
        samples = metric(o, totals[:, start:start + x.shape[1]])
        start += x.shape[1]
        low, high = interval(samples, level)
        n_units = design.n_units if mask is None else len(set(unit_keys(o)[mask.to_numpy(dtype=bool)]))
        out.append(Estimate(float(metric(o, x.sum(axis=0))), low, high, n_units, samples, o.spec.unit_name))
    return out
