"""Confidence intervals and paired comparisons: hand-computed fixtures, brute force, scipy, determinism
and a coverage simulation."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stats_fixtures import CASES
from vlmeval_steps.report.intervals import Settings, main_mask
from vlmeval_steps.report.metrics import main_score
from vlmeval_steps.stats.bootstrap import design_of, estimate, metric, unit_totals, weights
from vlmeval_steps.stats.outcomes import Outcomes, read, write
from vlmeval_steps.stats.paired import NotComparable, compare, mcnemar_exact
from vlmeval_steps.stats.spec import RatioSpec


def accuracy_outcomes(hits, units=None):
    n = len(hits)
    rows = pd.DataFrame({"index": [str(i) for i in range(n)], "unit": [str(u) for u in (units or range(n))],
                         "score": hits, "one": 1})
    return Outcomes(rows, RatioSpec(terms=(("score", "one"),), scale=100.0, binary="score"))


@pytest.mark.parametrize("name, dtype, case", CASES, ids=[c[0] for c in CASES])
def test_the_bootstrap_statistic_on_the_data_as_they_are_is_the_metric(name, dtype, case, tmp_path):
    data, ext, score, outcomes_of = case()
    tables = score(data, ext, name)
    out = outcomes_of(tables, name)
    write(out, tmp_path / "r.csv", tmp_path / "r.json")
    out = read(tmp_path / "r.csv")  # through the files, as the summary reads them
    acc = tables["acc"].astype(str)
    headline = main_score(acc, name, dtype)
    mask = main_mask(out, acc, headline.metric)
    est = estimate(out, resamples=50, mask=mask, name=name)
    assert est.value == pytest.approx(headline.value, rel=1e-9, abs=1e-9)
    assert est.low <= est.value + 1e-9 and est.high >= est.value - 1e-9 or name == "POPE"
    # the categories the score table breaks the headline into, where the table has them
    for col in out.spec.groups:
        for cat in out.categories(col):
            if cat in (headline.categories or {}) and name not in ("MMVet",):  # MMVet: upstream counts 'rec' twice
                sub = out.subset(col, cat) if mask is None or col == "split" else mask & out.subset(col, cat)
                value = estimate(out, resamples=5, mask=sub, name=name).value
                assert value == pytest.approx(headline.categories[cat], rel=1e-9), (col, cat)


def test_units_are_what_the_metric_depends_on():
    data, ext, score, outcomes_of = CASES[1][2]()   # MMBench: 40 questions x 3 rotations
    out = outcomes_of(score(data, ext, "MMBench_DEV_EN"), "MMBench_DEV_EN")
    assert len(out.rows) == 40 and design_of(out).n_units == 40 and out.spec.unit_name == "circular group"
    data, ext, score, outcomes_of = CASES[3][2]()   # MME: 60 questions on 30 images, in 3 categories
    out = outcomes_of(score(data, ext, "MME"), "MME")
    d = design_of(out)
    assert d.n_units == 30 and d.stratum_names == ["OCR", "code_reasoning", "count"]
    w = weights(d, 200, seed=1, name="MME")
    for s in range(3):  # images are drawn within their category: its count of images never changes
        assert (w[:, d.strata == s].sum(axis=1) == (d.strata == s).sum()).all()
    data, ext, score, outcomes_of = CASES[4][2]()   # POPE: a row in two categories is one unit
    out = outcomes_of(score(data, ext, "POPE"), "POPE")
    assert len(out.rows) == 80 and design_of(out).n_units == 60


def test_the_vectorised_bootstrap_equals_a_brute_force_loop():
    data, ext, score, outcomes_of = CASES[5][2]()   # HallusionBench: mean of three group accuracies
    out = outcomes_of(score(data, ext, "HallusionBench"), "HallusionBench")
    d = design_of(out)
    w = weights(d, 64, seed=3, name="H")
    est = estimate(out, name="H", design=d, w=w)
    keys = list(d.keys)
    for b in range(64):  # materialise each resample as a table of lines and score it directly
        picked = [out.rows[out.rows["unit"] == keys[u]] for u in range(len(keys)) for _ in range(int(w[b, u]))]
        resample = Outcomes(pd.concat(picked, ignore_index=True), out.spec)
        direct = metric(resample, unit_totals(resample, design_of(resample)).sum(axis=0))
        assert est.samples[b] == pytest.approx(float(direct))


def test_two_units_have_an_enumerable_bootstrap_distribution():
    # hits [0, 1]: a resample holds 0, 1 or 2 copies of the hit, with probabilities 1/4, 1/2, 1/4
    est = estimate(accuracy_outcomes([0, 1]), resamples=20000, seed=0, name="two")
    freq = {v: np.mean(est.samples == v) for v in (0.0, 50.0, 100.0)}
    assert freq[0.0] == pytest.approx(0.25, abs=0.015) and freq[50.0] == pytest.approx(0.5, abs=0.015)
    assert est.value == 50.0 and (est.low, est.high) == (0.0, 100.0)


def test_intervals_are_the_same_in_another_process(tmp_path):
    out = accuracy_outcomes([i % 3 != 0 for i in range(300)])
    write(out, tmp_path / "x_rows.csv", tmp_path / "x_rows.json")
    code = ("import json,sys; from vlmeval_steps.stats.outcomes import read; from vlmeval_steps.stats.bootstrap "
            "import estimate; e = estimate(read(sys.argv[1]), name='x'); print(json.dumps([e.low, e.high]))")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))  # this checkout's package
    procs = [subprocess.run([sys.executable, "-c", code, str(tmp_path / "x_rows.csv")], env=env, capture_output=True,
                            text=True) for _ in range(2)]
    assert all(p.returncode == 0 for p in procs), procs[0].stderr[-2000:]
    runs = [json.loads(p.stdout) for p in procs]
    here = estimate(read(tmp_path / "x_rows.csv"), name="x")
    assert runs[0] == runs[1] == [here.low, here.high]
    assert estimate(out, name="x", seed=1).low != here.low or estimate(out, name="x", seed=1).high != here.high


def test_coverage_of_the_95_percent_interval_is_near_95_percent():
    # 1,000 benchmarks of 200 questions from a model whose true accuracy is 0.7 (about 20 s on 2 idle cores)
    rng = np.random.default_rng(12345)
    n, trials, covered = 200, 1000, 0
    for t in range(trials):
        hits = (rng.random(n) < 0.7).astype(int).tolist()
        est = estimate(accuracy_outcomes(hits), resamples=1000, seed=t, name="sim")
        covered += est.low <= 70.0 <= est.high
    assert 930 <= covered <= 970, covered


@pytest.mark.parametrize("a_only, b_only", [(0, 0), (3, 0), (5, 9), (12, 30), (40, 41), (7, 200), (480, 610),
                                            (1500, 1400)])
def test_mcnemar_is_scipy_binomtest(a_only, b_only):
    from scipy.stats import binomtest

    n = a_only + b_only
    expected = 1.0 if n == 0 else binomtest(a_only, n, 0.5).pvalue
    assert mcnemar_exact(a_only, b_only) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_paired_comparison_difference_interval_and_tests():
    rng = np.random.default_rng(0)
    base = (rng.random(500) < 0.6).astype(int)
    better = base.copy()
    better[np.flatnonzero(base == 0)[:40]] = 1   # right on 40 more questions, wrong on none more
    cmp = compare(accuracy_outcomes(better.tolist()), accuracy_outcomes(base.tolist()), name="p")
    assert cmp.difference == pytest.approx(8.0) and cmp.significant and cmp.p_value < 0.01
    assert cmp.low > 0 and cmp.mcnemar == {"a_only": 40, "b_only": 0, "p_value": mcnemar_exact(40, 0)}
    same = compare(accuracy_outcomes(base.tolist()), accuracy_outcomes(base.tolist()), name="p")
    assert same.difference == 0 and same.p_value == 1.0 and not same.significant and same.low == same.high == 0


def test_models_scored_on_other_rows_are_refused():
    a = accuracy_outcomes([1, 0, 1, 1])
    b = accuracy_outcomes([1, 0, 1])
    with pytest.raises(NotComparable, match="different rows"):
        compare(a, b, a_name="A", b_name="B")


def test_settings_are_checked():
    from vlmeval_steps.errors import InputError

    with pytest.raises(InputError, match="level"):
        Settings(resamples=100, level=95)
