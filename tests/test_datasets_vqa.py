"""Open-answer benchmarks as VLMEvalKit scores them: the VQA prompt suffix, TextVQA's accuracy
over ten human answers, ChartQA's relaxed accuracy, DocVQA/InfoVQA's ANLS and OCRBench's
substring scores. Expected values are worked out by hand in the comments."""
from __future__ import annotations

import pytest

from tests.benchdata import info, judge_and_score, read_csv, read_json, write_benchmark, write_predictions
from vlmeval_steps.datasets.images import extract_images
from vlmeval_steps.datasets.registry import build_dataset
from vlmeval_steps.datasets.tsv import read_meta
from vlmeval_steps.scoring.vqa import anls_distance, relaxed_correctness

FAIL = "Failed to obtain answer via API."


def first_prompt(name, tsv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    meta = read_meta(tsv)
    ds = build_dataset(info(name), images=extract_images(tsv, meta, tmp_path / "img"))
    return ds.build_prompt(meta.iloc[0].to_dict())


def test_vqa_prompt_appends_the_short_answer_instruction(tmp_path, monkeypatch):
    tsv = write_benchmark(tmp_path / "TextVQA_VAL.tsv", [dict(index=7, question="What brand?", answer="['x']")])
    assert first_prompt("TextVQA_VAL", tsv, tmp_path, monkeypatch) == [
        dict(type="image", value="img/7.png"),
        dict(type="text", value="What brand?\nAnswer the question using a single word or phrase.")]


def test_ocrbench_prompt_is_the_bare_question(tmp_path, monkeypatch):
    tsv = write_benchmark(tmp_path / "OCRBench.tsv", [
        dict(index=1, question="what is written in the image?", answer="['x']", category="Regular Text Recognition")])
    assert first_prompt("OCRBench", tsv, tmp_path, monkeypatch)[-1] == dict(
        type="text", value="what is written in the image?")


def test_textvqa_accuracy(tmp_path):
    rows = [
        dict(index=1, question="How many?", answer=str(["two", "2", "2", "two dogs", "2", "2", "2", "2", "2", "2"])),
        dict(index=2, question="Colour?", answer=str(["red", "red", "dark red", "red", "maroon", "red", "red",
                                                      "crimson", "dark red", "red"])),
        dict(index=3, question="Is it?", answer="['yes']"),
    ]
    preds = {1: "Two.", 2: "Dark red", 3: "yes"}
    tsv = write_benchmark(tmp_path / "TextVQA_VAL.tsv", rows)
    judge_and_score("TextVQA_VAL", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    # row 1: 'Two.' -> '2'; nine answers normalise to '2' ('two' included), one to '2 dogs'.
    #   each answer i: min(1, matches among the other nine / 3) = 1 -> 1.0
    # row 2: 'dark red' matches answers 3 and 9: for those two, 1 other match -> 1/3; for the
    #   other eight, 2 -> 2/3; mean (2/3 + 16/3) / 10 = 0.6
    # row 3: a single answer has no "other" answers -> 0 (upstream's quirk)
    table = read_csv(tmp_path / "out/TextVQA_VAL_acc.csv")
    assert list(table.columns) == ["Overall"]
    assert table.iloc[0]["Overall"] == pytest.approx((1 + 0.6 + 0) / 3 * 100)
    assert (tmp_path / "out/TextVQA_VAL_results.xlsx").exists()


@pytest.mark.parametrize("target, prediction, ok", [
    ("12.5", "12.9", True),     # 3.2% off
    ("100", "106", False),      # 6% off
    ("45%", "0.45", True),      # a trailing % divides by 100
    ("1,234", "1234", False),   # a comma makes it text: exact match needed
    ("Yes", "yes", True),       # text: case-insensitive
    ("0", "0.01", False),       # a zero target: exact match needed
])
def test_relaxed_correctness(target, prediction, ok):
    assert relaxed_correctness(target, prediction) is ok


def test_chartqa_relaxed_accuracy_table(tmp_path):
    spec = [("12.5", "12.9", "human"), ("45%", "0.45", "human"), ("1,234", "1234", "human"),
            ("Yes", " yes ", "augmented"), ("0", "0.01", "augmented"), ("100", "106", "augmented")]
    rows = [dict(index=i, question=f"q{i}", answer=a, category=c) for i, (a, _, c) in enumerate(spec, 1)]
    preds = {i: p for i, (_, p, _) in enumerate(spec, 1)}
    tsv = write_benchmark(tmp_path / "ChartQA_TEST.tsv", rows)
    judge_and_score("ChartQA_TEST", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    table = read_csv(tmp_path / "out/ChartQA_TEST_acc.csv")
    # hits 1,1,0 (human) and 1,0,0 (augmented; ' yes ' is stripped); Overall then sorted categories
    assert list(table.columns) == ["Overall", "augmented", "human"]
    assert table.iloc[0].tolist() == pytest.approx([50.0, 100 / 3, 200 / 3])


def test_anls_distance_uses_raw_lengths():
    # distance between the normalised strings ('hello world' vs 'hello word': 1), divided by the
    # longer *raw* length (15 with the padding spaces), as upstream
    assert anls_distance("  hello world  ", "hello word") == pytest.approx(1 / 15)


@pytest.mark.parametrize("name", ["DocVQA_VAL", "InfoVQA_VAL"])
def test_docvqa_and_infovqa_anls(tmp_path, name):
    spec = [(["Smith", "J. Smith"], "smith"),      # exact (case-insensitive) -> 1
            (["invoice 2019"], "Invoice 2018"),   # 1 edit in 12 -> 11/12
            (["abc"], "xyz"),                     # similarity 0 < 0.5 -> 0
            (["  hello world  "], "hello word"),  # 1 edit / 15 raw characters -> 14/15
            (["abcd"], "abxy")]                   # similarity exactly 0.5 is kept
    rows = [dict(index=i, question=f"q{i}", answer=str(a)) for i, (a, _) in enumerate(spec, 1)]
    preds = {i: p for i, (_, p) in enumerate(spec, 1)}
    tsv = write_benchmark(tmp_path / f"{name}.tsv", rows)
    judge_and_score(name, write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    table = read_csv(tmp_path / f"out/{name}_acc.csv")
    assert table.iloc[0]["Overall"] == pytest.approx((1 + 11 / 12 + 0 + 14 / 15 + 0.5) / 5 * 100)


def test_ocrbench_scores(tmp_path):
    spec = [("Regular Text Recognition", ["hello"], "The text says HELLO."),      # contained, any case: 1
            ("Digit String Recognition", ["123"], "12 3"),                      # not contained: 0
            ("Scene Text-centric VQA", ["stop", "halt"], "HALT"),               # any answer counts: 1
            ("Handwritten Mathematical Expression Recognition", ["x^{2} + 1"], "x^{2}+1"),  # spaces dropped: 1
            ("Handwritten Mathematical Expression Recognition", ["X + y"], "x+y"),         # case matters: 0
            ("Key Information Extraction", ["12/05/2020"], "Date:\n12/05/2020"),            # 1
            ("Doc-oriented VQA", ["total"], FAIL)]                                          # 0
    rows = [dict(index=i, question=f"q{i}", answer=str(a), category=c) for i, (c, a, _) in enumerate(spec, 1)]
    preds = {i: p for i, (_, _, p) in enumerate(spec, 1)}
    tsv = write_benchmark(tmp_path / "OCRBench.tsv", rows)
    judge_and_score("OCRBench", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    expected = {"Text Recognition": 1, "Scene Text-centric VQA": 1, "Doc-oriented VQA": 0,
                "Key Information Extraction": 1, "Handwritten Mathematical Expression Recognition": 1,
                "Final Score": 4, "Final Score Norm": 0.4}
    assert read_json(tmp_path / "out/OCRBench_score.json") == expected  # upstream's main file, same keys and order
    assert list(read_json(tmp_path / "out/OCRBench_score.json")) == list(expected)
    table = read_csv(tmp_path / "out/OCRBench_acc.csv")
    assert table.iloc[0].to_dict() == expected
