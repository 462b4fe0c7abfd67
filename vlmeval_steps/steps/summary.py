"""summary and report: the leaderboard of every configured model x benchmark, as tables and as a web page."""
from __future__ import annotations

from pathlib import Path

from ..report.summary import collect, write


def run_summary(results: str | Path, pairs: list[tuple[str, str]] | None, out_csv: str | Path, out_md: str | Path,
                out_provenance: str | Path | None = None):
    cells = collect(results, pairs)
    write(cells, out_csv, out_md, out_provenance)
    return cells


def run_report(results: str | Path, pairs: list[tuple[str, str]] | None, out: str | Path):
    from ..report.html import render  # matplotlib is imported only here

    cells = collect(results, pairs)
    render(cells, out)
    return cells
