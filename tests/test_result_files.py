"""Golden per-row result files: the cells upstream (VLMEvalKit e8e78f05) writes, worked out by
hand from its rules, compared cell for cell with ours.

- MCQ `_result.xlsx` (utils/multiple_choice.py): `log` is `Match Log: <match log>. ` (the
  prediction for a rule match, the judge's reply otherwise, upstream's exact-matching sentence
  when no judge is set); circular benchmarks keep one row per question with the group's log
  as mcq_circular_eval / eval_circular_group word it.
- VQA `_results.xlsx` (image_vqa.py, utils/vqa_eval.py process_line): `eval_gt`, `eval_pred`,
  `eval_match` as process_line leaves them, written as Python text; `eval_score` the mean of
  eval_match (DocVQA: the mean normalised Levenshtein distance, not the ANLS).
"""
from __future__ import annotations

import openpyxl
import pytest

from tests.benchdata import info, judge_and_score, read_json, write_benchmark, write_predictions
from vlmeval_steps.datasets.registry import build_dataset
from vlmeval_steps.fileio import write_jsonl
from vlmeval_steps.predictions import read_predictions
from vlmeval_steps.steps import score as score_step

NO_JUDGE = "Failed in Prefetch, no GPT-based answer matching under `exact_matching` policy."


