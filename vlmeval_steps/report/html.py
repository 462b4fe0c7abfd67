"""results/report.html: one self-contained page (inline CSS and SVG, nothing fetched) with the
leaderboard, per-benchmark and per-category charts, failures and provenance."""
from __future__ import annotations

import contextlib
import datetime
import html
import logging
import os
import warnings
from pathlib import Path

from .. import __version__
from ..fileio import atomic_write_text
from . import formats, samples
from .summary import Cell, leaderboard_columns, wide

log = logging.getLogger(__name__)

CSS = """
:root { --ink:#222; --muted:#666; --line:#e3e3e3; --accent:#4C72B0; --bad:#C44E52; }
* { box-sizing: border-box; }
body { font: 14px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", Roboto, Helvetica, Arial, sans-serif;
       color: var(--ink); margin: 0; background: #f6f7f9; }
header { background: #1f2a3a; color: #fff; padding: 22px 32px 18px; }
header h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; }
header p { margin: 0; color: #c9d3e0; font-size: 13px; }
nav { background: #fff; border-bottom: 1px solid var(--line); padding: 8px 32px; position: sticky; top: 0; z-index: 1; }
nav a { color: var(--accent); margin-right: 18px; text-decoration: none; font-size: 13px; }
main { max-width: 1260px; margin: 0 auto; padding: 8px 24px 40px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin-top: 18px; }
h2 { font-size: 17px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 18px 0 4px; }
p.hint { color: var(--muted); margin: 0 0 10px; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 5px 9px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #fafafa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.board th { white-space: nowrap; }
table.board th.num { white-space: normal; max-width: 120px; vertical-align: bottom; }
table.board td.num { min-width: 64px; }
table.board td.best { font-weight: 700; }
table.prov { width: 100%; }
table.prov td { overflow-wrap: anywhere; word-break: break-word; }  /* hashes, paths: wrap, never scroll */
.key { margin: 4px 0 0; font-size: 13px; }
.key span { display: inline-block; margin-right: 16px; white-space: nowrap; }
.key i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px;
         vertical-align: -1px; }
.scroll { overflow-x: auto; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 11.5px; }
.bad { color: var(--bad); font-weight: 600; }
.ok { color: #2e7d32; }
svg.plot { max-width: 100%; height: auto; display: block; margin: 6px 0; }
.charts { display: flex; flex-wrap: wrap; gap: 6px 36px; align-items: flex-start; }
ul.legend { margin: 8px 0 0; padding-left: 18px; color: var(--muted); font-size: 13px; }
img.thumb { max-width: 96px; max-height: 96px; border: 1px solid var(--line); margin-right: 3px; }
table.samples td { max-width: 360px; }
.opts { color: var(--muted); font-size: 12px; margin-top: 3px; }
h4 { font-size: 13px; margin: 14px 0 4px; }
.tie { color: var(--muted); }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 10px; }
"""


#: tests set this: a chart that warns fails the report instead of logging the warning
STRICT_CHARTS = False


@contextlib.contextmanager
def quiet_charts():
    """No matplotlib warnings on the console: they go to the log file at debug level (tests make them errors)."""
    with warnings.catch_warnings(record=not STRICT_CHARTS) as caught:
        if STRICT_CHARTS:
            warnings.simplefilter("error")
        yield
    for w in caught or []:
        log.debug("chart warning: %s (%s:%s)", w.message, w.filename, w.lineno)


def esc(value) -> str:
    return html.escape("" if value is None else str(value))


def _fmt(value) -> str:
    return formats.score(value, empty="–")


def _fraction(value: float, unit: str) -> float:
    from .plots import axis_max

    top = axis_max(unit, [value])
    return max(0.0, min(1.0, value / top)) if top else 0.0


def _heat(value: float | None, unit: str) -> str:
    """Cell background from pale red (low) to green (high) on the metric's own scale."""
    if value is None or value != value:
        return ""
    f = _fraction(value, unit)
    lo, hi = (251, 234, 234), (197, 228, 203)
    rgb = tuple(round(a + (b - a) * f) for a, b in zip(lo, hi))
    return f' style="background: rgb{rgb}"'


