"""How a metric is made from per-line values: a combination of ratios of column sums.

Every headline metric the scorers compute has this shape:

    metric = scale * combine_over_strata( combine_over_terms( sum(num_t) / sum(den_t) ) )

- accuracy:                 terms [(hit, one)]
- a count (OCRBench):       terms [(hit, None)]                    (no denominator: the sum itself)
- F1 (POPE):                terms [(2tp, 2tp+fp+fn)]
- mean of accuracies:       terms [(a, n), (f, nf), (q, nq)], within="mean"   (HallusionBench)
- sum of per-category sums: strata="category", across="sum"      (MME: acc + acc+ per category)

Sums are additive over lines, so a resample is a weight per unit and every statistic is a
matrix product: that is what makes the bootstrap vectorised (stats/bootstrap.py).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class RatioSpec:
    terms: tuple[tuple[str, str | None], ...]      # (numerator column, denominator column or None)
    within: str = "sum"                            # how terms combine: 'sum' or 'mean'
    strata: str | None = None                      # a column: units are resampled within each stratum
    across: str = "pooled"                         # 'pooled' (one stratum) or 'sum' of per-stratum metrics
    scale: float = 1.0
    unit_name: str = "row"                         # what a unit is, for people ("circular group", "image")
    groups: tuple[str, ...] = ()                   # category columns, broad first
    multi: tuple[str, ...] = ()                    # group columns holding several values joined by '|'
    binary: str | None = None                      # a 0/1 outcome column, for McNemar's test
    extra: dict = field(default_factory=dict)      # free-form notes (kept in the JSON)

    def __post_init__(self):
        if self.within not in ("sum", "mean") or self.across not in ("pooled", "sum"):
            raise ValueError(f"RatioSpec: within must be sum|mean and across pooled|sum, got {self.within}/{self.across}")
        if self.across == "sum" and not self.strata:
            raise ValueError("RatioSpec: across='sum' needs a strata column")

    @property
    def columns(self) -> list[str]:
        """The value columns, in the order totals are laid out."""
        cols = []
        for num, den in self.terms:
            for c in (num, den):
                if c is not None and c not in cols:
                    cols.append(c)
        return cols

    def evaluate(self, totals: np.ndarray) -> np.ndarray:
        """Metric from column totals, shape (..., n_columns) -> (...). A 0/0 ratio is 0, as upstream's F1."""
        cols = self.columns
        values = []
        for num, den in self.terms:
            n = totals[..., cols.index(num)]
            if den is None:
                values.append(n)
            else:
                d = totals[..., cols.index(den)]
                with np.errstate(invalid="ignore", divide="ignore"):
                    values.append(np.where(d != 0, n / np.where(d != 0, d, 1), 0.0))
        stacked = np.stack(values, axis=-1)
        combined = stacked.mean(axis=-1) if self.within == "mean" else stacked.sum(axis=-1)
        return combined * self.scale

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, d: dict) -> "RatioSpec":
        d = dict(d)
        d["terms"] = tuple((t[0], t[1]) for t in d["terms"])
        for k in ("groups", "multi"):
            d[k] = tuple(d.get(k) or ())
        return cls(**d)
