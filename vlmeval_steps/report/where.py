"""The message at the end of a successful run: each configured pair's score and where the files are."""
from __future__ import annotations

from pathlib import Path


def failure_rates(provenance: dict) -> str:
    """Run.py's status figures for one pair: answers that failed at inference, and answers nothing could extract
    (no rule matched and no judge settled them)."""
    rows = int(provenance.get("rows") or 0)
    if not rows:
        return ""
    failed = int(provenance.get("failed_predictions") or 0)
    unparsed = int((provenance.get("extraction") or {}).get("none") or 0)
    return (f"inference failed {failed}/{rows} ({100 * failed / rows:.1f} %), "
            f"not extracted {unparsed}/{rows} ({100 * unparsed / rows:.1f} %)")


def results_message(pairs: list[tuple[str, str]], workdir: str | Path = ".", requested: set[str] | None = None) -> str:
    """`requested`: the files the run was asked for (None: the default target, every file); a file the
    run did not build is not pointed at (`--mode infer` leaves the scores and the report as they were)."""
    from . import formats
    from .summary import read_cell

    def wanted(path: Path) -> bool:
        return requested is None or path.relative_to(workdir).as_posix() in requested

    workdir = Path(workdir).resolve()
    results = workdir / "results"
    lines = []
    for model, dataset in pairs:
        acc = results / model / f"{dataset}_acc.csv"
        xlsx = results / model / f"{dataset}.xlsx"
        if acc.exists() and wanted(acc):
            rates = ""
            try:
                cell = read_cell(results, model, dataset)
                score = formats.score(cell.value, empty="–")
                what = f"{score:>8}  {cell.score.metric.label}, {cell.score.metric.unit}"
                rates = failure_rates(cell.provenance)
            except Exception as exc:  # noqa: BLE001 - a summary line must never fail the run
                what = f"(unreadable: {exc})"
            lines.append(f"  {model} / {dataset}: {what}\n      {acc.relative_to(workdir)}"
                         + (f"\n      {rates}" if rates else ""))
        elif xlsx.exists() and (wanted(xlsx) or wanted(acc)):
            lines.append(f"  {model} / {dataset}: predictions only\n      {xlsx.relative_to(workdir)}")
    if not lines:
        return ""
    out = [f"\nResults in {workdir}:", *lines]
    for name, what in (("summary.md", "Summary"), ("report.html", "Report")):
        path = results / name
        if path.exists() and wanted(path):
            out.append(f"{what}: {path.relative_to(workdir)}" + (f"  (open {path.as_uri()})" if name.endswith(".html")
                                                                else ""))
    out.append("Logs: logs/{stage}/..., one file per job")
    return "\n".join(out)