def cells(path) -> list[dict]:
    ws = openpyxl.load_workbook(path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


class ReplyJudge:
    """A judge double keyed by the prediction in the prompt ("Answer: <prediction>\\nYour output: ")."""

    name = "reply-judge"

    def __init__(self, replies: dict):
        self.replies = replies

    def ask(self, prompt, attempt=0, **_):
        return self.replies[prompt.rsplit("Answer: ", 1)[1].split("\nYour output: ")[0]]


def judged_score(name, preds, out_dir, judge):
    out_dir.mkdir(parents=True, exist_ok=True)
    extracted = out_dir / f"{name}.reply-judge.jsonl"
    write_jsonl(extracted, build_dataset(info(name)).extract(read_predictions(preds), judge=judge))
    score_step.run(info(name), preds, extracted, out_dir / f"{name}_acc.csv", judge_name="reply-judge")
    return cells(out_dir / f"{name}_reply-judge_result.xlsx")


# ------------------------------------------------------------------ vanilla MCQ
def mmstar(tmp_path):
    return write_benchmark(tmp_path / "MMStar.tsv", [
        dict(index=1, question="Which fruit?", A="kiwi", B="apple", answer="B", category="c"),
        dict(index=2, question="Which number?", A="1", B="2", answer="B", category="c"),
        dict(index=3, question="Sum?", A="3", B="4", C="5", answer="C", category="c"),
    ])


MMSTAR_PREDS = {1: "B", 2: "The answer is A", 3: "hmm"}


def test_mcq_result_log_exact_matching(tmp_path):
    tsv = mmstar(tmp_path)
    preds = write_predictions(tsv, MMSTAR_PREDS, tmp_path / "p.tsv")
    judge_and_score("MMStar", preds, tmp_path / "out")
    rows = cells(tmp_path / "out/MMStar_exact_matching_result.xlsx")
    assert [(r["index"], r["hit"], r["log"]) for r in rows] == [
        (1, 1, "Match Log: B. "),
        (2, 0, "Match Log: The answer is A. "),
        (3, 0, f"Match Log: {NO_JUDGE}. "),          # upstream's sentence, then its '. '
    ]
    # upstream's columns (the prediction file's, then hit and log), ours after them
    pred_columns = list(read_predictions(preds).columns)
    assert list(rows[0]) == pred_columns + ["hit", "log", "extracted"]


def test_mcq_result_log_with_a_judge(tmp_path):
    tsv = mmstar(tmp_path)
    preds = write_predictions(tsv, MMSTAR_PREDS, tmp_path / "p.tsv")
    rows = judged_score("MMStar", preds, tmp_path / "out", ReplyJudge({"hmm": "C"}))
    assert [(r["index"], r["hit"], r["log"]) for r in rows] == [
        (1, 1, "Match Log: B. "), (2, 0, "Match Log: The answer is A. "), (3, 1, "Match Log: C. ")]


# ------------------------------------------------------------------ circular MCQ
def mmbench(tmp_path):
    rows = [
        # group 1: every rotation matched by the rules and right
        dict(index=1, question="Animal?", A="cat", B="dog", answer="A"),
        dict(index=1000001, question="Animal?", A="dog", B="cat", answer="B"),
        # group 2: the third rotation matched by the rules, wrong
        dict(index=2, question="Colour?", A="red", B="blue", C="green", answer="C"),
        dict(index=1000002, question="Colour?", A="green", B="red", C="blue", answer="A"),
        dict(index=2000002, question="Colour?", A="blue", B="green", C="red", answer="B"),
        # group 3: one unrotated question the rules cannot read
        dict(index=3, question="Round?", A="yes", B="no", answer="A"),
        # group 4: first rotation matched, the second needs the judge, which picks the wrong option
        dict(index=4, question="Pet?", A="fish", B="bird", answer="A"),
        dict(index=1000004, question="Pet?", A="bird", B="fish", answer="B"),
    ]
    for r in rows:
        r.update(category="x", split="dev", g_index=r["index"] % 1000000)
    return write_benchmark(tmp_path / "MMBench_DEV_EN.tsv", rows)


CIRCULAR_PREDS = {1: "A", 1000001: "B. cat", 2: "C", 1000002: "The answer is A", 2000002: "A",
                  3: "hmm", 4: "A", 1000004: "erm"}
PREFETCH_FAIL = "Failed in Prefetching Rolling 2: Answer is B, Prediction is A, Pre-fetched is A. "


def test_circular_result_logs_exact_matching(tmp_path):
    tsv = mmbench(tmp_path)
    preds = write_predictions(tsv, CIRCULAR_PREDS, tmp_path / "p.tsv")
    judge_and_score("MMBench_DEV_EN", preds, tmp_path / "out")
    rows = cells(tmp_path / "out/MMBench_DEV_EN_exact_matching_result.xlsx")
    assert [(r["index"], r["hit"], r["log"]) for r in rows] == [
        (1, 1, "Succeed During Pre-fetching"),
        (2, 0, PREFETCH_FAIL),
        (3, 0, NO_JUDGE),
        (4, 0, NO_JUDGE),
    ]
    assert list(rows[0])[-3:] == ["hit", "log", "extracted"]


def test_circular_result_logs_with_a_judge(tmp_path):
    tsv = mmbench(tmp_path)
    preds = write_predictions(tsv, CIRCULAR_PREDS, tmp_path / "p.tsv")
    rows = judged_score("MMBench_DEV_EN", preds, tmp_path / "out", ReplyJudge({"hmm": "A", "erm": "A"}))
    assert [(r["index"], r["hit"], r["log"]) for r in rows] == [
        (1, 1, "Succeed During Pre-fetching"),
        (2, 0, PREFETCH_FAIL),
        (3, 1, "Rolling 0: Answer is A, Prediction is hmm, Pre-fetched is A.\n"),
        (4, 0, "Rolling 0 Matched.\nFailed in Rolling 1: Answer is B; Prediction is erm; Pre-fetched is A; "
               "Match Log is A.\n"),
    ]


# ------------------------------------------------------------------ VQA
def vqa_rows(tmp_path, name, rows, preds):
    tsv = write_benchmark(tmp_path / f"{name}.tsv", [dict(r, question="q") for r in rows])
    judge_and_score(name, write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    result = cells(tmp_path / f"out/{name}_results.xlsx")
    return [(r["eval_gt"], r["eval_pred"], r["eval_match"], r["eval_score"]) for r in result], result


def test_textvqa_results_file(tmp_path):
    rows, result = vqa_rows(tmp_path, "TextVQA_VAL", [
        dict(index=1, answer=str(["2"] * 4 + ["3"] * 6)),
        dict(index=2, answer=str(["cat"] * 2 + ["dog"] * 8)),
    ], {1: "Two.", 2: "a cat"})
    third, two_thirds = 1 / 3, 2 / 3
    assert rows == [
        # min(1, 3/3) and min(1, 4/3) are upstream's int 1
        (str(["2"] * 4 + ["3"] * 6), "2", str([1] * 10), 1.0),
        (str(["cat"] * 2 + ["dog"] * 8), "cat", str([third] * 2 + [two_thirds] * 8), pytest.approx(0.6)),
    ]
    assert list(result[0])[-5:] == ["eval_gt", "eval_pred", "eval_match", "eval_score", "hit"]


def test_chartqa_results_file_and_a_nan_ground_truth(tmp_path, caplog):
    rows, result = vqa_rows(tmp_path, "ChartQA_TEST", [
        dict(index=1, answer="12"),
        dict(index=2, answer="None"),      # reads as NaN: upstream compares with 'nan', a miss
        dict(index=3, answer="Yes"),
    ], {1: "12.5", 2: "5", 3: " yes "})
    assert rows == [
        ("['12']", "12.5", "[True]", 1.0),
        ("['nan']", "5", "[False]", 0.0),
        ("['Yes']", "yes", "[True]", 1.0),
    ]
    assert [r["answer"] for r in result] == ["12", "nan", "Yes"]     # upstream's str(answer)
    acc = read_json_csv(tmp_path / "out/ChartQA_TEST_acc.csv")
    assert acc["Overall"] == pytest.approx(200 / 3)
    warnings = [r.getMessage() for r in caplog.records if "no ground-truth" in r.getMessage()]
    assert len(warnings) == 1 and "(indices [2])" in warnings[0]


def test_nan_ground_truth_is_counted_in_the_provenance(tmp_path):
    tsv = write_benchmark(tmp_path / "ChartQA_TEST.tsv", [dict(index=1, question="q", answer="3"),
                                                          dict(index=2, question="q", answer="")])
    preds = write_predictions(tsv, {1: "3", 2: "3"}, tmp_path / "p.tsv")
    from vlmeval_steps.steps import judge as judge_step

    judge_step.run(info("ChartQA_TEST"), preds, {"model": "exact_matching"}, tmp_path / "e.jsonl")
    score_step.run(info("ChartQA_TEST"), preds, tmp_path / "e.jsonl", tmp_path / "ChartQA_TEST_acc.csv",
                   provenance_out=tmp_path / "prov.json")
    assert read_json(tmp_path / "prov.json")["rows_without_answer"] == 1


def test_docvqa_results_file_stores_the_mean_distance(tmp_path):
    rows, _ = vqa_rows(tmp_path, "DocVQA_VAL", [
        dict(index=1, answer=str(["Hello World", "hello"])),
        dict(index=2, answer=str(["hello"])),
    ], {1: "hello world", 2: " Hello "})
    # distances: 0 and 6/len('hello world'); the second: 0 over max(5, 7) characters
    assert rows == [
        ("['Hello World', 'hello']", "hello world", str([0.0, 6 / 11]), pytest.approx(3 / 11)),
        ("['hello']", " Hello ", "[0.0]", 0.0),       # anls keeps the prediction as given
    ]


def read_json_csv(path) -> dict:
    import pandas as pd

    return pd.read_csv(path).iloc[0].to_dict()
