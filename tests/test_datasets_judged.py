"""MathVista and MM-Vet: scored only by an LLM judge, through the judge interface
(`judge.ask(prompt, temperature, max_tokens) -> str | None`).

The judge here is ScriptedJudge, a unit-test double that returns scripted replies: these tests
check our side (prefetch rules, upstream's prompts, the temperature ramps, retries on bad
replies, the tables), not an LLM. Expected numbers are worked out by hand in the comments.
"""
from __future__ import annotations

import math
import subprocess
import sys

import pytest

from tests.benchdata import ScriptedJudge, judge_and_score, read_csv, write_benchmark, write_predictions
from vlmeval_steps.errors import InputError

FAIL = "Failed to obtain answer via API."


# ------------------------------------------------------------------ MathVista
def mathvista(tmp_path):
    mc = dict(question_type="multi_choice", answer_type="text", choices=str(["3/11", "8/11", "6/11", "3/5"]),
              answer="8/11", answer_option="B")
    free = dict(question_type="free_form", choices="", answer_option="")
    rows = [
        dict(index=1, question="Q1 fraction?", task="figure question answering",
             skills=str(["arithmetic reasoning"]), **mc),
        dict(index=2, question="Q2 fraction?", task="figure question answering",
             skills=str(["arithmetic reasoning", "statistical reasoning"]), **mc),
        dict(index=3, question="Q3 count?", task="math word problem", skills=str(["arithmetic reasoning"]),
             answer_type="integer", answer="14", **free),
        dict(index=4, question="Q4 zero?", task="math word problem", skills=str(["algebraic reasoning"]),
             answer_type="integer", answer="0", **free),
        dict(index=5, question="Q5 value?", task="textbook question answering", skills=str(["scientific reasoning"]),
             answer_type="float", answer="1.5", **free),
        dict(index=6, question="Q6 colour?", task="textbook question answering",
             skills=str(["scientific reasoning"]), answer_type="text", answer="blue", **free),
        dict(index=7, question="Q7 count?", task="math word problem", skills=str(["arithmetic reasoning"]),
             answer_type="integer", answer="3", **free),
    ]
    preds = {1: "The answer is (B) 8/11.",  # prefetch: one letter among the last tokens -> B (right)
             2: "C",                        # prefetch takes any letter the rules find: C (wrong), no judge
             3: "14",                       # integer equal to the answer: prefetched
             4: "0",                        # equal but 0 is falsy upstream: the judge is asked
             5: "The value is 1.5",         # not a number: the judge is asked
             6: "blue",                     # text answers never score, even when right
             7: "three"}                    # the judge fails five times
    return write_benchmark(tmp_path / "MathVista_MINI.tsv", rows), preds


def mathvista_judge():
    replies = {"Q4": ["0"], "Q5": [None, "1.5"], "Q6": ["blue"], "Q7": [None, FAIL, None, None, None]}
    return ScriptedJudge(lambda prompt, t: replies[_question(prompt)[:2]].pop(0))


def _question(prompt):
    """The row's question: the line before 'Model respone: ' in the judge prompt."""
    return prompt.rsplit("\nModel respone: ", 1)[0].rsplit("\n", 1)[-1]