def _breakable(name: str) -> str:
    """Long benchmark names may wrap after an underscore instead of widening the table."""
    return "_<wbr>".join(esc(part) for part in str(name).split("_"))


def colour_key(models: list[str]) -> str:
    from .plots import colour

    return '<p class="key">' + "".join(f'<span><i style="background:{colour(i)}"></i>{esc(m)}</span>'
                                       for i, m in enumerate(models)) + "</p>"


def _when(stamp) -> str:
    """'2026-01-01T10:20:30+00:00' -> '2026-01-01 10:20' (UTC, as the score stage writes it)."""
    return str(stamp or "–").replace("T", " ")[:16]


def _tokens(usage: dict | None) -> str:
    """{'infer': {'prompt_tokens': .., 'completion_tokens': ..}, 'judge': {...}} as a short text."""
    if not usage:
        return "–"
    def total(counts: dict) -> int:
        if "total_tokens" in counts:
            return int(counts["total_tokens"] or 0)
        return sum(int(counts.get(k) or 0) for k in ("prompt_tokens", "completion_tokens"))

    return "; ".join(f"{stage} {total(counts):,}" for stage, counts in usage.items())


def _link(path: Path, base: Path, text: str) -> str:
    return f'<a href="{esc(os.path.relpath(path, base))}">{esc(text)}</a>'


def leaderboard(cells: list[Cell], first: dict[str, Cell], stats: dict | None = None, tied: dict | None = None) -> str:
    stats, tied = stats or {}, tied or {}
    table = wide(cells)
    index = {(c.model, c.dataset): c for c in cells}
    head = "".join(f'<th class="num" title="{esc(first[d].score.metric.label)}">{_breakable(d)}</th>'
                   for d in table.columns)
    rows = []
    for model, row in table.iterrows():
        tds = []
        for d, v in row.items():
            cell = index.get((model, d))
            if cell is None:
                tds.append('<td class="num">–</td>')
                continue
            p = cell.provenance
            tip = "\n".join(f"{k}: {p.get(k)}" for k in ("dataset_md5", "judge", "prompt_id", "limit", "rows",
                                                           "failed_predictions") if p.get(k) not in (None, ""))
            if cell.score.note:
                tip += f"\nnote: {cell.score.note}"
            st = stats.get((model, d))
            est = st.estimate if st is not None else None
            half = ""
            if est is not None:
                tip += f"\ninterval: {formats.interval(est.low, est.high)} over {est.n_units} {est.unit_name}s"
                half = f' <span class="tie">{formats.plus_minus(est.low, est.high)}</span>'
            best = " best" if len(table) > 1 and v == table[d].max() else ""
            tie = ' <span class="tie" title="not significantly different from the best">≈</span>' \
                if model in tied.get(d, set()) and not best else ""
            tds.append(f'<td class="num{best}" title="{esc(tip)}"{_heat(cell.value, cell.score.metric.unit)}>'
                       f"{_fmt(cell.value)}{half}{tie}</td>")
        rows.append(f"<tr><th>{esc(model)}</th>{''.join(tds)}</tr>")
    legend = "".join(
        f"<li><b>{esc(d)}</b> ({esc(c.dataset_type or 'type unknown')}): {esc(c.score.metric.label)}, "
        f"{esc(c.score.metric.unit)}" + (f"; first {esc(c.provenance['limit'])} rows only" if c.provenance.get("limit")
                                         else "") + "</li>" for d, c in first.items())
    return (f'<div class="scroll"><table class="board"><tr><th>model</th>{head}</tr>{"".join(rows)}</table></div>'
            f'<ul class="legend">{legend}</ul>')


def _identity(p: dict) -> str:
    ident = p.get("model_identity") or {}
    if ident.get("sha256"):
        return f"{ident['sha256'][:12]} ({ident.get('path')})"
    if ident.get("served_model"):
        return f"{ident['served_model']} @ {ident.get('api_base') or 'default endpoint'}"
    return "–"


