"""Run a per-row extraction over a prediction frame, in threads when the judge allows it.

A judge may say how many requests it takes at once with an `nproc` attribute (upstream's
judge `nproc`); without one, rows are done one after the other. Results keep the row order.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tqdm import tqdm


def map_rows(fn, data, judge=None) -> list:
    rows = data.to_dict("records")
    workers = int(getattr(judge, "nproc", 1) or 1) if judge is not None else 1
    # an LLM judge can take minutes: show progress (rules alone finish in a moment, so no bar then)
    bar = dict(total=len(rows), desc=f"judge {getattr(judge, 'name', '')}", unit="row", mininterval=1.0,
               disable=judge is None)
    if workers <= 1 or len(rows) <= 1:
        return [fn(r) for r in tqdm(rows, **bar)]
    with ThreadPoolExecutor(max_workers=min(workers, len(rows))) as pool:
        return list(tqdm(pool.map(fn, rows), **bar))
