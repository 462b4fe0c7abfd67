"""What a new reader of the report and the summary trips on (issue 25): options of multiple-choice rows,
one number format, labels clear of error bars, a provenance table that fits, trial runs apart, and
resampling units for video and document benchmarks."""
from __future__ import annotations

import html
import re
from functools import partial

import pandas as pd
import pytest

from stats_fixtures import CASES, mcq_case, write_scored
from vlmeval_steps.report.intervals import Settings
from vlmeval_steps.scoring import mcq
from vlmeval_steps.scoring.rows import candidate_lines, option_lines


def test_multiple_choice_rows_carry_their_options():
    df = pd.DataFrame({"index": [1, 2], "A": ["square", "red"], "B": ["circle", "blue"], "C": ["cross", None],
                       "E": ["not an option: D is missing", "x"]})
    assert option_lines(df) == ["A. square\nB. circle\nC. cross", "A. red\nB. blue"]
    assert option_lines(pd.DataFrame({"index": [1], "question": ["q"]})) is None
    assert candidate_lines([["up", "down"]]) == ["A. up\nB. down"]
    data, ext, score, outcomes_of = mcq_case("MMStar")
    out = outcomes_of(score(data, ext, "MMStar"), "MMStar")
    assert set(out.rows["options"]) == {"A. x\nB. y\nC. z"}


def test_example_tables_show_what_the_letters_stand_for(tmp_path):
    from vlmeval_steps.steps.summary import run_report

    results = tmp_path / "results"
    for seed, model in enumerate(("Alpha", "Beta")):
        write_scored(results, model, "MMStar", "MCQ", partial(mcq_case, "MMStar", seed=seed))
    rows = pd.read_csv(results / "Alpha" / "MMStar_rows.csv", dtype=str, keep_default_na=False)
    assert rows["options"].iloc[0] == "A. x\nB. y\nC. z"  # the per-row file has the options
    run_report(results, None, results / "report.html", Settings(resamples=50))
    page = (results / "report.html").read_text()
    samples = page[page.index('id="samples"'):page.index('id="failures"')]
    # the wrong answers (the fixture's wrong predictions are all 'B') name what B is, under the options listed
    assert '<div class="opts">A. x<br>B. y<br>C. z</div>' in samples
    assert "<td>B. y</td>" in samples
    pairs = page[page.index('id="pairwise"'):page.index('id="samples"')]
    assert '<div class="opts">A. x<br>B. y<br>C. z</div>' in pairs


def test_compare_lists_the_options_of_rows_where_models_disagree(tmp_path):
    from vlmeval_steps.report.compare import compare_text

    results = tmp_path / "results"
    for seed, model in enumerate(("Alpha", "Beta")):
        write_scored(results, model, "MMStar", "MCQ", partial(mcq_case, "MMStar", seed=seed))
    text = compare_text(results, "Alpha", "Beta", "MMStar", Settings(resamples=50))
    assert "    options: A. x; B. y; C. z\n" in text


def test_rows_written_before_options_existed_still_render(tmp_path):
    from vlmeval_steps.steps.summary import run_report

    results = tmp_path / "results"
    write_scored(results, "Alpha", "MMStar", "MCQ", CASES[0][2])
    path = results / "Alpha" / "MMStar_rows.csv"
    pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=["options"]).to_csv(path, index=False)
    run_report(results, None, results / "report.html", Settings(resamples=50))
    assert 'class="opts"' not in (results / "report.html").read_text()


# ----- 2. one number format ------------------------------------------------------------------------------
def test_one_formatter_for_scores_intervals_and_p_values():
    from vlmeval_steps.report import formats

    assert formats.score(62.3) == "62.30" and formats.score(float("nan")) == "" and formats.score(None, "–") == "–"
    assert formats.plus_minus(60.0, 62.5) == "± 1.25"
    assert formats.interval(-0.4, 2.1, sign=True) == "[-0.40, +2.10]" and formats.signed(1.234) == "+1.23"
    # below the resampling's resolution, 1 / (B + 1): a bound, never a spuriously exact number
    assert formats.bootstrap_p(1 / 1001, 1000) == "<= 0.001"
    assert formats.bootstrap_p(1 / 201, 200) == "<= 0.005"
    assert formats.bootstrap_p(1 / 10001, 10000) == "<= 0.0001"
    assert formats.bootstrap_p(2 / 1001, 1000) == "0.002" and formats.bootstrap_p(1.0, 1000) == "1.000"
    assert formats.exact_p(1e-9) == "< 0.001" and formats.exact_p(0.0342) == "0.034"
    assert formats.p_text("<= 0.001") == "p <= 0.001" and formats.p_text("0.034") == "p = 0.034"


