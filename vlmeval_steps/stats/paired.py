"""Which of two models is better on the same benchmark: paired bootstrap and McNemar's exact test.

Both models are resampled with the same draws (the same units, the same counts), so what the
two share (easy and hard questions) cancels out of their difference.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, design_of, estimate, interval, weights
from .outcomes import Outcomes


class NotComparable(ValueError):
    """The two tables are not scored on the same units; the message says why."""


@dataclass
class Comparison:
    a: float
    b: float
    difference: float            # a - b, in the metric's unit
    low: float
    high: float
    p_value: float               # paired bootstrap, two-sided
    n_units: int
    mcnemar: dict | None = None  # {'a_only': .., 'b_only': .., 'p_value': ..} for 0/1 outcomes
    unit_name: str = "row"

    @property
    def significant(self) -> bool:
        return not (self.low <= 0.0 <= self.high)


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of a_only among the discordant pairs, p = 1/2."""
    n = a_only + b_only
    if n == 0:
        return 1.0
    k = min(a_only, b_only)
    if n <= 200:  # exact integers, one rounding
        return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)
    # larger n: the binomial terms in log space (a comb() sum grows slow with thousands of discordant rows)
    i = np.arange(1, k + 1)
    # log C(n, i) = sum over j <= i of log((n - j + 1) / j)
    log_terms = np.concatenate([[0.0], np.cumsum(np.log(n - i + 1.0) - np.log(i))]) - n * math.log(2)
    top = log_terms.max()
    return min(1.0, 2 * float(np.exp(top) * np.exp(log_terms - top).sum()))


def bootstrap_p(samples: np.ndarray, observed: float) -> float:
    """Two-sided p of 'no difference': how often the resampled difference, centred on the observed
    one, lies at least as far from zero as the observed one; (count + 1) / (resamples + 1)."""
    centred = samples - observed
    extreme = int(np.sum(np.abs(centred) >= abs(observed) - 1e-12))
    return min(1.0, (extreme + 1) / (len(samples) + 1))


def bootstrap_p_many(samples: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """bootstrap_p for many comparisons at once: samples (n, resamples), observed (n,)."""
    extreme = (np.abs(samples - observed[:, None]) >= np.abs(observed)[:, None] - 1e-12).sum(axis=1)
    return np.minimum(1.0, (extreme + 1) / (samples.shape[1] + 1))


def check_comparable(a: Outcomes, b: Outcomes, a_name: str = "A", b_name: str = "B") -> None:
    if a.spec.columns != b.spec.columns or a.spec.terms != b.spec.terms:
        raise NotComparable(f"{a_name} and {b_name} were scored with different metrics "
                            f"({a.spec.terms} vs {b.spec.terms}).")
    if a.index_signature() != b.index_signature():
        ia, ib = set(a.index_keys()), set(b.index_keys())
        only_a, only_b = sorted(ia - ib), sorted(ib - ia)
        raise NotComparable(f"{a_name} and {b_name} were scored on different rows ({len(ia)} vs {len(ib)}; "
                            f"only in {a_name}: {only_a[:5]}, only in {b_name}: {only_b[:5]}); "
                            "compare results with the same limit and dataset version.")
    if design_of(a).signature != design_of(b).signature:
        raise NotComparable(f"{a_name} and {b_name} group their rows into different units of resampling.")


def _binary(a: Outcomes, b: Outcomes) -> dict | None:
    """McNemar's counts and test on the rows' 0/1 outcomes (both scored on the same rows)."""
    if not a.spec.binary or a.spec.binary != b.spec.binary:
        return None
    left, right = a.binary_by_index(), b.binary_by_index()
    a_only, b_only = int(((left == 1) & (right == 0)).sum()), int(((left == 0) & (right == 1)).sum())
    return dict(a_only=a_only, b_only=b_only, p_value=mcnemar_exact(a_only, b_only))


def compare(a: Outcomes, b: Outcomes, resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL,
            seed: int = 0, name: str = "", a_name: str = "A", b_name: str = "B",
            mask_a: pd.Series | None = None, mask_b: pd.Series | None = None) -> Comparison:
    check_comparable(a, b, a_name, b_name)
    design = design_of(a)
    w = weights(design, resamples, seed, name)
    ea = estimate(a, level=level, mask=mask_a, design=design, w=w)
    eb = estimate(b, level=level, mask=mask_b, design=design, w=w)
    return from_estimates(ea, eb, level, _binary(a, b) if mask_a is None else None)


def from_estimates(ea, eb, level: float = DEFAULT_LEVEL, mcnemar: dict | None = None) -> Comparison:
    """A comparison of two estimates made with the same resample weights."""
    diff = ea.value - eb.value
    samples = ea.samples - eb.samples
    low, high = interval(samples, level)
    return Comparison(ea.value, eb.value, diff, low, high, bootstrap_p(samples, diff), ea.n_units, mcnemar,
                      ea.unit_name)