def _versions(p: dict) -> str:
    v = p.get("versions") or {}
    return ", ".join(f"{k} {v[k]}" for k in ("vlmeval-steps", "torch", "transformers", "openai") if v.get(k)) or "–"


def _traces(provenance: dict) -> str:
    """'N rows (M cut off), mean L chars' for a thinking model's scores (reasoning.py); '' without traces."""
    t = provenance.get("reasoning_traces") or {}
    if not t.get("rows_with_trace"):
        return ""
    cut = f" ({t['unterminated']} cut off)" if t.get("unterminated") else ""
    return f"{t['rows_with_trace']} rows{cut}, mean {t.get('trace_chars_mean', 0):,} chars"


def provenance_table(cells: list[Cell], base: Path, configured: set | None = None) -> str:
    """Two tables, so that neither is wider than the page: what each score was computed from, then which
    code, weights and run produced it."""
    tokens = any(c.provenance.get("token_usage") for c in cells)  # API models and LLM judges only
    traces = any(_traces(c.provenance) for c in cells)  # thinking models only
    # the version column only when scores come from different versions (the page header names the current one)
    versions = len({c.provenance.get("package_version") for c in cells}) > 1
    inputs_head = ["model", "dataset", "score", "dataset md5", "judge", "prompt id", "limit", "rows", "failed",
                   *(["reasoning traces"] if traces else []), *(["tokens"] if tokens else [])]
    software_head = ["model", "dataset", "scored (UTC)", *(["version"] if versions else []),
                     *(["in config"] if configured is not None else []), "weights", "packages", "git commit"]
    inputs, software = [], []
    for c in cells:
        p = c.provenance
        failed = p.get("failed_predictions")
        xlsx = _link(c.acc_path.with_name(f"{c.dataset}.xlsx"), base, "xlsx")
        who = [f"<td>{esc(c.model)}</td>", f"<td>{_link(c.acc_path, base, c.dataset)} ({xlsx})</td>"]
        inputs.append("<tr>" + "".join([
            *who, f'<td class="num">{_fmt(c.value)}</td>',
            f'<td class="mono">{esc(p.get("dataset_md5") or "–")}</td>', f"<td>{esc(p.get('judge') or '–')}</td>",
            f"<td>{esc(p.get('prompt_id') or '–')}</td>", f'<td class="num">{esc(p.get("limit") or "all")}</td>',
            f'<td class="num">{esc(p.get("rows", "–"))}</td>',
            f'<td class="num{" bad" if failed else ""}">{esc("–" if failed is None else failed)}</td>',
            *([f"<td>{esc(_traces(p) or '–')}</td>"] if traces else []),
            *([f"<td>{esc(_tokens(p.get('token_usage')))}</td>"] if tokens else []),
        ]) + "</tr>")
        commit = p.get("git_commit") or "–"
        software.append("<tr>" + "".join([
            *who, f"<td>{esc(_when(p.get('scored_at')))}</td>",
            *([f"<td>{esc(p.get('package_version') or '–')}</td>"] if versions else []),
            *([f"<td>{'yes' if (c.model, c.dataset) in configured else 'earlier run'}</td>"]
              if configured is not None else []),
            f'<td class="mono">{esc(_identity(p))}</td>', f"<td>{esc(_versions(p))}</td>",
            f'<td class="mono">{esc(commit[:12] + ("+dirty" if "dirty" in commit else ""))}</td>',
        ]) + "</tr>")

    def table(head, rows, cls):
        return (f'<div class="scroll"><table class="prov {cls}"><tr>' + "".join(f"<th>{h}</th>" for h in head)
                + "</tr>" + "".join(rows) + "</table></div>")

    return ("<h3>What each score was computed from</h3>" + table(inputs_head, inputs, "inputs")
            + "<h3>What produced it</h3>" + table(software_head, software, "software"))


