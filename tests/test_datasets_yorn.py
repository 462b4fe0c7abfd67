"""Yes/No benchmarks as VLMEvalKit scores them: YOrN_Extraction with the VQA punctuation rules,
the judge's temperature ramp on "Unknown", and the MME, POPE and HallusionBench tables. Every
expected number is worked out by hand in the comments."""
from __future__ import annotations

import pandas as pd
import pytest

from tests.benchdata import ScriptedJudge, info, judge_and_score, read_csv, write_benchmark, write_predictions
from vlmeval_steps.datasets.images import extract_images
from vlmeval_steps.datasets.registry import build_dataset
from vlmeval_steps.datasets.tsv import read_meta
from vlmeval_steps.judge.yorn import yorn_extraction
from vlmeval_steps.scoring.text import process_punctuation

FAIL = "Failed to obtain answer via API."


@pytest.mark.parametrize("prediction, expected", [
    ("Yes, it is.", "Yes"),          # ', ' -> comma removed; final period removed
    ("No.", "No"),
    ("yes-no", "Unknown"),           # '-' between letters becomes a space: both words present
    ("Not sure", "Unknown"),         # 'not' is not 'no'
    ("No, 2000 people", "No"),
    ("No,2,000 people", "Unknown"),  # a digit,digit comma anywhere: every mark is removed -> 'no2000'
    ("Yes.It is", "Unknown"),        # a period before a letter is removed, gluing 'yesit'
    ("3.5 yes", "Yes"),              # a period before a digit stays
    ("YES!", "Yes"),
    (FAIL, "Unknown"),
])
def test_yes_no_extraction(prediction, expected):
    assert yorn_extraction(prediction) == expected


def test_process_punctuation_quirks():
    assert process_punctuation("a (b) c") == "a b c"       # '(' next to a space: removed; ')' too
    assert process_punctuation("a(b)c") == "a b c"         # no space next to them: each becomes a space
    assert process_punctuation("1,000 cats.") == "1000 cats"
    # upstream caps the period removal at 32 (it passes re.UNICODE == 32 as the count)
    assert process_punctuation("." * 40) == "." * 8


# ------------------------------------------------------------------ MME
def mme(tmp_path):
    rows = []
    # (category, image, answer, prediction)
    spec = [("OCR", "a.png", "Yes", "Yes"), ("OCR", "a.png", "No", "No"),
            ("OCR", "b.png", "Yes", "No"), ("OCR", "b.png", "No", "No"),
            ("artwork", "c.png", "Yes", "yes"), ("artwork", "c.png", "No", "yes"),
            ("code_reasoning", "d.png", "Yes", "Yes"), ("code_reasoning", "d.png", "No", "no")]
    preds = {}
    for i, (cat, img, ans, pred) in enumerate(spec, 1):
        rows.append(dict(index=i, image_path=img, category=cat, answer=ans,
                         question=f"Is this question {i}? Please answer yes or no."))
        preds[i] = pred
    return write_benchmark(tmp_path / "MME.tsv", rows), preds


def test_mme_prompt_is_the_question_as_given(tmp_path, monkeypatch):
    tsv, _ = mme(tmp_path)
    monkeypatch.chdir(tmp_path)
    meta = read_meta(tsv)
    ds = build_dataset(info("MME"), images=extract_images(tsv, meta, tmp_path / "img"))
    # image_path names the dumped file, as upstream
    assert ds.build_prompt(meta.iloc[0].to_dict()) == [
        dict(type="image", value="img/a.png"),
        dict(type="text", value="Is this question 1? Please answer yes or no.")]