def _two_models(results, n=300):
    """Alpha right on every question, Beta on about half: a difference no resample reaches zero from."""
    def case(seed):
        data, ext, score, outcomes_of = mcq_case("MMStar", n=n, seed=seed)
        ext = ext.assign(extracted=list(data["answer"]) if seed == 0 else
                         [a if i % 2 else "B" for i, a in enumerate(data["answer"])])
        return data, ext, score, outcomes_of
    for seed, model in enumerate(("Alpha", "Beta")):
        write_scored(results, model, "MMStar", "MCQ", partial(case, seed))


def test_summary_report_and_compare_write_numbers_alike(tmp_path):
    from vlmeval_steps.report.compare import compare_text
    from vlmeval_steps.steps.summary import run_report, run_summary

    results = tmp_path / "results"
    _two_models(results)
    settings = Settings(resamples=1000)
    run_summary(results, None, results / "summary.csv", results / "summary.md", None, settings)
    run_report(results, None, results / "report.html", settings)
    md = (results / "summary.md").read_text()
    page = html.unescape((results / "report.html").read_text())
    text = compare_text(results, "Alpha", "Beta", "MMStar", settings)
    # the same ± (two decimals) in summary.md and the report
    half = re.search(r"\| Beta \| ([\d.]+) (± [\d.]+) \|", md)
    assert half and re.fullmatch(r"± \d+\.\d\d", half[2])
    assert f"{half[1]} <span class=\"tie\">{half[2]}</span>" in page
    # the same p everywhere: a bound at 1 / (B + 1)
    assert "| <= 0.001 |" in md
    assert "p <= 0.001" in page and "p <= 0.001 (paired bootstrap; the smallest p 1000 resamples can give)" in text
    assert "McNemar p < 0.001" in page and "p < 0.001" in text and "| < 0.001 |" in md
    assert "0.000999" not in md + page + text
    # the difference and its interval with the same digits
    diff = re.search(r"difference \(Alpha - Beta\): (\+[\d.]+)  (\[[^\]]+\])", text)
    assert diff and f"| {diff[1]} | {diff[2]} |" in md and f"{diff[1]} {diff[2]}" in page


# ----- 3. labels clear of error bars; a provenance table that fits ---------------------------------------
@pytest.mark.parametrize("value, interval", [(50.0, (40.0, 61.0)), (90.0, (84.0, 95.0)), (97.0, (92.0, 100.0)),
                                             (10.0, (2.0, 30.0)), (70.0, None), (60.0, (5.0, 99.0))])
def test_value_labels_are_not_hidden_by_error_bars(value, interval):
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from vlmeval_steps.report import formats, plots

    for figsize in ((3.6, 1.6), (8.5, 1.6)):  # a panel of the scores chart; a category chart
        fig, ax = plt.subplots(figsize=figsize)
        bars = ax.barh([0], [value], height=0.65)
        plots._error_bars(ax, [0], [value], [interval])
        plots._label_bars(ax, bars, [value], formats.score, 100.0, [interval])
        ax.set_xlim(0, 100)
        fig.canvas.draw()
        label = ax.texts[0].get_window_extent()
        whisker = [c for c in ax.collections if isinstance(c, LineCollection)]
        parts = [seg for c in whisker for seg in c.get_segments()] + [line.get_xydata() for line in ax.lines]
        for seg in parts:  # the whisker and its caps, in pixels
            (x0, y0), (x1, y1) = ax.transData.transform(seg[0]), ax.transData.transform(seg[-1])
            overlap_x = min(x0, x1) - 1 <= label.x1 and label.x0 <= max(x0, x1) + 1
            overlap_y = min(y0, y1) - 1 <= label.y1 and label.y0 <= max(y0, y1) + 1
            assert not (overlap_x and overlap_y), (value, interval, figsize)
        x, ha, inside = plots.label_position(value, interval, 100.0)
        if inside:  # white on the bar: it must start inside the bar, not on the white background
            assert ax.transData.inverted().transform((label.x0, 0))[0] >= 0
        plt.close(fig)


def test_the_provenance_table_wraps_instead_of_scrolling(tmp_path):
    from results_fixtures import write_results
    from vlmeval_steps.report.html import CSS, render
    from vlmeval_steps.report.summary import collect

    results = tmp_path / "results"
    pairs = write_results(results, {"Strong": 0.8, "Weak": 0.4}, datasets=["DemoShapes", "POPE"])
    page = render(collect(results, pairs), results / "report.html")
    prov = page[page.index('id="provenance"'):]
    # no cell forced onto one line, long values (paths, hashes, commands) may break anywhere
    assert not re.search(r"table\.prov[^{]*\{[^}]*nowrap", CSS)
    assert re.search(r"table\.prov td[^{]*\{[^}]*overflow-wrap: anywhere", CSS)
    # two tables of a few columns each instead of one of fifteen: what was scored, then with what software
    tables = re.findall(r"<table class=\"prov[^\"]*\">(.*?)</table>", prov, re.S)
    assert len(tables) == 2 and all(t.count("<th>") <= 10 for t in tables)
    assert "dataset md5" in tables[0] and "weights" in tables[1] and "packages" in tables[1]