def test_mathvista_prefetch_judge_and_table(tmp_path):
    tsv, preds = mathvista(tmp_path)
    judge = mathvista_judge()
    acc, records = judge_and_score("MathVista_MINI", write_predictions(tsv, preds, tmp_path / "p.tsv"),
                                   tmp_path / "out", judge=judge, judge_name="gpt-4o-mini")
    logs = {r["index"]: r["log"] for r in records}
    assert [logs[i] for i in (1, 2, 3)] == ["Prefetch succeed"] * 3
    assert logs[5] == "Try 0: output is The value is 1.5, failed to parse.\nSucceed"
    assert logs[7].endswith("All 5 retries failed.\n") and logs[7].count("failed to parse") == 5
    res = {r["index"]: r["extracted"]["res"] for r in records}
    assert res == {1: "B", 2: "C", 3: 14, 4: "0", 5: "1.5", 6: "blue", 7: ""}
    # temperatures 0, 0.5, ... per row; MathVista's judge gets max_tokens=128
    assert [(c[1], c[2]) for c in judge.calls] == [(0.0, 128), (0.0, 128), (0.5, 128), (0.0, 128)] + [
        (t, 128) for t in (0.0, 0.5, 1.0, 1.5, 2.0)]

    # hits: 1 yes, 2 no, 3 yes, 4 yes (judge '0'), 5 yes (judge '1.5'), 6 no (text), 7 no
    table = read_csv(tmp_path / "out/MathVista_MINI_acc.csv")
    assert list(table.columns) == ["Task&Skill", "tot", "prefetch", "hit", "prefetch_rate", "acc"]
    # keys in order of first appearance: Overall, then each row's skills, then its task
    expected = [("Overall", 7, 3, 4), ("arithmetic reasoning", 4, 3, 2), ("figure question answering", 2, 2, 1),
                ("statistical reasoning", 1, 1, 0), ("math word problem", 3, 1, 2), ("algebraic reasoning", 1, 0, 1),
                ("scientific reasoning", 2, 0, 1), ("textbook question answering", 2, 0, 1)]
    assert [tuple(r) for r in table[["Task&Skill", "tot", "prefetch", "hit"]].itertuples(index=False)] == expected
    for (_, tot, fetch, hit), rate, acc_ in zip(expected, table["prefetch_rate"], table["acc"]):
        assert rate == pytest.approx(fetch / tot * 100) and acc_ == pytest.approx(hit / tot * 100)
    # upstream's file names beside it: {judge}_score.csv (same table) and {judge}.xlsx (rows with res, log)
    assert read_csv(tmp_path / "out/MathVista_MINI_gpt-4o-mini_score.csv").equals(table)
    assert (tmp_path / "out/MathVista_MINI_gpt-4o-mini.xlsx").exists()


def test_mathvista_judge_prompt_is_upstreams(tmp_path):
    tsv, preds = mathvista(tmp_path)
    judge = mathvista_judge()
    judge_and_score("MathVista_MINI", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out",
                    judge=judge, judge_name="j")
    prompt = judge.calls[1][0]  # row 5
    assert prompt.startswith("\nPlease read the following example.\nThen extract the answer from the model response "
                             "and type it at the end of the prompt.\n\n\nHint: Please answer the question requiring "
                             "an integer answer and provide the final value,\ne.g., 1, 2, 3, at the end.\n\n"
                             "Question: Which number is missing?\n\nModel response: The number missing in the "
                             "sequence is 14.\n\nExtracted answer: 14\n\n")
    assert prompt.count("Extracted answer:") == 6  # five examples and the question
    # the question, then the prediction with upstream's typo and no newline before the last line
    assert prompt.endswith("Extracted answer: B\n\nQ5 value?\nModel respone: The value is 1.5Extracted answer:")


# ------------------------------------------------------------------ MM-Vet
def mmvet(tmp_path):
    rows = [dict(index=1, question="What is it?", answer="cat<OR>kitten", category="rec"),
            dict(index=2, question="What is x?", answer="-1<AND>-5", category="rec,ocr"),
            dict(index=3, question="Total?", answer="12", category="ocr,math"),
            dict(index=4, question="Who painted it?", answer="Monet", category="know")]
    preds = {1: "A cat", 2: "x=-1", 3: "unclear", 4: "Claude Monet"}
    return write_benchmark(tmp_path / "MMVet.tsv", rows), preds


