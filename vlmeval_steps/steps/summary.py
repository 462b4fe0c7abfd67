"""summary and report: the leaderboard of every result in the work dir, as tables and as a web page,
with each score's interval and pairwise comparisons."""
from __future__ import annotations

from pathlib import Path

from ..report.summary import summarise, write


def run_summary(results: str | Path, pairs: list[tuple[str, str]] | None, out_csv: str | Path, out_md: str | Path,
                out_provenance: str | Path | None = None, settings=None,
                expected: list[tuple[str, str]] | None = None):
    cells, stats, pairwise, missing = summarise(results, pairs, settings, expected)
    write(cells, out_csv, out_md, out_provenance, stats, pairwise, settings, missing,
          set(expected) if expected is not None else None)
    return cells


def run_report(results: str | Path, pairs: list[tuple[str, str]] | None, out: str | Path, settings=None,
               expected: list[tuple[str, str]] | None = None):
    from ..report.html import render  # matplotlib is imported only here

    cells, stats, pairwise, missing = summarise(results, pairs, settings, expected, categories=True)
    render(cells, out, stats=stats, pairwise=pairwise, settings=settings, missing=missing,
           configured=set(expected) if expected is not None else None)
    return cells