def render(cells: list[Cell], out: str | Path, title: str = "vlmeval-steps report", stats: dict | None = None,
           pairwise: dict | None = None, settings=None, missing: list[dict] | None = None,
           configured: set | None = None) -> str:
    from . import plots
    from .intervals import tied_with_best

    stats, pairwise = stats or {}, pairwise or {}
    out = Path(out)
    base = out.resolve().parent
    all_models = list(dict.fromkeys(c.model for c in cells))
    board, trials = leaderboard_columns(cells)
    # trial runs (`_limitN`) have a table of their own; the charts, comparisons and examples are the leaderboard's
    trial_cells = [c for c in cells if c.dataset in trials]
    cells_all, cells = cells, [c for c in cells if c.dataset in board]
    models = list(dict.fromkeys(c.model for c in cells))
    first: dict[str, Cell] = {}
    for c in cells_all:
        first.setdefault(c.dataset, c)
    first_trials = {d: first[d] for d in trials}
    first = {d: first[d] for d in board}
    tied = {d: tied_with_best(d, cells, stats, pairwise) for d in first}

    def interval_of(x):
        st = stats.get((x.model, x.dataset))
        return (st.estimate.low, st.estimate.high) if st is not None and st.estimate is not None else None

    benchmarks = [dict(name=d, metric=c.score.metric.label, unit=c.score.metric.unit,
                       scores={x.model: x.value for x in cells if x.dataset == d},
                       errors={x.model: interval_of(x) for x in cells if x.dataset == d}) for d, c in first.items()]
    parts = []
    if missing:
        parts.append('<section id="missing"><h2>Not scored</h2><p class="hint"><span class="bad">'
                     f"{len(missing)} configured pair{'s have' if len(missing) != 1 else ' has'} no score</span> (a job failed or "
                     "has not run); every other pair is shown below. Their logs are under <code>logs/</code>.</p>"
                     '<table><tr><th>model</th><th>dataset</th><th>last output</th><th>logs</th></tr>'
                     + "".join(f"<tr><td>{esc(x['model'])}</td><td>{esc(x['dataset'])}</td><td>{esc(x['reached'])}</td>"
                               f"<td class=\"mono\">{esc(x['logs'])}</td></tr>" for x in missing) + "</table></section>")
    level = f"{settings.level:.0%}" if settings is not None else "95%"
    parts.append('<section id="leaderboard"><h2>Leaderboard</h2><p class="hint">Each benchmark\'s main score, in '
                 "the unit upstream's leaderboard uses, ± half its " + level + " bootstrap interval; ≈ marks a model "
                 "not significantly different from the best (paired bootstrap). The interval is about the sample of "
                 "questions, not the model's own randomness. Hover over a cell for its provenance.</p>"
                 + leaderboard(cells, first, stats, tied) + "</section>")
    if trial_cells:
        parts.append('<section id="trials"><h2>Trial runs</h2><p class="hint">Runs with <code>--limit N</code> '
                     "(<code>_limitN</code>): scored on the first N rows only, so not comparable with the full "
                     "benchmark and kept out of the leaderboard (a benchmark with trial runs only shows its largest "
                     "there).</p>" + leaderboard(trial_cells, first_trials, stats) + "</section>")
    key = colour_key(models) if len(models) > 1 else ""
    with quiet_charts():
        parts.append('<section id="scores"><h2>Scores by benchmark</h2>' + key
                     + plots.scores_chart(benchmarks, models) + "</section>")
        cat_parts, grouped_bars = category_charts(cells, first, models, stats)
    if cat_parts:
        grouped = key if grouped_bars else ""
        parts.append('<section id="categories"><h2>By category</h2><p class="hint">Each benchmark\'s score per '
                     "category, broad groups and fine categories in separate charts, with the number of rows behind "
                     "each category and its interval.</p>" + grouped + '<div class="charts">' + "".join(cat_parts)
                     + "</div></section>")
    pair_html = pairwise_tables(cells, first, stats, pairwise, settings.resamples if settings is not None else None)
    if pair_html:
        parts.append('<section id="pairwise"><h2>Pairwise comparisons</h2><p class="hint">Difference of the row '
                     f"model minus the column model, its paired {level} bootstrap interval and p-value (McNemar's exact "
                     "p for right/wrong outcomes); <b>bold</b>: significant. Below each table, the rows where the best "
                     "two disagree.</p>" + pair_html + "</section>")
    sample_html = "".join(samples.examples(c, stats[(c.model, c.dataset)].outcomes) for c in cells
                          if stats.get((c.model, c.dataset)) and stats[(c.model, c.dataset)].outcomes is not None)
    if sample_html:
        parts.append('<section id="samples"><h2>Example wrong and unparsed answers</h2><p class="hint">A few rows '
                     "per model and benchmark: the image, the question, the model's answer, what was extracted from it "
                     "and the ground truth.</p>" + sample_html + "</section>")
    cells = cells_all  # failures and provenance: every run, trials included
    pairs = [dict(model=c.model, dataset=c.dataset, failed=int(c.provenance.get("failed_predictions") or 0),
                  rows=int(c.provenance.get("rows") or 0), extraction=c.provenance.get("extraction") or {})
             for c in cells]
    total_failed = sum(p["failed"] for p in pairs)
    verdict = (f'<span class="bad">{total_failed} predictions failed</span> (asked again on the next run unless '
               "keep_failed is set)." if total_failed
               else '<span class="ok">No prediction failed.</span>')
    with quiet_charts():
        failures = plots.failures_chart(pairs) if pairs else ""
    parts.append(f'<section id="failures"><h2>Failures and answer extraction</h2><p class="hint">{verdict} '
                 "Extraction: <b>rule</b> = upstream's matching rules, <b>judge</b> = the LLM judge, <b>none</b> = "
                 "no answer found (scored as wrong).</p>" + failures + "</section>")
    parts.append('<section id="provenance"><h2>Provenance</h2><p class="hint">What produced each score. A dataset\'s '
                 "name opens its score table, <i>xlsx</i> its predictions; <i>weights</i> is a hash of the checkpoint's "
                 "config and index files (or the served model id).</p>" + provenance_table(cells, base, configured)
                 + "</section>")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = [("missing", "Not scored"), ("leaderboard", "Leaderboard"), ("trials", "Trial runs"), ("scores", "Scores"),
                ("categories", "Categories"), ("pairwise", "Comparisons"), ("samples", "Examples"),
                ("failures", "Failures"), ("provenance", "Provenance")]
    present = "".join(parts)
    nav = "".join(f'<a href="#{s}">{t}</a>' for s, t in sections if f'id="{s}"' in present)
    counts = (f"{len(all_models)} model{'s' * (len(all_models) != 1)} × "
              f"{len(first)} benchmark{'s' * (len(first) != 1)}")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title><style>{CSS}</style></head>