def test_mmvet_grading_retries_and_tables(tmp_path):
    tsv, preds = mmvet(tmp_path)
    replies = {"What is it?": ["1.0"], "What is x?": ["0.5 points", "1.5", "0.5"], "Total?": ["n/a"] * 5,
               "Who painted it?": [None, "0.8"]}
    judge = ScriptedJudge(lambda prompt, t: replies[prompt.rsplit("\n", 1)[-1].split(" | ")[0]].pop(0))
    acc, records = judge_and_score("MMVet", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out",
                                   judge=judge, judge_name="gpt-4-turbo")
    assert [r["extracted"] for r in records] == [1.0, 0.5, 0.0, 0.8]
    assert records[1]["log"] == ("Try 0: output is 0.5 points, failed to parse.\n"
                                 "Try 1: output is 1.5, invalid score: 1.5.\nSucceed")
    assert records[2]["log"].endswith("All 5 retries failed.\n")
    assert {c[2] for c in judge.calls} == {2048}
    assert [c[1] for c in judge.calls if "What is x?" in c[0].rsplit("\n", 1)[-1]] == [0.0, 0.5, 1.0]
    # the row under grading: <AND>/<OR> padded with spaces, an empty last cell to complete
    assert judge.calls[1][0].endswith("\nWhat is x? | -1 <AND> -5 | x=-1 | ")
    assert judge.calls[1][0].startswith("\nCompare the ground truth and prediction from AI models, to give a "
                                        "correctness score for the prediction.\n<AND> in the ground truth")

    # one counter for capabilities and combinations, as upstream: row 1 ('rec' alone) counts twice
    # for rec, row 4 ('know') twice for know.
    # rec: 1.0 + 1.0 + 0.5 over 3 -> 83.33; ocr: 0.5 + 0.0 over 2 -> 25; know: 1.6 / 2 -> 80;
    # gen, spat: no rows (left empty; upstream divides by zero); math: 0 / 1; Overall: 2.3 / 4 -> 57.5
    main = read_csv(tmp_path / "out/MMVet_acc.csv")
    assert list(main["Category"]) == ["rec", "ocr", "know", "gen", "spat", "math", "Overall"]
    assert list(main["tot"]) == [3, 2, 2, 0, 0, 1, 4]
    got = main["acc"].tolist()
    assert got[:3] == pytest.approx([250 / 3, 25.0, 80.0]) and math.isnan(got[3]) and math.isnan(got[4])
    assert got[5:] == pytest.approx([0.0, 57.5])
    assert read_csv(tmp_path / "out/MMVet_gpt-4-turbo_score.csv").equals(main)
    fine = read_csv(tmp_path / "out/MMVet_gpt-4-turbo_score_fine.csv")
    assert list(fine["Category"]) == ["rec", "rec_ocr", "ocr_math", "know", "Overall"]
    assert fine["acc"].tolist() == pytest.approx([250 / 3, 50.0, 0.0, 80.0, 57.5])


# ------------------------------------------------------------------ prompts
@pytest.mark.parametrize("name", ["MathVista_MINI", "MMVet"])
def test_prompt_is_the_bare_question_after_the_image(tmp_path, monkeypatch, name):
    from tests.benchdata import info
    from vlmeval_steps.datasets.images import extract_images
    from vlmeval_steps.datasets.registry import build_dataset
    from vlmeval_steps.datasets.tsv import read_meta

    tsv, _ = (mathvista if name == "MathVista_MINI" else mmvet)(tmp_path)
    monkeypatch.chdir(tmp_path)
    meta = read_meta(tsv)
    ds = build_dataset(info(name), images=extract_images(tsv, meta, tmp_path / "img"))
    # MathVista's own "Hint: ..." lives in its question field; no suffix is added for either
    question = "Q1 fraction?" if name == "MathVista_MINI" else "What is it?"
    assert ds.build_prompt(meta.iloc[0].to_dict()) == [dict(type="image", value="img/1.png"),
                                                      dict(type="text", value=question)]


# ------------------------------------------------------------------ no judge, no score
@pytest.mark.parametrize("name", ["MathVista_MINI", "MMVet"])
def test_judge_only_benchmarks_refuse_without_a_judge(tmp_path, name):
    tsv, preds = (mathvista if name == "MathVista_MINI" else mmvet)(tmp_path)
    with pytest.raises(InputError, match="only be scored by an LLM judge"):
        judge_and_score(name, write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    assert not (tmp_path / "out" / f"{name}_acc.csv").exists()


def test_standalone_score_without_a_judge_exits_with_a_message(tmp_path):
    tsv, preds = mmvet(tmp_path)
    pred = write_predictions(tsv, preds, tmp_path / "MyModel_MMVet.xlsx", "xlsx")
    proc = subprocess.run([sys.executable, "-m", "vlmeval_steps", "score", "--dataset", "MMVet", "--data", str(tsv),
                           "--predictions", str(pred), "--out", str(tmp_path / "scores")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "MMVet can only be scored by an LLM judge" in proc.stderr
    assert not list((tmp_path / "scores").glob("*.csv"))
