"""Issue 11, judged open answers: MathVision (rules first, the judge on the misses) and LLaVABench
(the judge grades against a reference answer, with upstream's system prompt).

ScriptedJudge (a unit-test double of `judge.ask`) checks our side: prefetch rules, upstream's
prompts, temperatures, retries and the tables, worked out by hand. One test per benchmark asks the
real OpenAI-compatible server (`openai_server`, `transformers serve` with the demo model).
"""
from __future__ import annotations

import pytest

from tests.benchdata import ScriptedJudge, judge_and_score, read_csv, write_benchmark, write_predictions
from vlmeval_steps.errors import InputError
from vlmeval_steps.scoring.mathvision import is_equal

FAIL = "Failed to obtain answer via API."


@pytest.mark.parametrize("pred, gt, equal", [
    ("B", "b", True),                 # strip + lower
    ("0.75", "3/4", True),            # arithmetic on both sides
    ("\\frac{3}{4}", "0.75", True),   # LaTeX read by latex2sympy
    ("2\\sqrt{2}", "2.8284271", False),  # sympy prints sqrt(2): not arithmetic, as upstream's eval fails
    ("__import__('os')", "1", False),    # never executed
    ("nan", "7", False),
])
def test_is_equal(pred, gt, equal):
    assert is_equal(pred, gt) is equal


def mathvision(tmp_path):
    opts = str(["3/11", "8/11", "6/11", "3/5"])
    rows = [dict(index=1, question="Q1 fraction?", answer="B", choices=opts, category="algebra"),
            dict(index=2, question="Q2 fraction?", answer="B", choices=opts, category="algebra"),
            dict(index=3, question="Q3 count?", answer="14", choices="[]", category="counting"),
            dict(index=4, question="Q4 area?", answer="\\frac{1}{2}", choices="[]", category="Geometry"),
            dict(index=5, question="Q5 count?", answer="3", choices="[]", category="counting"),
            dict(index=6, question="Q6 pick?", answer="A", choices=opts, category="algebra")]
    preds = {1: "The answer is (B) 8/11.",    # prefetch: the rules find B (right)
             2: "C",                          # prefetch: C, taken as is (wrong), no judge
             3: " 14 ",                       # free-form equal to the answer: prefetched
             4: "The area is one half",       # judge -> '0.5' = 1/2 by latex2sympy: hit
             5: "three",                      # judge fails five times: res '' -> miss
             6: "I think it is the first"}    # no letter: judge -> 'A' -> hit
    return write_benchmark(tmp_path / "MathVision_MINI.tsv", rows), preds


def _question(prompt):
    """'Q4' etc.: the start of the line before 'Model respone: ' in the judge prompt."""
    return prompt.rsplit("\nModel respone: ", 1)[0].rsplit("\n", 1)[-1][:2]


def test_mathvision_prefetch_judge_and_table(tmp_path):
    tsv, preds = mathvision(tmp_path)
    replies = {"Q4": ["0.5"], "Q5": [None, FAIL, None, None, None], "Q6": ["A"]}
    judge = ScriptedJudge(lambda prompt, t: replies[_question(prompt)].pop(0))
    _, records = judge_and_score("MathVision_MINI", write_predictions(tsv, preds, tmp_path / "p.tsv"),
                                 tmp_path / "out", judge=judge, judge_name="gpt-4o-mini")
    assert [r["method"] for r in records] == ["rule", "rule", "rule", "judge", "judge", "judge"]
    assert [c[1] for c in judge.calls] == [0.0, 0.0, 0.5, 1.0, 1.5, 2.0, 0.0]  # temperature ramp on Q5
    assert {c[2] for c in judge.calls} == {128}
    assert records[4]["log"].endswith("All 5 retries failed.\n")
    # hits: rows 1, 3 (prefetched), 4 and 6; prefetched: rows 1, 2 and 3
    table = read_csv(tmp_path / "out/MathVision_MINI_gpt-4o-mini_score.csv")
    assert table["Subject"].tolist() == ["Geometry", "Overall", "algebra", "counting"]  # pandas' case-sensitive sort
    assert table["tot"].tolist() == [1, 6, 3, 2]
    assert table["prefetch"].tolist() == [0, 3, 2, 1]
    assert table["hit"].tolist() == [1, 4, 2, 1]
    assert table["acc"].tolist() == pytest.approx([100.0, 400 / 6, 200 / 3, 50.0])
    assert read_csv(tmp_path / "out/MathVision_MINI_acc.csv").equals(table)


def test_mathvision_judge_prompt_is_upstreams(tmp_path):
    from vlmeval_steps.judge.mathvision import judge_prompt

    prompt = judge_prompt("Q?", "It is 5")
    assert prompt.startswith("\nPlease read the following example.\nThen extract the answer from the model "
                             "response and type it at the end of the prompt.\n\n\nHint: Please answer the question "
                             "and provide the final answer at the end.\n\nQuestion: Which number is missing?\n\n")
    assert prompt.endswith("Extracted answer: B\n\nQ?\nModel respone: It is 5Extracted answer:")


