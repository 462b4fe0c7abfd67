"""Thinking models: the answer after a <think> trace is what gets extracted and scored (vlmeval_steps/reasoning.py)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.benchdata import judge_and_score, write_benchmark, write_predictions
from vlmeval_steps.errors import FAIL_MSG
from vlmeval_steps.reasoning import answers_only, split_trace


@pytest.mark.parametrize("text, answer, trace", [
    ("<think>blue or red? red.</think>\n\nB", "B", "blue or red? red."),
    ("the opening tag was in the prompt </think> Yes", "Yes", "the opening tag was in the prompt </think>"),
    # upstream's SPLIT_THINK: the last closing tag decides; with two, the trace keeps its tags
    ("<think>a</think>draft<think>b</think> C", "C", "<think>a</think>draft<think>b</think>"),
    ("no trace at all", "no trace at all", ""),
    ("  keep  my  spacing ", "  keep  my  spacing ", ""),
    ("I <think> mid-sentence, no closing tag", "I <think> mid-sentence, no closing tag", ""),
])
def test_split_trace_as_upstream_split_think(text, answer, trace):
    got = split_trace(text)
    assert (got.answer, got.trace, got.unterminated) == (answer, trace, False)


def test_a_trace_cut_by_the_token_limit_is_a_failed_answer():
    got = split_trace("  <think>let me count the sides: one, two, thr")
    assert got.answer == FAIL_MSG and got.unterminated and got.trace.startswith("  <think>")


def test_tags_are_configurable_and_can_be_turned_off():
    assert split_trace("<reasoning>x</reasoning>A", ("reasoning",)).answer == "A"
    assert split_trace("<think>x</think>A", ("reasoning",)).answer == "<think>x</think>A"
    data = pd.DataFrame({"index": [1], "prediction": ["<think>x</think>A"]})
    same, counts = answers_only(data, ())
    assert same is data and counts["rows_with_trace"] == 0


def test_counts_and_the_raw_text_kept_beside():
    data = pd.DataFrame({"index": [1, 2, 3, 4], "prediction": ["<think>abcd</think>A", "B", "<think>ab", 5.0]})
    out, counts = answers_only(data)
    assert out["prediction"].tolist() == ["A", "B", FAIL_MSG, 5.0]
    assert out["thinking"].tolist() == ["abcd", "", "<think>ab", ""]
    assert counts == dict(rows_with_trace=2, unterminated=1, trace_chars_mean=6, trace_chars_max=9)  # round(6.5)
    assert data["prediction"].tolist()[0] == "<think>abcd</think>A"  # the caller's frame is untouched


def _traced(answers: dict) -> dict:
    return {i: f"<think>Yes or no, which option? B looks plausible at first, but is it {a}?</think>\n{a}"
            for i, a in answers.items()}


@pytest.mark.parametrize("name, rows, answers", [
    ("MMStar", [dict(index=i, question=f"q{i}?", A="red", B="blue", C="green", D="pink", answer=a,
                     category="coarse perception", l2_category="x") for i, a in enumerate("ABCDAB")],
     dict(enumerate(["A", "B", "C", "A", "A", "B"]))),
    ("POPE", [dict(index=i, question=f"is there a cat{i}?", answer=a, category="adversarial")
              for i, a in enumerate(["Yes", "No", "Yes", "No"])], dict(enumerate(["Yes", "No", "No", "No"]))),
    ("TextVQA_VAL", [dict(index=i, question=f"text{i}?", answer=str([a] * 10)) for i, a in
                     enumerate(["stop", "exit", "open"])], dict(enumerate(["stop", "exit", "closed"]))),
])
def test_a_trace_before_the_answer_scores_as_the_answer_alone(tmp_path, name, rows, answers):
    """Before: wrapping correct answers in a trace scored 0 on POPE and TextVQA and changed MMStar."""
    tsv = write_benchmark(tmp_path / f"{name}.tsv", rows)
    plain, _ = judge_and_score(name, write_predictions(tsv, answers, tmp_path / "plain.tsv"), tmp_path / "plain")
    traced_file = write_predictions(tsv, _traced(answers), tmp_path / "traced.tsv")
    traced, extracted = judge_and_score(name, traced_file, tmp_path / "traced")
    pd.testing.assert_frame_equal(plain, traced)
    assert float(plain.select_dtypes("number").iloc[0].iloc[0]) > 0
    # the prediction file keeps the raw text
    assert pd.read_csv(traced_file, sep="\t")["prediction"].str.startswith("<think>").all()


def test_provenance_counts_traces_and_failed_cut_offs(tmp_path):
    rows = [dict(index=i, question=f"q{i}?", A="red", B="blue", answer="A", category="c", l2_category="x")
            for i in range(3)]
    tsv = write_benchmark(tmp_path / "MMStar.tsv", rows)
    preds = write_predictions(tsv, {0: "<think>hm</think>A", 1: "<think>hmmmm", 2: "A"}, tmp_path / "p.tsv")
    from tests.benchdata import info
    from vlmeval_steps.steps import judge as judge_step
    from vlmeval_steps.steps import score as score_step

    judge_step.run(info("MMStar"), preds, {"model": "exact_matching"}, tmp_path / "x.jsonl")
    score_step.run(info("MMStar"), preds, tmp_path / "x.jsonl", tmp_path / "MMStar_acc.csv",
                   provenance_out=tmp_path / "prov.json")
    prov = json.loads((tmp_path / "prov.json").read_text())
    assert prov["failed_predictions"] == 1
    assert prov["reasoning_traces"] == dict(rows_with_trace=2, unterminated=1, trace_chars_mean=7,
                                            trace_chars_max=12, tags=["think"])


def test_the_report_counts_traces_where_a_model_wrote_them(tmp_path):
    from results_fixtures import write_results
    from vlmeval_steps.report.html import render
    from vlmeval_steps.report.summary import collect

    results = tmp_path / "results"
    pairs = write_results(results, {"Thinker": 0.8, "Plain": 0.4}, datasets=["DemoShapes"])
    prov_file = results / "Thinker" / "DemoShapes_provenance.json"
    prov = json.loads(prov_file.read_text())
    prov["reasoning_traces"] = dict(rows_with_trace=118, unterminated=2, trace_chars_mean=1830,
                                    trace_chars_max=9000, tags=["think"])
    prov_file.write_text(json.dumps(prov))
    page = render(collect(results, pairs), results / "report.html")
    inputs = page[page.index('id="provenance"'):].split("</table>")[0]
    assert "<th>reasoning traces</th>" in inputs
    assert "<td>118 rows (2 cut off), mean 1,830 chars</td>" in inputs
    # a report without thinking models has no such column
    prov_file.write_text(json.dumps(dict(prov, reasoning_traces=dict(rows_with_trace=0))))
    assert "reasoning traces" not in render(collect(results, pairs), results / "report.html")
