"""`vlmeval-steps score` on its own, for every dataset type: from upstream's
`{model}_{dataset}.xlsx` (written here with pandas, as a VLMEvalKit user has it) and from our
prediction TSV, writing upstream's tables into the output folder."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.benchdata import shape_png, write_benchmark, write_predictions
from vlmeval_steps.datasets.tsv import read_meta


def upstream_xlsx(tsv, predictions: dict, path):
    """The prediction file VLMEvalKit writes: the TSV's columns except `image`, plus `prediction`."""
    data = read_meta(tsv)
    data["prediction"] = [str(predictions[i]) for i in data["index"]]
    data.to_excel(path, index=False, engine="openpyxl")
    return path


def score_cli(name, tsv, predictions, out):
    proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", "score", "--dataset", name, "--data", str(tsv),
                           "--predictions", str(predictions), "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.parametrize("fmt", ["xlsx", "tsv"])
def test_mcq_circular_from_upstream_xlsx_and_our_tsv(tmp_path, fmt):
    rows = [dict(index=1, image=shape_png(), question="Animal?", A="cat", B="dog", answer="A", category="x",
                 split="dev", **{"l2-category": "logic_reasoning"}),
            dict(index=1000001, image="1", question="Animal?", A="dog", B="cat", answer="B", category="x",
                 split="dev", **{"l2-category": "logic_reasoning"}),
            dict(index=2, image=shape_png("square"), question="Shape?", A="round", B="square", answer="B",
                 category="y", split="dev", **{"l2-category": "logic_reasoning"})]
    tsv = write_benchmark(tmp_path / "MMBench_DEV_EN.tsv", rows)
    preds = {1: "A", 1000001: "A", 2: "B"}  # question 1 fails its rotation; question 2 is right
    pred = (upstream_xlsx(tsv, preds, tmp_path / "GPT4o_MMBench_DEV_EN.xlsx") if fmt == "xlsx"
            else write_predictions(tsv, preds, tmp_path / "MMBench_DEV_EN.tsv.pred.tsv"))
    score_cli("MMBench_DEV_EN", tsv, pred, tmp_path / "scores")
    table = pd.read_csv(tmp_path / "scores/MMBench_DEV_EN_acc.csv")
    assert list(table.columns) == ["split", "Overall", "LR", "x", "y"]
    assert table.iloc[0][["Overall", "LR", "x", "y"]].tolist() == [0.5, 0.5, 0.0, 1.0]
    assert (tmp_path / "scores/MMBench_DEV_EN_exact_matching_result.xlsx").exists()


def test_yes_no_writes_the_score_table_beside_acc(tmp_path):
    rows = [dict(index=i, question=f"q{i}?", answer=a, category="adversarial") for i, a in
            enumerate(["Yes", "No", "Yes", "No"], 1)]
    tsv = write_benchmark(tmp_path / "POPE.tsv", rows)
    # TP, TN, FN, FP -> precision 1/2, recall 1/2, F1 1/2, acc 1/2
    pred = upstream_xlsx(tsv, {1: "Yes", 2: "No", 3: "No", 4: "Yes"}, tmp_path / "M_POPE.xlsx")
    score_cli("POPE", tsv, pred, tmp_path / "scores")
    acc = pd.read_csv(tmp_path / "scores/POPE_acc.csv")
    assert acc.iloc[0].tolist() == ["Overall", 50.0, 50.0, 50.0, 50.0]
    assert pd.read_csv(tmp_path / "scores/POPE_score.csv").equals(acc)
    assert (tmp_path / "scores/POPE_auxmatch.xlsx").exists()


def test_vqa_and_ocrbench(tmp_path):
    tsv = write_benchmark(tmp_path / "ChartQA_TEST.tsv", [dict(index=1, question="v?", answer="50"),
                                                        dict(index=2, question="w?", answer="label")])
    pred = write_predictions(tsv, {1: "51", 2: "Label."}, tmp_path / "ChartQA_TEST.pred.tsv")
    score_cli("ChartQA_TEST", tsv, pred, tmp_path / "scores")
    # 51 is within 5% of 50; 'Label.' is not 'label' (relaxed accuracy does not drop punctuation)
    assert pd.read_csv(tmp_path / "scores/ChartQA_TEST_acc.csv").iloc[0].tolist() == [50.0]

    tsv = write_benchmark(tmp_path / "OCRBench.tsv", [
        dict(index=1, question="text?", answer="['STOP']", category="Regular Text Recognition"),
        dict(index=2, question="doc?", answer="['total']", category="Doc-oriented VQA")])
    pred = upstream_xlsx(tsv, {1: "stop sign", 2: "sum"}, tmp_path / "M_OCRBench.xlsx")
    score_cli("OCRBench", tsv, pred, tmp_path / "scores")
    score = json.loads((tmp_path / "scores/OCRBench_score.json").read_text())
    assert score["Text Recognition"] == 1 and score["Doc-oriented VQA"] == 0 and score["Final Score"] == 1
    assert score["Final Score Norm"] == 0.1


def test_predictions_from_another_dataset_are_refused(tmp_path):
    tsv = write_benchmark(tmp_path / "POPE.tsv", [dict(index=1, question="q?", answer="Yes", category="a")])
    other = write_benchmark(tmp_path / "Other.tsv", [dict(index=5, question="q?", answer="Yes", category="a")])
    pred = upstream_xlsx(other, {5: "Yes"}, tmp_path / "M_POPE.xlsx")
    proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", "score", "--dataset", "POPE", "--data", str(tsv),
                           "--predictions", str(pred), "--out", str(tmp_path / "scores")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "indices ['5'] are not in the dataset" in proc.stderr