<body><header><h1>{esc(title)}</h1><p>{counts} · generated {now} · vlmeval-steps {esc(__version__)}</p></header>
<nav>{nav}</nav>
<main>{''.join(parts)}</main>
<footer>Scores follow VLMEvalKit's metric tables; see results/summary.md for the same numbers as text.</footer>
</body></html>
"""
    atomic_write_text(out, page)
    log.info("report written to %s", out)
    return page


GROUP_TITLES = {"split": "split", "l2-category": "broad groups", "category": "fine categories",
                "score category": "score categories", "capability": "capabilities", "task": "tasks", "skills": "skills"}


def category_charts(cells: list[Cell], first: dict[str, Cell], models: list[str], stats: dict) -> tuple[list, bool]:
    """One chart per benchmark and category column (broad groups and fine categories apart), from the
    per-row outcomes (with intervals and row counts); from the score table where there are none."""
    from . import plots

    charts, grouped_bars = [], False
    for d, c in first.items():
        unit = c.score.metric.category_unit or c.score.metric.unit
        here = [x for x in cells if x.dataset == d]
        columns = list(dict.fromkeys(col for x in here if (st := stats.get((x.model, d))) for col in st.categories))
        if columns:
            for col in columns:
                per_model = {x.model: {k: e.value for k, e in stats[(x.model, d)].categories.get(col, {}).items()}
                             for x in here if stats.get((x.model, d)) and stats[(x.model, d)].categories.get(col)}
                errors = {m: {k: (e.low, e.high) for k, e in stats[(m, d)].categories[col].items()} for m in per_model}
                counts = {}
                for m in per_model:
                    counts.update(stats[(m, d)].counts.get(col, {}))
                chart_models = [m for m in models if m in per_model]
                n_cats = len({k for v in per_model.values() for k in v})
                grouped_bars |= len(chart_models) > 1 and plots.as_bars(len(chart_models), n_cats)
                charts.append(plots.categories_chart(d, unit, chart_models, per_model, errors, counts,
                                                     title=f"{d} · {GROUP_TITLES.get(col, col)}"))
            continue
        per_model = {x.model: x.score.categories for x in here if x.score.categories}
        if per_model:
            chart_models = [m for m in models if m in per_model]
            n_cats = len({k for v in per_model.values() for k in v})
            grouped_bars |= len(chart_models) > 1 and plots.as_bars(len(chart_models), n_cats)
            charts.append(plots.categories_chart(d, unit, chart_models, per_model))
    return charts, grouped_bars


def pairwise_tables(cells: list[Cell], first: dict[str, Cell], stats: dict, pairwise: dict,
                    resamples: int | None = None, max_all: int = 8) -> str:
    """Per benchmark: every pair for a few models, each model against the best for many; and the rows
    where the best two disagree."""
    from ..stats.paired import Comparison
    from .compare import disagreements
    from .intervals import Settings, comparison_for

    resamples = resamples or Settings().resamples

    out = []
    for d in first:
        scored = sorted([c for c in cells if c.dataset == d and c.value is not None], key=lambda c: -c.value)
        if len(scored) < 2:
            continue
        rows_models = scored if len(scored) <= max_all else scored[:1]
        head = "".join(f"<th>{esc(c.model)}</th>" for c in scored[1:])
        trs = []
        for a in rows_models[:-1] if len(scored) <= max_all else rows_models:
            tds = []
            for b in scored[1:]:
                if scored.index(b) <= scored.index(a):
                    tds.append("<td></td>")
                    continue
                cmp = comparison_for(pairwise, d, a.model, b.model)
                if isinstance(cmp, Comparison):
                    mc = f"; McNemar {formats.p_text(formats.exact_p(cmp.mcnemar['p_value']))}" if cmp.mcnemar else ""
                    text = (f"{formats.signed(cmp.difference)} {formats.interval(cmp.low, cmp.high, sign=True)}<br>"
                            f"<span class=\"tie\">{esc(formats.p_text(formats.bootstrap_p(cmp.p_value, resamples)))}"
                            f"{esc(mc)}</span>")
                    tds.append(f'<td class="num">{"<b>" + text + "</b>" if cmp.significant else text}</td>')
                else:
                    tds.append(f'<td class="hint" title="{esc(cmp)}">not comparable</td>')
            trs.append(f"<tr><th>{esc(a.model)}</th>{''.join(tds)}</tr>")
        out.append(f"<h3>{esc(d)}</h3><div class=\"scroll\"><table><tr><th></th>{head}</tr>{''.join(trs)}</table></div>")
        sa, sb = stats.get((scored[0].model, d)), stats.get((scored[1].model, d))
        if sa and sb and sa.outcomes is not None and sb.outcomes is not None and isinstance(
                comparison_for(pairwise, d, scored[0].model, scored[1].model), Comparison):
            out.append(samples.disagreements_html(scored[0], scored[1], disagreements(sa.outcomes, sb.outcomes, sa.mask)))
    return "".join(out)
