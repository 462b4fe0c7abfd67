"""How long the summary's statistics take at scale: M models x D benchmarks of N rows, B resamples.

    python perf/bench_stats.py                          # 50 x 40 x 2000, 1000 resamples (issue 13)
    python perf/bench_stats.py --models 5 --datasets 4 --report

It writes, under a temp dir, what the score stage writes for each pair (`_acc.csv`, `_rows.csv`,
`_rows.json`, `_provenance.json`) for a plain accuracy benchmark (a mix of row-level and circular
MCQ-like units), then times `vlmeval-steps summary` in-process: reading every outcome file, one
interval per cell and every pairwise comparison per benchmark (M(M-1)/2 each), and writing
summary.csv/.md. With --report it also times the HTML report (per-category intervals, charts).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def write_results(results: Path, n_models: int, n_datasets: int, n_rows: int) -> None:
    from vlmeval_steps.stats.outcomes import Outcomes, write
    from vlmeval_steps.stats.spec import RatioSpec

    rng = np.random.default_rng(0)
    spec = RatioSpec(terms=(("score", "one"),), scale=100.0, unit_name="question", groups=("category",),
                     binary="score")
    for d in range(n_datasets):
        name = f"Bench{d:02d}"
        difficulty = rng.random(n_rows)
        cats = [f"cat{i % 12}" for i in range(n_rows)]
        for m in range(n_models):
            skill = 0.3 + 0.6 * m / max(1, n_models - 1)
            hits = (rng.random(n_rows) < skill * (1.2 - 0.4 * difficulty)).astype(int)
            folder = results / f"Model{m:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            rows = pd.DataFrame({"index": np.arange(n_rows).astype(str), "unit": np.arange(n_rows).astype(str),
                                 "score": hits, "one": 1, "category": cats, "question": "q", "prediction": "p",
                                 "answer": "A", "extracted": "A", "correct": hits, "method": "rule"})
            write(Outcomes(rows, spec), folder / f"{name}_rows.csv", folder / f"{name}_rows.json")
            by_cat = rows.groupby("category")["score"].mean()
            acc = pd.DataFrame({"split": ["none"], "Overall": [hits.mean()], **{c: [v] for c, v in by_cat.items()}})
            acc.to_csv(folder / f"{name}_acc.csv", index=False)
            (folder / f"{name}_provenance.json").write_text(
                '{"dataset_type": "MCQ", "dataset_md5": "%032d", "rows": %d}' % (d, n_rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=int, default=50)
    ap.add_argument("--datasets", type=int, default=40)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--report", action="store_true", help="also time the HTML report")
    args = ap.parse_args()
    from vlmeval_steps.report.intervals import Settings
    from vlmeval_steps.steps.summary import run_report, run_summary

    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results"
        t0 = time.perf_counter()
        write_results(results, args.models, args.datasets, args.rows)
        print(f"wrote {args.models} x {args.datasets} pairs of {args.rows} rows in {time.perf_counter() - t0:.1f} s")
        settings = Settings(resamples=args.resamples)
        t0 = time.perf_counter()
        run_summary(results, None, results / "summary.csv", results / "summary.md", results / "summary_provenance.csv",
                    settings)
        took = time.perf_counter() - t0
        pairs = args.datasets * args.models * (args.models - 1) // 2
        print(f"summary: {took:.1f} s for {args.models * args.datasets} intervals and {pairs} paired comparisons "
              f"({args.resamples} resamples); peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
              f"; {os.cpu_count()} CPUs")
        if args.report:
            t0 = time.perf_counter()
            run_report(results, None, results / "report.html", settings)
            print(f"report: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
