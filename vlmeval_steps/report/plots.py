"""The report's charts, drawn with matplotlib and returned as inline SVG text."""
from __future__ import annotations

import io
import math
import re

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from . import formats  # noqa: E402

PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974",
           "#64B5CD"]
METHOD_COLOURS = {"rule": "#55A868", "judge": "#4C72B0", "none": "#BBBBBB"}
FAILED = "#C44E52"
HEAT = LinearSegmentedColormap.from_list("score", ["#fbeaea", "#fdf6e3", "#e3f1e5", "#55A868"])

plt.rcParams.update({
    "font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 10, "axes.titleweight": "bold",
    "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#888888",
    "axes.grid": True, "axes.grid.axis": "x", "grid.color": "#e6e6e6", "axes.axisbelow": True,
    "svg.fonttype": "none",  # text stays text: smaller files, crisp and searchable in the browser
})


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def axis_max(unit: str, values: list[float]) -> float:
    """Bars on a % scale run to 100, on a 'max N' scale to N; otherwise a little past the largest."""
    if unit == "%":
        return 100.0
    m = re.search(r"max (\d+(?:\.\d+)?)", unit)
    if m:
        return float(m.group(1))
    top = max([v for v in values if v is not None] or [1.0])
    return top * 1.15 if top > 0 else 1.0


def to_svg(fig, name: str) -> str:
    plt.rcParams["svg.hashsalt"] = name  # stable ids per chart, so reruns write the same file
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]  # drop the XML prolog and doctype: the SVG sits inside HTML
    return text.replace("<svg ", f'<svg class="plot" role="img" aria-label="{name}" ', 1)


def label_position(value: float, interval, limit: float) -> tuple[float, str, bool]:
    """(x, alignment, inside the bar) of a bar's value label, clear of its error bar: beyond the whisker's
    upper end while there is room on the axis; else inside the bar, short of the whisker's lower end
    (a label at the bar's end sat under the whisker and was hidden by it)."""
    pad = 0.015 * limit
    low, high = (min(value, interval[0]), max(value, interval[1])) if interval else (value, value)
    room_after = high + pad <= 0.8 * limit     # a label is about a fifth of a chart's width
    room_inside = low - pad >= 0.22 * limit
    if room_after or not room_inside:  # no room either way: beyond the whisker, past the axis' end
        return high + pad, "left", False
    return low - pad, "right", True


def _label_bars(ax, bars, values, fmt, limit, intervals=None):
    for bar, v, iv in zip(bars, values, intervals or [None] * len(values)):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        x, ha, inside = label_position(v, iv, limit)
        ax.text(x, bar.get_y() + bar.get_height() / 2, fmt(v), va="center", ha=ha,
                fontsize=8, color="white" if inside else "#333333")


def scores_chart(benchmarks: list[dict], models: list[str]) -> str:
    """One panel per benchmark: each model's headline score as a horizontal bar, models in a fixed
    order and colour across panels."""
    n = len(benchmarks)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    height = max(1.25, 0.32 * len(models) + 0.95)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, height * nrows), squeeze=False)
    for ax, bench in zip(axes.flat, benchmarks):
        values = [bench["scores"].get(m) for m in models]
        intervals = [bench.get("errors", {}).get(m) for m in models]
        limit = axis_max(bench["unit"], values + [iv[1] for iv in intervals if iv])  # whiskers stay on the axis
        ys = list(range(len(models)))[::-1]
        bars = ax.barh(ys, [v or 0 for v in values], color=[colour(i) for i in range(len(models))], height=0.65)
        _error_bars(ax, ys, values, intervals)
        ax.set_yticks(ys, models)
        ax.set_xlim(0, limit)
        ax.set_title(bench["name"], loc="left")
        ax.set_xlabel(f"{bench['metric']} · {bench['unit']}", fontsize=8, color="#555555")
        _label_bars(ax, bars, values, formats.score, limit, intervals)
        for y, v in zip(ys, values):
            if v is None:
                ax.text(0.01 * limit, y, "no score", va="center", fontsize=8, color=FAILED)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return to_svg(fig, "scores")


