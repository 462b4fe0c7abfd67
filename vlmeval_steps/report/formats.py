"""How numbers are written for people: summary.md, report.html and `vlmeval-steps compare` use these, so
one score, interval or p-value reads the same everywhere (the CSV files keep full precision)."""
from __future__ import annotations

import math

#: decimals of a score, a difference and the ± of an interval (in the metric's unit)
DIGITS = 2
#: decimals of a p-value (more when the resampling resolves smaller ones: 10,000 resamples -> 4)
P_DIGITS = 3


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def score(value, empty: str = "") -> str:
    """62.30"""
    return empty if missing(value) else f"{value:.{DIGITS}f}"


def signed(value) -> str:
    """+1.25 (a difference)"""
    return f"{value:+.{DIGITS}f}"


def plus_minus(low: float, high: float) -> str:
    """± half the interval's width: '± 1.25'."""
    return f"± {(high - low) / 2:.{DIGITS}f}"


def interval(low: float, high: float, sign: bool = False) -> str:
    """[60.10, 64.50], or [+0.40, +2.10] for a difference."""
    f = signed if sign else score
    return f"[{f(low)}, {f(high)}]"


def _p_digits(resamples: int | None) -> int:
    return P_DIGITS if not resamples else max(P_DIGITS, math.ceil(math.log10(resamples + 1)) - 1)


def bootstrap_p(p: float, resamples: int) -> str:
    """A bootstrap p-value, (k + 1) / (B + 1), for a table's p column: never below 1 / (B + 1), so the
    smallest one is written as a bound ('<= 0.001' for 1,000 resamples) rather than a spuriously exact
    number; otherwise fixed digits ('0.034')."""
    digits = _p_digits(resamples)
    floor = 1 / (resamples + 1)
    if p < 1.5 * floor:  # k = 0: no resample as extreme as the observed difference
        bound = math.ceil(floor * 10 ** digits - 1e-9) / 10 ** digits
        return f"<= {bound:.{digits}f}"
    return f"{p:.{digits}f}"


def exact_p(p: float) -> str:
    """An exact test's p-value (McNemar) with the same digits: '< 0.001' below what they show."""
    if p < 0.5 * 10 ** -P_DIGITS:
        return f"< {10 ** -P_DIGITS:.{P_DIGITS}f}"
    return f"{p:.{P_DIGITS}f}"


def p_text(value: str) -> str:
    """'<= 0.001' -> 'p <= 0.001'; '0.034' -> 'p = 0.034' (in running text)."""
    return f"p {value}" if value.startswith("<") else f"p = {value}"
