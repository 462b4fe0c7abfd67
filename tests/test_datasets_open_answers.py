"""Issue 11, open answers by rules: OCRVQA (exact match after strip + lower, best over the accepted
answers), MTVQA (per-language substring match, upstream's `_acc.json`) and the withheld test splits
DocVQA_TEST / InfoVQA_TEST (inference only). Expected values are worked out by hand in the comments."""
from __future__ import annotations

import json

import pytest

from tests.benchdata import judge_and_score, read_csv, write_benchmark, write_predictions
from tests.test_datasets_vqa import first_prompt
from vlmeval_steps.errors import InputError

FAIL = "Failed to obtain answer via API."


def test_ocrvqa_exact_match_best_over_answers(tmp_path):
    spec = [(["Harry Potter", "HP"], " harry potter ", "Fiction"),   # strip + lower -> 1
            (["Cookbook"], "Cook book", "Cooking"),                 # no normalisation beyond that -> 0
            (["Yes"], "nan", "Fiction"),                            # an empty answer reads as 'nan' -> 0
            (["1984", "Nineteen"], "1984", "Fiction"),              # any accepted answer -> 1
            (["Atlas"], FAIL, "Travel")]                            # a failed prediction -> 0
    rows = [dict(index=i, question=f"q{i}", answer=str(a), category=c) for i, (a, _, c) in enumerate(spec, 1)]
    tsv = write_benchmark(tmp_path / "OCRVQA_TEST.tsv", rows)
    preds = {i: p for i, (_, p, _) in enumerate(spec, 1)}
    judge_and_score("OCRVQA_TESTCORE", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    table = read_csv(tmp_path / "out/OCRVQA_TESTCORE_acc.csv")
    # Overall 2/5; Cooking 0/1; Fiction 2/3; Travel 0/1 (categories sorted after Overall)
    assert list(table.columns) == ["Overall", "Cooking", "Fiction", "Travel"]
    assert table.iloc[0].tolist() == pytest.approx([40.0, 0.0, 200 / 3, 0.0])


def mtvqa_rows():
    # (category, answer, prediction): upstream strips, lower-cases and drops every '.', then tests
    # whether the answer occurs in the prediction
    return [("DE", "Straße", "Die STRASSE"),        # 'straße' not in 'die strasse' -> 0
            ("AR", "مرحبا", "قال مرحبا."),           # contained -> 1
            ("DE", "U.S.A.", "the usa"),             # dots dropped on both sides -> 1
            ("JA", "東京", "nan"),                    # empty prediction -> 0
            ("AR", "42", "4 2"),                      # 0
            ("JA", "東京", "東京都")]                   # 1


def test_mtvqa_per_language_table_in_upstreams_order(tmp_path):
    spec = mtvqa_rows()
    rows = [dict(index=i, question=f"q{i}", answer=a, category=c, split="test") for i, (c, a, _) in enumerate(spec, 1)]
    tsv = write_benchmark(tmp_path / "MTVQA_TEST.tsv", rows)
    preds = {i: p for i, (_, _, p) in enumerate(spec, 1)}
    judge_and_score("MTVQA_TEST", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    expected = {"DE": 50.0, "Average": 50.0, "AR": 50.0, "JA": 50.0}   # 3 of 6; first category, Average, the rest
    main = json.loads((tmp_path / "out/MTVQA_TEST_acc.json").read_text())
    assert list(main) == list(expected) and main == pytest.approx(expected)
    assert read_csv(tmp_path / "out/MTVQA_TEST_acc.csv").iloc[0].to_dict() == pytest.approx(expected)


def test_mtvqa_prompt_and_bad_input(tmp_path, monkeypatch):
    tsv = write_benchmark(tmp_path / "MTVQA_TEST.tsv", [dict(index=3, question="Was steht da?", answer="x")])
    assert first_prompt("MTVQA_TEST", tsv, tmp_path, monkeypatch)[-1]["value"] == (
        "Was steht da?\nAnswer the question using a word or phrase in the language of the question.")
    # no 'category' column: the error names the column, the file and the benchmark
    preds = write_predictions(tsv, {3: "x"}, tmp_path / "p.tsv")
    with pytest.raises(InputError, match=r"p\.tsv: MTVQA_TEST is scored from column\(s\) \['category'\]"):
        judge_and_score("MTVQA_TEST", preds, tmp_path / "out")
    tsv = write_benchmark(tmp_path / "MTVQA_TEST.tsv", [dict(index=3, question="q", answer="x", category="DE",
                                                              split="val")])
    with pytest.raises(InputError, match="only MTVQA_TEST"):
        judge_and_score("MTVQA_TEST", write_predictions(tsv, {3: "x"}, tmp_path / "p.tsv"), tmp_path / "out")


@pytest.mark.parametrize("name, scored", [("DocVQA_TEST", "DocVQA_VAL"), ("InfoVQA_TEST", "InfoVQA_VAL")])
def test_withheld_test_splits_are_inference_only(tmp_path, monkeypatch, name, scored):
    tsv = write_benchmark(tmp_path / f"{name}.tsv", [dict(index=1, question="What is the date?")])
    assert first_prompt(name, tsv, tmp_path, monkeypatch)[-1]["value"].endswith(
        "\nAnswer the question using a single word or phrase.")
    preds = write_predictions(tsv, {1: "1 May"}, tmp_path / "p.tsv")
    with pytest.raises(InputError, match=f"{name} is a test split whose answers are withheld.*evaluate {scored}"):
        judge_and_score(name, preds, tmp_path / "out")
    assert not (tmp_path / f"out/{name}_acc.csv").exists()