def test_mme_scores(tmp_path):
    tsv, preds = mme(tmp_path)
    judge_and_score("MME", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    table = read_csv(tmp_path / "out/MME_acc.csv")
    # OCR: acc 3/4 = 75, acc+ = mean(a: 1*1, b: 0*1) = 50 -> 125; artwork: acc 50, acc+ 0 -> 50;
    # code_reasoning: 100 + 100 = 200. perception = 125 + 50, reasoning = 200
    assert list(table.columns) == ["perception", "reasoning", "OCR", "artwork", "code_reasoning"]
    assert table.iloc[0].tolist() == pytest.approx([175.0, 200.0, 125.0, 50.0, 200.0])
    # the same table under upstream's name, and the per-row extraction under _auxmatch
    assert read_csv(tmp_path / "out/MME_score.csv").equals(table)
    aux = pd.read_excel(tmp_path / "out/MME_auxmatch.xlsx")
    assert list(aux["extracted"]) == ["Yes", "No", "No", "No", "Yes", "Yes", "Yes", "No"]


# ------------------------------------------------------------------ POPE
def test_pope_f1_precision_recall_with_exploded_categories(tmp_path):
    rows = [dict(index=1, answer="Yes", category="adversarial"), dict(index=2, answer="No", category="adversarial"),
            dict(index=3, answer="Yes", category="popular"), dict(index=4, answer="No", category="popular"),
            dict(index=5, answer="Yes", category="adversarial,random"), dict(index=6, answer="No", category="random")]
    for r in rows:
        r["question"] = f"Is there a cat in image {r['index']}?"
    preds = {1: "Yes", 2: "Yes", 3: "No", 4: "no", 5: "yes", 6: "I cannot tell"}
    tsv = write_benchmark(tmp_path / "POPE.tsv", rows)
    judge_and_score("POPE", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    table = read_csv(tmp_path / "out/POPE_acc.csv").set_index("split")
    assert list(table.columns) == ["Overall", "acc", "precision", "recall"]
    assert list(table.index) == ["Overall", "adversarial", "popular", "random"]
    # exploded rows: 1 adv, 2 adv, 3 pop, 4 pop, 5 adv, 5 random, 6 random (7 rows).
    # Overall: TP = 1, 5, 5 = 3; FP = 2; FN = 3; TN = 4, 6 (Unknown is not 'Yes')
    # precision 3/4, recall 3/4, F1 3/4; acc: right on 1, 4, 5, 5 -> 4/7
    assert table.loc["Overall"].tolist() == pytest.approx([75.0, 400 / 7, 75.0, 75.0])
    # adversarial (1, 2, 5): TP 2, FP 1 -> P 2/3, R 1, F1 0.8; acc 2/3
    assert table.loc["adversarial"].tolist() == pytest.approx([80.0, 200 / 3, 200 / 3, 100.0])
    # popular (3, 4): no predicted or true positive found -> all zero denominators -> 0; acc 1/2
    assert table.loc["popular"].tolist() == pytest.approx([0.0, 50.0, 0.0, 0.0])
    # random (5, 6): TP 1 -> P = R = F1 = 1; acc 1/2 (row 6 is Unknown)
    assert table.loc["random"].tolist() == pytest.approx([100.0, 50.0, 100.0, 100.0])


# ------------------------------------------------------------------ HallusionBench
def test_hallusionbench_string_indices_give_figure_and_question_groups(tmp_path):
    def row(index, cat, l2, ans):
        return dict(index=index, category=cat, answer=ans, question=f"Is {index} true?", **{"l2-category": l2})

    rows = [row("VS_chart_0_1_0_0", "VS", "chart", "Yes"), row("VS_chart_0_1_0_1", "VS", "chart", "No"),
            row("VS_chart_0_1_1_0", "VS", "chart", "No"), row("VS_chart_0_1_1_1", "VS", "chart", "Yes"),
            row("VD_map_0_2_0_0", "VD", "map", "Yes"), row("VD_map_0_2_0_1", "VD", "map", "No"),
            dict(row("VS_chart_0_3_0_0", "VS", "chart", "Yes"), image="")]  # no image: dropped, as upstream
    preds = {"VS_chart_0_1_0_0": "Yes", "VS_chart_0_1_0_1": "No", "VS_chart_0_1_1_0": "Yes",
             "VS_chart_0_1_1_1": "Yes", "VD_map_0_2_0_0": "Yes", "VD_map_0_2_0_1": "It depends"}
    tsv = write_benchmark(tmp_path / "HallusionBench.tsv", rows)
    judge_and_score("HallusionBench", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    table = read_csv(tmp_path / "out/HallusionBench_acc.csv").set_index("split")
    assert list(table.columns) == ["aAcc", "fAcc", "qAcc"]
    assert list(table.index) == ["Overall", "VD", "VS", "chart", "map"]
    # right: rows 1, 2, 4, 5 of 6 -> aAcc 4/6.
    # figures (l2_set_figure): chart_1_0 {1,2} all right; chart_1_1 {3,4} no; map_2_0 {5,6} no -> 1/3
    # questions (l2_set_question): chart_1_0 {1,3} no; chart_1_1 {2,4} yes; map_2_0 {5} yes; map_2_1 {6} no -> 2/4
    assert table.loc["Overall"].tolist() == pytest.approx([400 / 6, 100 / 3, 50.0])
    assert table.loc["VD"].tolist() == pytest.approx([50.0, 0.0, 50.0])
    assert table.loc["VS"].tolist() == pytest.approx([75.0, 50.0, 50.0])
    assert table.loc["chart"].tolist() == table.loc["VS"].tolist()
    assert table.loc["map"].tolist() == table.loc["VD"].tolist()


# ------------------------------------------------------------------ the judge on "Unknown"
def test_unknown_answers_go_to_the_judge_with_rising_temperature(tmp_path):
    tsv = write_benchmark(tmp_path / "POPE.tsv", [
        dict(index=1, question="Is there a dog in the image", answer="Yes", category="random"),
        dict(index=2, question="Is there a cat in the image", answer="No", category="random"),
        dict(index=3, question="Is there a cow in the image", answer="No", category="random")])
    preds = {1: "I believe so", 2: "No", 3: FAIL}
    replies = {"I believe so": ["Maybe", None, "Yes."], FAIL: ["Unknown"] * 5}
    judge = ScriptedJudge(lambda prompt, t: replies[prompt.split("\nAnswer: ")[-1].split("\n")[0]].pop(0))
    acc, records = judge_and_score("POPE", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out",
                                   judge=judge, judge_name="scripted-judge")
    assert [r["extracted"] for r in records] == ["Yes", "No", "Unknown"]
    assert [r["method"] for r in records] == ["judge", "rule", "judge"]
    # row 1: three tries at 0, 0.5, 1.0 (a failed reply counts as a try); row 3: all five
    assert [c[1] for c in judge.calls] == [0.0, 0.5, 1.0, 0.0, 0.5, 1.0, 1.5, 2.0]
    prompt = judge.calls[0][0]
    assert prompt.startswith("You are an AI assistant who will help me to match an answer with two options of a "
                             "question. The options are only Yes / No. ")
    assert prompt.endswith("Example 3: \nQuestion: Is there a dog in the image?\nAnswer: I believe so\nYour output: ")
    # all right except row 3 (Unknown) -> acc 2/3; Yes-class: TP 1, no FP/FN -> F1 100
    assert acc.set_index("split").loc["Overall", "acc"] == pytest.approx(200 / 3)
    assert acc.set_index("split").loc["Overall", "Overall"] == pytest.approx(100.0)
