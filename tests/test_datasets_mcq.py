"""Multiple choice as VLMEvalKit scores it: prompt, can_infer extraction, vanilla and circular
hits, report_acc's table; MMMU's interleaved images and open questions; test splits without
answers. Expected values are worked out by hand in the comments."""
from __future__ import annotations

import pytest

from tests.benchdata import (info, judge_and_score, read_csv, shape_png, write_benchmark, write_predictions)
from vlmeval_steps.datasets.images import extract_images
from vlmeval_steps.datasets.registry import build_dataset
from vlmeval_steps.datasets.tsv import read_meta
from vlmeval_steps.errors import InputError
from vlmeval_steps.predictions import read_predictions

FAIL = "Failed to obtain answer via API."


def prompts_of(name, tsv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    meta = read_meta(tsv)
    ds = build_dataset(info(name), images=extract_images(tsv, meta, tmp_path / "img"))
    return {line["index"]: ds.build_prompt(line) for line in meta.to_dict("records")}


# ------------------------------------------------------------------ vanilla MCQ (MMStar)
def mmstar(tmp_path, **answers):
    rows = [
        # "None" and "NA" are NaN to pandas: options A and C vanish from prompt and choices
        dict(index=1, question="Which fruit?", A="None", B="apple", C="NA", D="pear", answer="B",
             category="coarse perception", **{"l2-category": "image scene"}),
        dict(index=2, question="Which number?", A="1", B="2", answer="A",
             category="coarse perception", **{"l2-category": "image scene"}),
        dict(index=3, question="Sum?", A="3", B="4", C="5", answer="C", category="math", **{"l2-category": "numeric"}),
        dict(index=4, question="Product?", A="6", B="8", answer="B", category="math", **{"l2-category": "numeric"}),
        dict(index=5, question="Root?", A="2", B="3", answer="A", category="math", **{"l2-category": "numeric"}),
    ]
    for r in rows:
        r["answer"] = answers.get(f"answer{r['index']}", r["answer"])
    return write_benchmark(tmp_path / "MMStar.tsv", rows)


def test_mcq_prompt_drops_nan_options_and_keeps_upstream_text(tmp_path, monkeypatch):
    prompts = prompts_of("MMStar", mmstar(tmp_path), tmp_path, monkeypatch)
    # golden: images first, then "Question:", only the non-NaN options, and the instruction
    # with its space before the final newline
    assert prompts[1] == [
        dict(type="image", value="img/1.png"),
        dict(type="text", value="Question: Which fruit?\nOptions:\nB. apple\nD. pear\n"
                                "Please select the correct answer from the options above. \n"),
    ]


def test_mcq_extraction_and_report_table(tmp_path):
    tsv = mmstar(tmp_path)
    preds = {
        1: "apple",                         # option text, not a letter: can_infer_text -> B (right)
        2: "A or B",                        # two letters: undecided -> Z without a judge (wrong)
        3: "I think the answer is (C).",    # one letter among the last four tokens -> C (right)
        4: "B is wrong because the picture clearly shows something else entirely",  # letter too early -> Z
        5: "Cannot determine the answer",   # a refusal -> Z (wrong)
    }
    acc, records = judge_and_score("MMStar", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    assert [r["extracted"] for r in records] == ["B", "Z", "C", "Z", "Z"]
    assert [r["method"] for r in records] == ["rule", "none", "rule", "none", "rule"]
    table = read_csv(tmp_path / "out/MMStar_acc.csv")
    # hits 1,0,1,0,0; no split column -> one 'none' row; l2-categories (sorted) then categories (sorted)
    assert list(table.columns) == ["split", "Overall", "image scene", "numeric", "coarse perception", "math"]
    row = table.iloc[0]
    assert row["split"] == "none"
    assert row["Overall"] == pytest.approx(2 / 5)
    assert row["image scene"] == pytest.approx(1 / 2) and row["coarse perception"] == pytest.approx(1 / 2)
    assert row["numeric"] == pytest.approx(1 / 3) and row["math"] == pytest.approx(1 / 3)
    # every cell quoted, as upstream's csv.QUOTE_ALL
    assert (tmp_path / "out/MMStar_acc.csv").read_text().splitlines()[0].startswith('"split","Overall"')
    assert (tmp_path / "out/MMStar_exact_matching_result.xlsx").exists()


# ------------------------------------------------------------------ circular (MMBench, CCBench)
def mmbench(tmp_path, name="MMBench_DEV_EN", with_g_index=True, with_answer=True):
    img1, img2, img3 = shape_png("circle"), shape_png("square"), shape_png("circle", (0, 0, 200))
    cp, fps = "coarse_perception", "finegrained_perception (instance-level)"
    rows = [
        # question 1 and its one rotation (image given as a reference to row 1, as circular TSVs do)
        dict(index=1, image=img1, hint="Look closely.", question="What animal?", A="cat", B="dog", answer="A",
             category="animal_id", l2=cp, g_index=1),
        dict(index=1000001, image="1", hint="Look closely.", question="What animal?", A="dog", B="cat", answer="B",
             category="animal_id", l2=cp, g_index=1),
        # question 2 with three options: two rotations
        dict(index=2, image=img2, question="Colour?", A="red", B="blue", C="green", answer="C", category="color",
             l2=fps, g_index=2),
        dict(index=1000002, image="2", question="Colour?", A="green", B="red", C="blue", answer="A",
             category="color", l2=fps, g_index=2),
        dict(index=2000002, image="2", question="Colour?", A="blue", B="green", C="red", answer="B",
             category="color", l2=fps, g_index=2),
        # an "abnormal" question left unrotated
        dict(index=3, image=img3, question="Is it round?", A="yes", B="no", answer="A", category="animal_id", l2=cp,
             g_index=3),
    ]
    for r in rows:
        r["l2-category"] = r.pop("l2")
        r["split"] = "dev"
        if not with_g_index:
            r.pop("g_index")
        if not with_answer:
            r.pop("answer")
    return write_benchmark(tmp_path / f"{name}.tsv", rows)


CIRCULAR_PREDS = {
    1: "A", 1000001: "B. cat",                               # both rotations right -> group 1 counts
    2: "C", 1000002: "The answer is A", 2000002: "A",       # last rotation wrong -> group 2 does not
    3: FAIL,                                                 # a failed API answer: never a hit
}


@pytest.mark.parametrize("with_g_index", [True, False])
def test_circular_groups_count_only_when_every_rotation_is_right(tmp_path, with_g_index):
    tsv = mmbench(tmp_path, with_g_index=with_g_index)
    judge_and_score("MMBench_DEV_EN", write_predictions(tsv, CIRCULAR_PREDS, tmp_path / "p.xlsx", "xlsx"),
                    tmp_path / "out")
    table = read_csv(tmp_path / "out/MMBench_DEV_EN_acc.csv")
    # main rows 1, 2, 3 with group hits 1, 0, 0; l2-categories renamed by MMB_abbrs and sorted by
    # their full names (coarse... < finegrained...), then the sorted leaf categories
    assert list(table.columns) == ["split", "Overall", "CP", "FP-S", "animal_id", "color"]
    row = table.iloc[0]
    assert row["split"] == "dev"
    assert row["Overall"] == pytest.approx(1 / 3)
    assert row["CP"] == pytest.approx(1 / 2) and row["animal_id"] == pytest.approx(1 / 2)  # groups 1 and 3
    assert row["FP-S"] == 0 and row["color"] == 0
    result = read_predictions(tmp_path / "out/MMBench_DEV_EN_exact_matching_result.xlsx")
    assert list(result["index"]) == [1, 2, 3] and list(result["hit"]) == [1, 0, 0]


def test_ccbench_is_circular_too(tmp_path):
    tsv = mmbench(tmp_path, name="CCBench")
    acc, _ = judge_and_score("CCBench", write_predictions(tsv, CIRCULAR_PREDS, tmp_path / "p.tsv"), tmp_path / "o")
    assert acc.iloc[0]["Overall"] == pytest.approx(1 / 3)  # vanilla would be 4/6


def test_test_split_without_answers_builds_prompts_but_refuses_to_score(tmp_path, monkeypatch):
    tsv = mmbench(tmp_path, name="MMBench_TEST_EN", with_answer=False)
    prompts = prompts_of("MMBench_TEST_EN", tsv, tmp_path, monkeypatch)
    assert prompts[1][-1]["value"].startswith("Hint: Look closely.\nQuestion: What animal?\nOptions:\nA. cat\n")
    preds = write_predictions(tsv, CIRCULAR_PREDS, tmp_path / "p.tsv")
    with pytest.raises(InputError, match="no 'answer' column.*inference-only"):
        judge_and_score("MMBench_TEST_EN", preds, tmp_path / "out")
    assert not (tmp_path / "out/MMBench_TEST_EN_acc.csv").exists()


def test_a_row_without_ground_truth_is_a_miss_as_upstream(tmp_path, caplog):
    tsv = mmstar(tmp_path, answer1="")  # row 1 has no answer: upstream compares its option with NaN, a miss
    preds = write_predictions(tsv, {1: "B", 2: "A", 3: "C", 4: "B", 5: "A"}, tmp_path / "p.tsv")
    acc, _ = judge_and_score("MMStar", preds, tmp_path / "out")
    assert acc["Overall"][0] == pytest.approx(0.8)
    warnings = [r.getMessage() for r in caplog.records if "no ground-truth" in r.getMessage()]
    assert len(warnings) == 1 and "(indices [1])" in warnings[0]


def test_no_ground_truth_at_all_stops_scoring(tmp_path):
    tsv = mmstar(tmp_path, **{f"answer{i}": "" for i in range(1, 6)})
    with pytest.raises(InputError, match=r"5 of 5 rows have no ground-truth 'answer'"):
        judge_and_score("MMStar", write_predictions(tsv, dict.fromkeys(range(1, 6), "A"), tmp_path / "p.tsv"),
                        tmp_path / "out")


# ------------------------------------------------------------------ MMMU
def mmmu(tmp_path):
    a, b = shape_png("circle"), shape_png("square")
    rows = [
        dict(index=1, image=str([a, b]), image_path=str(["1_a.png", "1_b.png"]),
             question="Compare <image 1> and <image 2>. Which is round?", A="left", B="right", answer="A",
             category="Art", split="dev", **{"l2-category": "Art & Design"}),
        # an open question: no options, a free-form answer
        dict(index=2, image=a, question="What is 6*7?", answer="42", category="Math", split="validation",
             **{"l2-category": "Science"}),
        dict(index=3, image=b, question="Shape of <image 1>?", A="round", B="square", answer="B",
             category="Math", split="validation", **{"l2-category": "Science"}),
    ]
    return write_benchmark(tmp_path / "MMMU_DEV_VAL.tsv", rows)


def test_mmmu_interleaves_images_at_their_tags(tmp_path, monkeypatch):
    prompts = prompts_of("MMMU_DEV_VAL", mmmu(tmp_path), tmp_path, monkeypatch)
    assert prompts[1] == [
        dict(type="text", value="Question: Compare "),
        dict(type="image", value="img/1_a.png"),
        dict(type="text", value=" and "),
        dict(type="image", value="img/1_b.png"),
        dict(type="text", value=". Which is round?\nOptions:\nA. left\nB. right\n"
                                "Please select the correct answer from the options above. \n"),
    ]
    # no tag: the image first; no options: no instruction line
    assert prompts[2] == [dict(type="image", value="img/2.png"), dict(type="text", value="Question: What is 6*7?\n")]


def test_mmmu_open_questions_are_answer_vs_other_answers(tmp_path):
    preds = {1: "A", 2: "The product is 42", 3: "A"}
    acc, records = judge_and_score("MMMU_DEV_VAL", write_predictions(mmmu(tmp_path), preds, tmp_path / "p.tsv"),
                                   tmp_path / "out")
    # row 2 is scored as "A. 42 / B. Other Answers": the text '42' is in the answer -> A, and its GT
    # (not a letter) becomes 'A' -> hit; row 3 answers A, GT B -> miss
    assert [r["extracted"] for r in records] == ["A", "A", "A"]
    table = read_csv(tmp_path / "out/MMMU_DEV_VAL_acc.csv")
    assert list(table["split"]) == ["dev", "validation"]
    assert list(table.columns) == ["split", "Overall", "Art & Design", "Science", "Art", "Math"]
    assert list(table["Overall"]) == [1.0, 0.5]
    assert table.iloc[1]["Math"] == 0.5 and table.iloc[0]["Art"] == 1.0


def test_mmmu_ground_truth_that_is_not_one_letter_becomes_a():
    from vlmeval_steps.scoring.mcq import ground_truth

    # upstream: `v if v in list(string.ascii_uppercase) else 'A'`, for MMMU only
    assert [ground_truth(a, "MMMU_DEV_VAL") for a in ("B", "AB", "42")] == ["B", "A", "A"]
    assert ground_truth("AB", "MMStar") == "AB"


def test_mmmu_bad_image_tag_names_the_row(tmp_path, monkeypatch):
    tsv = write_benchmark(tmp_path / "MMMU_DEV_VAL.tsv", [
        dict(index=9, question="See <image 2>", A="x", B="y", answer="A", split="dev", category="c")])
    with pytest.raises(InputError, match=r"row index=9: the question refers to <image 2> but the row has 1 image"):
        prompts_of("MMMU_DEV_VAL", tsv, tmp_path, monkeypatch)