def _error_bars(ax, ys, values, intervals):
    """The bootstrap interval of each bar, where there is one."""
    pts = [(y, v, iv) for y, v, iv in zip(ys, values, intervals) if v is not None and iv is not None]
    if pts:
        ax.errorbar([v for _, v, _ in pts], [y for y, _, _ in pts],
                    xerr=[[max(0.0, v - iv[0]) for _, v, iv in pts], [max(0.0, iv[1] - v) for _, v, iv in pts]],
                    fmt="none", ecolor="#222222", elinewidth=1, capsize=2.5, zorder=3)


def as_bars(n_models: int, n_categories: int) -> bool:
    """Grouped bars while they stay readable; a heat map with the numbers written in beyond that."""
    return (n_models == 1 and n_categories <= 40) or (n_models <= 3 and n_models * n_categories <= 36)


def categories_chart(name: str, unit: str, models: list[str], categories: dict[str, dict[str, float]],
                     errors: dict | None = None, counts: dict | None = None, title: str | None = None) -> str:
    """Per-category scores of one benchmark: bars for a few models (with their intervals), a heat map
    for many. `counts` (category -> rows) labels each category with the rows behind it."""
    errors, counts = errors or {}, counts or {}
    cats = list(dict.fromkeys(c for m in models for c in categories.get(m, {})))
    values = [v for m in models for v in categories.get(m, {}).values()]
    limit = axis_max(unit, values)
    if len(models) == 1:  # one model: its strongest categories first
        cats.sort(key=lambda c: -categories[models[0]].get(c, float("-inf")))
    if as_bars(len(models), len(cats)):
        highs = [iv[1] for m in models for iv in errors.get(m, {}).values() if iv]
        limit = axis_max(unit, values + highs)  # whiskers stay on the axis
        per = 0.8 / len(models)
        fig, ax = plt.subplots(figsize=(8.5, max(1.4, len(cats) * (0.12 + 0.2 * len(models)) + 0.8)))
        ys = list(range(len(cats)))[::-1]
        for i, m in enumerate(models):
            vals = [categories.get(m, {}).get(c) for c in cats]
            offs = [y + 0.4 - per * (i + 0.5) for y in ys]
            bars = ax.barh(offs, [v or 0 for v in vals], height=per * 0.92, color=colour(i), label=m)
            intervals = [errors.get(m, {}).get(c) for c in cats]
            _error_bars(ax, offs, vals, intervals)
            _label_bars(ax, bars, vals, formats.score, limit, intervals)
        ax.set_yticks(ys, [_with_n(c, counts) for c in cats])
        ax.set_xlim(0, limit)
        ax.set_xlabel(unit, fontsize=8, color="#555555")  # models are told apart by the page's colour key
    else:
        import numpy as np

        grid = np.array([[categories.get(m, {}).get(c, np.nan) for m in models] for c in cats], dtype=float)
        label_in = 0.065 * max(len(c) for c in cats)  # room for the longest category name
        fig, ax = plt.subplots(figsize=(min(0.6 + label_in + 0.62 * len(models), 14), 0.3 * len(cats) + 1.3))
        im = ax.imshow(grid, aspect="auto", cmap=HEAT, vmin=0, vmax=limit)
        ax.set_xlabel(unit, fontsize=8, color="#555555")
        ax.set_xticks(range(len(models)), models, rotation=30, ha="right")
        ax.set_yticks(range(len(cats)), [_with_n(c, counts) for c in cats])
        ax.grid(False)
        if grid.size <= 600:  # the numbers are written in; the colour only guides the eye
            for (r, c), v in np.ndenumerate(grid):
                if not np.isnan(v):
                    ax.text(c, r, formats.score(v), ha="center", va="center", fontsize=7.5, color="#222222")
        else:
            fig.colorbar(im, ax=ax, fraction=0.05, pad=0.02, label=unit)
    ax.set_title(title or name, loc="left")
    fig.tight_layout()
    return to_svg(fig, f"categories-{title or name}")


def _with_n(category: str, counts: dict) -> str:
    return f"{category} (n={counts[category]})" if category in counts else category