# ----- 4. trial runs apart from the leaderboard ----------------------------------------------------------
def _with_trials(results):
    """Strong and Weak: full DemoShapes runs, Weak also a DemoShapes_limit20 trial; Third: POPE trials only."""
    import shutil

    from results_fixtures import write_results

    write_results(results, {"Strong": 0.8, "Weak": 0.4}, datasets=["DemoShapes"])
    write_results(results, {"Third": 0.6}, datasets=["DemoShapes", "POPE"], seed=1)
    for model, src, dst in (("Weak", "DemoShapes", "DemoShapes_limit20"), ("Third", "POPE", "POPE_limit5"),
                            ("Third", "POPE", "POPE_limit10"), ("Third", "DemoShapes", "DemoShapes_limit20")):
        for suffix in ("_acc.csv", "_provenance.json"):
            shutil.copy(results / model / f"{src}{suffix}", results / model / f"{dst}{suffix}")
    for model, name in (("Third", "DemoShapes"), ("Third", "POPE")):
        for suffix in ("_acc.csv", "_provenance.json"):
            (results / model / f"{name}{suffix}").unlink()


def test_trial_runs_have_their_own_table(tmp_path):
    from vlmeval_steps.report.summary import leaderboard_columns
    from vlmeval_steps.steps.summary import run_report, run_summary

    results = tmp_path / "results"
    _with_trials(results)
    from vlmeval_steps.report.summary import collect

    assert leaderboard_columns(collect(results)) == (["DemoShapes", "POPE_limit10"], ["DemoShapes_limit20", "POPE_limit5"])
    run_summary(results, None, results / "summary.csv", results / "summary.md")
    md = (results / "summary.md").read_text()
    board, rest = md.split("## Trial runs")
    # the leaderboard: full runs, and the largest trial of a benchmark that has trial runs only
    assert "| model | DemoShapes | POPE_limit10 |" in board and "limit20" not in board.split("Main metric")[0]
    assert "| Third |  |" in board  # no full DemoShapes run: an empty cell, not its trial's score
    assert "| model | DemoShapes_limit20 | POPE_limit5 |" in rest.split("\n\n## ")[0]
    assert "| Strong |" not in rest.split("\n\n## ")[0]  # only models with a trial run
    # summary.csv is unchanged: every run a column, as before
    assert {"DemoShapes", "DemoShapes_limit20", "POPE_limit5", "POPE_limit10"} <= set(
        pd.read_csv(results / "summary.csv", index_col="model").columns)

    run_report(results, None, results / "report.html")
    page = (results / "report.html").read_text()
    lead = page[page.index('id="leaderboard"'):page.index('id="trials"')]
    trials = page[page.index('id="trials"'):page.index('id="scores"')]
    charts = page[page.index('id="scores"'):page.index('id="failures"')]
    assert "DemoShapes_<wbr>limit20" not in lead and "POPE_<wbr>limit10" in lead
    assert "DemoShapes_<wbr>limit20" in trials and "POPE_<wbr>limit5" in trials and "Strong" not in trials
    assert "limit20" not in charts and "limit5<" not in charts
    assert '<a href="#trials">Trial runs</a>' in page
    prov = page[page.index('id="provenance"'):]
    assert "DemoShapes_limit20" in prov and "POPE_limit5" in prov  # every run's provenance


# ----- 5. resampling units of document benchmarks --------------------------------------------------------
def test_documents_are_the_unit_of_multi_page_benchmarks():
    from vlmeval_steps.scoring.dude import documents, row_outcomes
    from vlmeval_steps.stats.bootstrap import design_of, estimate

    df = pd.DataFrame({"index": [1, 2, 3, 4, 5], "doc_id": ["d1", "d1", None, "", float("nan")],
                       "image_path": ["['a_0.png', 'a_1.png']", "['a_0.png', 'a_1.png']", "['b_0.png']",
                                      "['b_0.png']", float("nan")]})
    assert documents(df) == ["doc_id=d1", "doc_id=d1", "image_path=['b_0.png']", "image_path=['b_0.png']", "index=5"]
    df = df.assign(question="q", answer="a", pred="a", score=[1, 0, 1, 1, 0])
    out = row_outcomes({"{judge}.xlsx": df}, "score")
    assert design_of(out).n_units == 3 and out.spec.unit_name == "document"
    assert estimate(out, resamples=20, name="DUDE").value == pytest.approx(60.0)  # still the mean over questions


def test_the_run_summary_gives_each_pair_its_failure_rates():
    from vlmeval_steps.report.where import failure_rates

    assert failure_rates({"rows": 120, "failed_predictions": 3, "extraction": {"rule": 110, "none": 7}}) == (
        "inference failed 3/120 (2.5 %), not extracted 7/120 (5.8 %)")
    assert failure_rates({"rows": 0}) == "" and failure_rates({}) == ""
