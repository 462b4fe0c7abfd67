"""The leaderboard (main metric per benchmark, provenance per cell) and the HTML report, rendered in a real
headless browser when one is installed."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from results_fixtures import write_results
from vlmeval_steps.errors import InputError
from vlmeval_steps.report.metrics import main_score, metric_for
from vlmeval_steps.report.summary import collect, find_pairs, write

MODELS = {"Strong": 0.8, "Weak": 0.45}


def table(header, *rows):
    return pd.DataFrame([list(map(str, r)) for r in rows], columns=header)


@pytest.mark.parametrize("dataset, dtype, acc, expected", [
    # MCQ: fractions in the table, percent on the leaderboard
    ("MMStar", "MCQ", table(["split", "Overall", "a"], ["none", 0.5, 0.25]), 50.0),
    # a table already in percent is not scaled twice
    ("MMStar", "MCQ", table(["split", "Overall", "a"], ["none", 61.5, 40]), 61.5),
    ("MME", "Y/N", table(["perception", "reasoning", "OCR"], [1500.5, 400.25, 150]), 1900.75),
    ("POPE", "Y/N", table(["split", "Overall", "acc", "precision", "recall"], ["Overall", 85.0, 86, 90, 80],
                          ["random", 88.0, 89, 92, 84]), 85.0),
    ("HallusionBench", "Y/N", table(["split", "aAcc", "fAcc", "qAcc"], ["Overall", 60, 30, 30], ["VD", 1, 2, 3]), 40.0),
    ("TextVQA_VAL", "VQA", table(["Overall"], [71.25]), 71.25),
    ("OCRBench", "VQA", table(["Text Recognition", "Final Score", "Final Score Norm"], [200, 750, 75.0]), 750.0),
    ("MathVista_MINI", "VQA", table(["Task&Skill", "tot", "acc"], ["Overall", 1000, 55.5], ["algebra", 10, 20]), 55.5),
    ("MMVet", "VQA", table(["Category", "tot", "acc"], ["rec", 10, 40], ["Overall", 200, 66.6]), 66.6),
    ("MMMU_DEV_VAL", "MCQ", table(["split", "Overall"], ["dev", 0.3], ["validation", 0.5]), 50.0),
    # an unknown benchmark and type: its Overall
    ("Brand_New", "Caption", table(["Overall", "x"], [12.5, 3]), 12.5),
])
def test_main_metric_of_each_benchmark(dataset, dtype, acc, expected):
    score = main_score(acc, dataset, dtype)
    assert score.value == pytest.approx(expected)


def test_breakdowns_come_from_columns_or_rows():
    mcq = main_score(table(["split", "Overall", "color", "shape"], ["none", 0.9, 1.0, 0.8]), "DemoShapes", "MCQ")
    assert mcq.categories == {"color": 100.0, "shape": 80.0}
    pope = main_score(table(["split", "Overall", "acc", "precision", "recall"], ["Overall", 85, 1, 1, 1],
                            ["adversarial", 80, 1, 1, 1], ["random", 90, 1, 1, 1]), "POPE", "Y/N")
    assert pope.categories == {"adversarial": 80.0, "random": 90.0}
    ocr = main_score(table(["Text Recognition", "Doc-oriented VQA", "Final Score", "Final Score Norm"],
                           [200, 150, 350, 35]), "OCRBench", "VQA")
    assert ocr.categories == {"Text Recognition": 200.0, "Doc-oriented VQA": 150.0}


def test_unexpected_tables_fall_back_to_overall_and_say_so():
    # an MME table without perception/reasoning but with an Overall
    score = main_score(table(["Overall", "OCR"], [77.0, 60]), "MME", "Y/N")
    assert score.value == 77.0 and "used Overall" in score.note
    # nothing usable: no value, and a reason
    score = main_score(table(["split", "foo"], ["none", "bar"]), "MMStar", "MCQ")
    assert score.value is None and "Overall" in score.note
    assert main_score(pd.DataFrame(), "MMStar", "MCQ").value is None


def test_the_metric_table_is_one_place_to_extend():
    assert metric_for("MathVista_MINI").columns == ("acc",)
    assert metric_for("SomeMCQ", "MCQ").scale == 100.0
    assert metric_for("SomeVQA", "VQA").columns == ("Overall",)


def test_summary_files_have_a_row_per_model_and_provenance_per_cell(tmp_path):
    results = tmp_path / "results"
    pairs = write_results(results, MODELS, failed={("Weak", "MMVet"): 7})
    cells = collect(results, pairs)
    write(cells, results / "summary.csv", results / "summary.md", results / "summary_provenance.csv")
    wide = pd.read_csv(results / "summary.csv", index_col="model")
    assert list(wide.index) == ["Strong", "Weak"]
    assert [c for c in wide.columns if " " not in c] == [d for m, d in pairs if m == "Strong"]
    assert {"DemoShapes ci_low", "DemoShapes ci_high", "DemoShapes n_units"} <= set(wide.columns)
    mme = pd.read_csv(results / "Strong" / "MME_acc.csv")
    assert wide.loc["Strong", "MME"] == pytest.approx(mme["perception"][0] + mme["reasoning"][0], abs=1e-3)
    dem = pd.read_csv(results / "Weak" / "DemoShapes_acc.csv")
    assert wide.loc["Weak", "DemoShapes"] == pytest.approx(100 * dem["Overall"][0], abs=1e-3)
    with open(results / "summary_provenance.csv", newline="") as fh:
        prov = list(csv.DictReader(fh))
    assert len(prov) == len(pairs)
    row = next(r for r in prov if r["model"] == "Weak" and r["dataset"] == "MMVet")
    expected = json.loads((results / "Weak" / "MMVet_provenance.json").read_text())
    assert row["dataset_md5"] == expected["dataset_md5"] and row["judge"] == "exact_matching"
    assert row["prompt_id"] == "default" and row["failed_predictions"] == "7" and row["metric"] == "Overall acc"
    md = (results / "summary.md").read_text()
    assert "| Strong |" in md and "perception + reasoning" in md and expected["dataset_md5"] in md


def test_a_limited_run_shows_its_limit_and_a_missing_table_is_an_error(tmp_path):
    results = tmp_path / "results"
    write_results(results, {"M": 0.5}, datasets=["DemoShapes"])
    (results / "M" / "DemoShapes_acc.csv").rename(results / "M" / "DemoShapes_limit20_acc.csv")
    (results / "M" / "DemoShapes_provenance.json").rename(results / "M" / "DemoShapes_limit20_provenance.json")
    assert find_pairs(results) == [("M", "DemoShapes_limit20")]
    cells = collect(results)
    assert cells[0].provenance["limit"] in (None, 20)  # the record's own limit wins; else the file name's
    with pytest.raises(InputError, match="no score table"):
        collect(results, [("M", "DemoShapes")])


def _report(tmp_path, models=MODELS, datasets=None, failed=None) -> Path:
    from vlmeval_steps.report.html import render

    results = tmp_path / "results"
    pairs = write_results(results, models, datasets=datasets, failed=failed)
    render(collect(results, pairs), results / "report.html")
    return results / "report.html"


def test_report_is_one_self_contained_page(tmp_path):
    page = _report(tmp_path, failed={("Weak", "POPE"): 3}).read_text()
    # nothing fetched from anywhere: no external scripts, styles, images or fonts
    assert not re.search(r"""(src|href)=["'](https?:)?//""", page)
    assert "<script" not in page and "<link" not in page and not re.search(r"url\((?!#)", page)
    # scores, one breakdown per benchmark with categories (TextVQA's table has none), failures
    assert page.count("<svg") == 1 + 8 + 1
    assert "3 predictions failed" in page
    for name in ("Strong", "Weak", "MME", "HallusionBench", "perception + reasoning"):
        assert name in page