def failures_chart(pairs: list[dict]) -> str:
    """Failed predictions and how answers were extracted: bars per pair for a few pairs, a
    models x benchmarks grid for many."""
    if len(pairs) > 8:
        return _failures_grid(pairs)
    labels = [f"{p['model']} · {p['dataset']}" for p in pairs]
    ys = list(range(len(pairs)))[::-1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, max(1.5, 0.34 * len(pairs) + 1.1)),
                                      gridspec_kw={"width_ratios": [1, 1.6]})
    failed = [p["failed"] for p in pairs]
    top = max(failed + [1])
    bars = left.barh(ys, failed, color=FAILED, height=0.6)
    left.set_yticks(ys, labels)
    left.set_xlim(0, top * 1.35)
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_title("Failed predictions", loc="left")
    left.set_xlabel("rows whose model answer failed", fontsize=8, color="#555555")
    for bar, v, p in zip(bars, failed, pairs):
        share = f" ({100 * v / p['rows']:.1f}%)" if p["rows"] else ""
        left.text(bar.get_width() + top * 0.02, bar.get_y() + bar.get_height() / 2, f"{v}{share}", va="center",
                  fontsize=8, color=FAILED if v else "#555555")
    methods = _methods(pairs)
    start = [0] * len(pairs)
    for i, m in enumerate(methods):
        counts = [p["extraction"].get(m, 0) for p in pairs]
        right.barh(ys, counts, left=start, height=0.6, label=m, color=METHOD_COLOURS.get(m, colour(i + 4)))
        start = [s + c for s, c in zip(start, counts)]
    right.set_yticks(ys, [""] * len(ys))
    right.set_title("Answer extraction", loc="left")
    right.set_xlabel("rows, by how the answer was extracted", fontsize=8, color="#555555")
    if methods:
        right.legend(loc="lower right", bbox_to_anchor=(1, 1.01), fontsize=8, ncols=len(methods), frameon=False,
                     borderaxespad=0, handlelength=1.2, columnspacing=1.0)
    right.set_xlim(0, max(start + [1]) * 1.02)
    fig.tight_layout()
    return to_svg(fig, "failures")


def _methods(pairs: list[dict]) -> list[str]:
    methods = list(dict.fromkeys([*METHOD_COLOURS, *(m for p in pairs for m in p["extraction"])]))
    return [m for m in methods if any(p["extraction"].get(m) for p in pairs)]


def _failures_grid(pairs: list[dict]) -> str:
    import numpy as np

    models = list(dict.fromkeys(p["model"] for p in pairs))
    datasets = list(dict.fromkeys(p["dataset"] for p in pairs))
    failed = np.full((len(models), len(datasets)), np.nan)
    unextracted = np.full_like(failed, np.nan)
    for p in pairs:
        r, c = models.index(p["model"]), datasets.index(p["dataset"])
        failed[r, c] = p["failed"]
        total = sum(p["extraction"].values()) or p["rows"]
        unextracted[r, c] = 100 * p["extraction"].get("none", 0) / total if total else np.nan
    fig, (left, right) = plt.subplots(2, 1, figsize=(min(2.0 + 0.85 * len(datasets), 11),
                                                     2 * (0.34 * len(models) + 1.7)))
    for ax, grid, title, cmap, fmt in ((left, failed, "Failed predictions (rows)", "Reds", "{:.0f}"),
                                       (right, unextracted, "No answer extracted (% of rows)", "Greys", "{:.1f}")):
        vmax = max(1.0, float(np.nanmax(grid)) * 1.3)
        ax.imshow(grid, aspect="auto", cmap=cmap, vmin=0, vmax=vmax)
        ax.set_xticks(range(len(datasets)), datasets, rotation=35, ha="right")
        ax.set_yticks(range(len(models)), models)
        ax.grid(False)
        ax.set_title(title, loc="left")
        for (r, c), v in np.ndenumerate(grid):
            if not np.isnan(v):
                alarm = ax is left and v > 0
                dark = v > 0.55 * vmax  # white on the darkest cells, so the number stays legible
                ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=8,
                        color="white" if dark else FAILED if alarm else "#333333",
                        fontweight="bold" if alarm else None)
    fig.tight_layout()
    return to_svg(fig, "failures")
