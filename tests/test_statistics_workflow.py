"""Intervals, comparisons and the leaderboard through the real workflow and command line: the demo's two
models, `compare` and `status`, statistics settings rerunning only the summary and report, earlier runs'
results kept, and a failed pair that does not take the leaderboard of the others with it."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def vs(workflow, *args, check=True):
    proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", *args], cwd=workflow.root, env=workflow.env(),
                          capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"vlmeval-steps {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_demo_leaderboard_with_intervals_comparisons_status_and_a_failed_pair(workflow):
    cfg = workflow.config()
    cfg["models"] = ["TinyLLaVA-Demo", "TinyLLaVA-Demo-Terse"]  # the shipped demo's two models
    workflow.write_config(cfg)
    workflow.snakemake()
    results = workflow.root / "results"
    for m in ("TinyLLaVA-Demo", "TinyLLaVA-Demo-Terse"):
        assert (results / m / "DemoShapes_rows.csv").exists() and (results / m / "DemoShapes_rows.json").exists()
    prov = json.loads((results / "TinyLLaVA-Demo" / "DemoShapes_provenance.json").read_text())
    assert prov["versions"]["torch"] and prov["versions"]["transformers"] and "openai" in prov["versions"]
    identity = prov["model_identity"]
    assert len(identity["sha256"]) == 64 and identity["path"].endswith("resources/models/tiny-llava-demo")
    assert "config.json" in identity["files"] and prov["paths"]["scores"].startswith("/")
    terse = json.loads((results / "TinyLLaVA-Demo-Terse" / "DemoShapes_provenance.json").read_text())
    assert terse["model_identity"]["sha256"] == identity["sha256"]  # the same checkpoint
    table = pd.read_csv(results / "summary.csv", index_col="model")
    assert list(table.columns) == ["DemoShapes", "DemoShapes ci_low", "DemoShapes ci_high", "DemoShapes n_units"]
    for m, row in table.iterrows():
        assert row["DemoShapes ci_low"] <= row["DemoShapes"] <= row["DemoShapes ci_high"]
        assert row["DemoShapes n_units"] == 120
    md = (results / "summary.md").read_text()
    assert " ± " in md and "## Compared with the best model" in md and "resampled by question (120)" in md
    page = (results / "report.html").read_text()
    for part in ('id="pairwise"', 'id="samples"', "data:image/png;base64,", "(n=60)", "broad groups",
                 "fine categories", "rows differ", "weights"):
        assert part in page, part

    # compare through the command line: the difference, its tests and the rows behind it
    out = vs(workflow, "compare", "--model", "TinyLLaVA-Demo", "--model", "TinyLLaVA-Demo-Terse",
             "--dataset", "DemoShapes", "--show", "2").stdout
    assert "difference (TinyLLaVA-Demo - TinyLLaVA-Demo-Terse)" in out and "McNemar" in out
    assert "TinyLLaVA-Demo is better" in out and "Rows where they disagree" in out and "answer:" in out
    # a model scored on other rows is refused, with the reason
    refused = vs(workflow, "compare", "--model", "TinyLLaVA-Demo", "--model", "Nobody", "--dataset", "DemoShapes",
                 check=False)
    assert refused.returncode == 2 and "no score of Nobody on DemoShapes" in refused.stderr

    status = vs(workflow, "status").stdout
    assert status.count("finished") >= 2 and "would rerun" not in status.split("\n\n")[0]

    # the statistics settings: only the summary and report rerun
    cfg = workflow.config()
    cfg["statistics"] = {"resamples": 200, "level": 0.9, "seed": 1}
    workflow.write_config(cfg)
    assert workflow.planned() == {"summary": 1, "report": 1}
    workflow.snakemake()
    assert "± is half the 90% bootstrap interval (200 resamples" in (results / "summary.md").read_text()

    # a new config: one model dropped, a dataset whose md5 is wrong added. The broken pair fails, the
    # others are scored, and the leaderboard still shows everything the work dir holds, marked by origin
    cfg["models"] = ["TinyLLaVA-Demo"]
    cfg["datasets"] = ["DemoShapes", "Broken"]
    cfg["custom_datasets"]["Broken"] = dict(cfg["custom_datasets"]["DemoShapes"], md5="0" * 32)
    workflow.write_config(cfg)
    proc = workflow.snakemake(check=False)
    assert proc.returncode != 0
    md = (results / "summary.md").read_text()
    assert "## Not scored" in md and "| TinyLLaVA-Demo | Broken |" in md and "failed before inference" in md
    assert "| TinyLLaVA-Demo-Terse | DemoShapes |" in md and "earlier run" in md
    assert "Not scored" in (results / "report.html").read_text()
    status = vs(workflow, "status").stdout
    assert "Broken" in status and "to do" in status