def test_mathvision_bad_choices_name_the_row(tmp_path):
    tsv = write_benchmark(tmp_path / "MathVision.tsv", [dict(index=8, question="q", answer="1", choices="(A",
                                                              category="x")])
    with pytest.raises(InputError, match="row index=8: 'choices' must be a Python list"):
        judge_and_score("MathVision", write_predictions(tsv, {8: "1"}, tmp_path / "p.tsv"), tmp_path / "out",
                        judge=ScriptedJudge([]))


def llava(tmp_path):
    rows = [dict(index=1, question="What is it?", caption="A red circle.", gpt4_ans="A red circle.", category="conv"),
            dict(index=2, question="Describe.", caption="A red circle.", gpt4_ans="Red circle on white.",
                 category="detail"),
            dict(index=3, question="Why?", caption="A red circle.", gpt4_ans="Because.", category="complex"),
            dict(index=4, question="Colour?", caption="A red circle.", gpt4_ans="Red.", category="conv")]
    preds = {1: "A circle", 2: "A red disc", 3: "Not sure", 4: FAIL}
    return write_benchmark(tmp_path / "LLaVABench.tsv", rows), preds


def test_llavabench_prompt_scores_and_table(tmp_path):
    tsv, preds = llava(tmp_path)
    replies = {"What is it?": "8 6\nAssistant 2 is brief.", "Describe.": "9,7\nok",
               "Why?": "8 5 extra\nthree values: unparsable",
               "Colour?": None}  # the real judge answers None for a prediction that failed at inference
    judge = ScriptedJudge(lambda prompt, t: replies[prompt.split("[Question]\n")[1].split("\n")[0]])
    _, records = judge_and_score("LLaVABench", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out",
                                 judge=judge, judge_name="gpt-4-turbo")
    first = judge.calls[0]
    assert first[0].startswith("[Context]\nA red circle.\n\n[Question]\nWhat is it?\n\n[Assistant 1]\nA red circle."
                               "\n\n[End of Assistant 1]\n\n[Assistant 2]\nA circle\n\n[End of Assistant 2]\n\n"
                               "[System]\nWe would like to request your feedback")
    assert first[1] == 0.2
    # unparsable replies and no reply score [-1, -1], as upstream's parse_score
    assert [r["extracted"] for r in records] == [[8.0, 6.0], [9.0, 7.0], [-1.0, -1.0], [-1.0, -1.0]]
    table = read_csv(tmp_path / "out/LLaVABench_score.csv")
    assert list(table.columns) == ["split", "Relative Score (main)", "VLM Score", "GPT4 Score"]
    # overall: model (6 + 7 - 1 - 1) / 4 = 2.75, reference 3.75 -> 73.3, 27.5, 37.5; complex: -1 / -1;
    # conv: 2.5 / 3.5 -> 71.4, 25.0, 35.0; detail: 7 / 9 -> 77.8, 70.0, 90.0 (rounded to 0.1)
    assert table.values.tolist() == [["overall", 73.3, 27.5, 37.5], ["complex", 100.0, -10.0, -10.0],
                                     ["conv", 71.4, 25.0, 35.0], ["detail", 77.8, 70.0, 90.0]]


def test_both_against_the_real_judge_server(openai_server, tmp_path, monkeypatch):
    from vlmeval_steps.judge.llm import LLMJudge

    monkeypatch.delenv("LOCAL_LLM", raising=False)
    settings = {"model": openai_server.model, "api_base": openai_server.base_url, "max_tokens": 8}
    tsv, preds = mathvision(tmp_path)
    before = openai_server.requests_served()
    with LLMJudge(settings) as judge:
        _, records = judge_and_score("MathVision_MINI", write_predictions(tsv, preds, tmp_path / "p.tsv"),
                                     tmp_path / "out", judge=judge, judge_name="tiny")
    # rows 1-3 are decided by the rules; one request for each of the other three (the tiny model replies)
    assert openai_server.requests_served() - before == 3
    assert [r["method"] for r in records] == ["rule"] * 3 + ["judge"] * 3
    assert read_csv(tmp_path / "out/MathVision_MINI_tiny_score.csv")["tot"].tolist() == [1, 6, 3, 2]

    tsv, preds = llava(tmp_path)
    before = openai_server.requests_served()
    with LLMJudge(settings) as judge:
        _, records = judge_and_score("LLaVABench", write_predictions(tsv, preds, tmp_path / "p.tsv"),
                                     tmp_path / "out", judge=judge, judge_name="tiny")
        assert judge.client.system_prompt == ("You are a helpful and precise assistant for checking the quality "
                                              "of the answer.")
        failed = judge.stats["failed"]
    # three prompts sent (the failed prediction is not); an empty reply from the tiny model is retried
    assert openai_server.requests_served() - before >= 3
    assert judge.stats["skipped_failed_predictions"] == 1
    assert all(len(r["extracted"]) == 2 for r in records)
    assert sum(r["extracted"] == [-1.0, -1.0] for r in records) >= 1 + failed
    assert read_csv(tmp_path / "out/LLaVABench_score.csv")["split"].tolist()[0] == "overall"
