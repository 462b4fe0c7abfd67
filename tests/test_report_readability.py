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