def test_report_for_one_model_on_one_benchmark(tmp_path):
    page = _report(tmp_path, {"Only": 0.9}, datasets=["DemoShapes"]).read_text()
    assert page.count("<svg") == 3 and "No prediction failed" in page


def test_summary_and_report_commands(tmp_path):
    results = tmp_path / "results"
    write_results(results, MODELS, datasets=["DemoShapes", "POPE"])
    run = [sys.executable, "-m", "vlmeval_steps"]
    proc = subprocess.run(run + ["summary", "--results", str(results), "--out-csv", str(tmp_path / "s.csv"),
                                 "--out-md", str(tmp_path / "s.md"), "--out-provenance", str(tmp_path / "p.csv")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "| Strong |" in proc.stdout
    proc = subprocess.run(run + ["report", "--results", str(results), "--pairs", '[["Weak", "POPE"]]',
                                 "--out", str(tmp_path / "r.html")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "r.html").read_text()
    assert "Weak" in page and "Strong" not in page
    proc = subprocess.run(run + ["report", "--results", str(tmp_path / "none"), "--out", str(tmp_path / "x.html")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no results/" in proc.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars"]


def chromium(args, tmp_path, timeout=90):
    profile = tmp_path / "chromium-profile"
    return subprocess.run([CHROMIUM, *CHROME_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_report_renders_in_a_real_browser(tmp_path):
    from PIL import Image, ImageStat

    if CHROMIUM is None:
        if os.environ.get("VLMEVAL_STEPS_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium is required here (scripts/test.sh installs it) but is not on PATH")
        pytest.skip("no chromium installed (scripts/test.sh installs it)")

    report = _report(tmp_path, failed={("Weak", "MMVet"): 12})
    # the DOM the browser built: every chart is an SVG element with drawn content and a real size
    dom = chromium(["--dump-dom", report.as_uri()], tmp_path).stdout
    assert dom.count("<svg") == 10 and "Leaderboard" in dom and "<path" in dom
    shot = tmp_path / "report.png"
    chromium([f"--screenshot={shot}", "--window-size=1280,2400", report.as_uri()], tmp_path)
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2400)
    # not a blank page: the dark header, coloured bars and text make a wide spread of pixel values
    assert ImageStat.Stat(image.convert("L")).stddev[0] > 25
    colours = image.resize((320, 600)).getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 50
    # the first model's bar colour (plots.PALETTE[0]) is on screen, so the SVG charts were drawn
    assert any(abs(r - 0x4C) < 12 and abs(g - 0x72) < 12 and abs(b - 0xB0) < 12 for _, (r, g, b) in colours)


def test_report_shows_token_usage_only_when_there_is_some(tmp_path):
    from vlmeval_steps.report.html import render

    results = tmp_path / "results"
    pairs = write_results(results, {"Api": 0.7, "Local": 0.6}, datasets=["DemoShapes"])
    prov_path = results / "Api" / "DemoShapes_provenance.json"
    prov = json.loads(prov_path.read_text())
    prov["token_usage"] = {"infer": {"prompt_tokens": 1000, "completion_tokens": 234, "total_tokens": 1234},
                           "judge": {"prompt_tokens": 50, "completion_tokens": 6, "total_tokens": 56}}
    prov_path.write_text(json.dumps(prov))
    page = render(collect(results, pairs), results / "report.html")
    assert "<th>tokens</th>" in page and "infer 1,234; judge 56" in page
    (results / "Api" / "DemoShapes_provenance.json").write_text(json.dumps(dict(prov, token_usage={})))
    assert "<th>tokens</th>" not in render(collect(results, pairs), results / "report.html")


def test_a_cell_without_a_score_is_shown_as_missing_not_as_zero(tmp_path):
    from vlmeval_steps.report.html import render

    results = tmp_path / "results"
    pairs = write_results(results, MODELS, datasets=["DemoShapes", "POPE"])
    (results / "Weak" / "POPE_acc.csv").write_text('"split","something"\n"Overall","n/a"\n')
    cells = collect(results, pairs)
    weak_pope = next(c for c in cells if c.model == "Weak" and c.dataset == "POPE")
    assert weak_pope.value is None and weak_pope.score.note
    write(cells, results / "summary.csv", results / "summary.md")
    assert pd.isna(pd.read_csv(results / "summary.csv", index_col="model").loc["Weak", "POPE"])
    page = render(cells, results / "report.html")
    assert "no score" in page


def test_main_metric_reads_the_tables_the_scoring_code_writes(tmp_path):
    """The metric table against the real rating functions, through the CSV the score stage writes."""
    from vlmeval_steps.report.summary import read_acc
    from vlmeval_steps.scoring import yorn
    from vlmeval_steps.steps.score import write_table

    def via_csv(table, name):
        write_table(table, tmp_path / f"{name}_acc.csv")
        return read_acc(tmp_path / f"{name}_acc.csv")

    answers = ["Yes", "No", "Yes", "No", "Yes", "No", "Yes", "No"]
    extracted = ["Yes", "No", "No", "No", "Yes", "Yes", "Yes", "No"]
    df = pd.DataFrame({"index": [f"a_b_c_{i % 2}_{i % 4}_{i % 3}" for i in range(8)], "answer": answers,
                       "extracted": extracted, "score": [a == e for a, e in zip(answers, extracted)],
                       "category": ["random", "popular"] * 4, "l2-category": ["VD", "VS"] * 4,
                       "image_path": [f"img{i // 2}" for i in range(8)]})
    pope = yorn.pope_rating(df)
    assert main_score(via_csv(pope, "POPE"), "POPE", "Y/N").value == pytest.approx(pope["Overall"][0])
    hall = yorn.hallusion_rating(df)
    expected = hall.loc[0, ["aAcc", "fAcc", "qAcc"]].mean()
    score = main_score(via_csv(hall, "HallusionBench"), "HallusionBench", "Y/N")
    assert score.value == pytest.approx(expected) and "VD" in score.categories
    mme = yorn.mme_rating(df.assign(category=["OCR", "code_reasoning"] * 4))
    score = main_score(via_csv(mme, "MME"), "MME", "Y/N")
    assert score.value == pytest.approx(mme["perception"][0] + mme["reasoning"][0])
    assert set(score.categories) == {"OCR", "code_reasoning"}


def test_report_with_outcomes_has_intervals_comparisons_examples_and_no_matplotlib_warnings(tmp_path, monkeypatch):
    import warnings
    from functools import partial

    from stats_fixtures import CASES, write_scored
    from vlmeval_steps.report.intervals import Settings
    from vlmeval_steps.steps.summary import run_report, run_summary

    results = tmp_path / "results"
    for seed, model in enumerate(("Alpha", "Beta", "Gamma")):
        for name, dtype, case in CASES:
            write_scored(results, model, name, dtype, partial(case, seed=seed))
    write_scored(results, "Other", "MMStar", "MCQ", CASES[0][2], md5="f" * 32)  # another dataset version
    expected = [("Alpha", "MMStar"), ("Alpha", "Missing")]
    from vlmeval_steps.report import html

    monkeypatch.setattr(html, "STRICT_CHARTS", True)  # a chart warning fails the test
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_summary(results, None, results / "summary.csv", results / "summary.md", results / "p.csv",
                    Settings(resamples=200), expected)
        run_report(results, None, results / "report.html", Settings(resamples=200), expected)
    assert not [w for w in caught if "matplotlib" in str(w.filename) or "matplotlib" in str(w.message)]
    page = (results / "report.html").read_text()
    assert 'id="pairwise"' in page and "not comparable" in page and 'id="missing"' in page
    assert "MME · fine categories" in page and "HallusionBench · broad groups" in page and "(n=" in page
    md = (results / "summary.md").read_text()
    assert "| Alpha | Missing |" in md and "earlier run" in md and "different dataset versions" in md
    table = pd.read_csv(results / "summary.csv", index_col="model")
    mme = table.dropna(subset=["MME"])
    assert len(mme) == 3 and (mme["MME ci_low"] <= mme["MME"]).all() and (mme["MME"] <= mme["MME ci_high"]).all()
    assert table.loc["Alpha", "MMBench_DEV_EN n_units"] == 40 and table.loc["Alpha", "MME n_units"] == 30

