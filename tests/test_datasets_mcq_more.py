"""Issue 11's multiple-choice families on generated TSVs in upstream's layout: plain MCQ with numeric
options and NaN categories, multi-image rows (BLINK, its judge prompt), MMT-Bench's report_acc_MMT,
GMAI-MMBench's per-group tables (through the seeds' alias), MMMB (not circular), a group's stacked table,
answers withheld (MMMU_TEST's submission json, MMT-Bench_ALL's submission tsv). Expected values are
worked out by hand in the comments."""
from __future__ import annotations

import base64
import json
import math

import pandas as pd
import pytest

from tests.test_llm_judge import ScriptedJudge
from tests.benchdata import (info, judge_and_score, read_csv, shape_png, write_benchmark,
                             write_predictions)
from tests.test_datasets_mcq import CIRCULAR_PREDS, mmbench, prompts_of
from vlmeval_steps.datasets.registry import REGISTERED
from vlmeval_steps.errors import InputError
from vlmeval_steps.steps import build_prompts
from vlmeval_steps.scoring.mcq_tables import MMT_ABBRS

FAIL = "Failed to obtain answer via API."


# ------------------------------------------------------------------ plain MCQ
def test_plain_mcq_numeric_options_nan_category_failed_and_empty_predictions(tmp_path, monkeypatch):
    rows = [
        dict(index=1, question="How many?", A=1, B=2.5, C=3, answer="B", category="count"),
        dict(index=2, question="Which?", A="x", B="y", answer="A", category="NA"),   # NaN category
        dict(index=3, question="Pick", A="[1, 2]", B="{'a': 1}", answer="A", category="count"),  # nested texts
        dict(index=4, question="Odd?", A="yes", B="no", answer="B", category="logic"),
    ]
    tsv = write_benchmark(tmp_path / "ScienceQA_TEST.tsv", rows)
    prompts = prompts_of("ScienceQA_TEST", tsv, tmp_path, monkeypatch)
    # options print as pandas reads the whole column (upstream): A and B also hold text, so '1' and '2.5'
    # stay as written; C holds only numbers and NaN, so it is float and 3 prints as '3.0'
    assert prompts[1][-1]["value"] == ("Question: How many?\nOptions:\nA. 1\nB. 2.5\nC. 3.0\n"
                                       "Please select the correct answer from the options above. \n")
    assert prompts[3][-1]["value"].split("Options:\n")[1].startswith("A. [1, 2]\nB. {'a': 1}\n")
    preds = {1: "B", 2: "A", 3: FAIL, 4: ""}
    acc, records = judge_and_score("ScienceQA_TEST", write_predictions(tsv, preds, tmp_path / "p.tsv"),
                                   tmp_path / "out")
    assert [r["extracted"] for r in records] == ["B", "A", "Z", "Z"]
    table = read_csv(tmp_path / "out/ScienceQA_TEST_acc.csv")
    # hits 1,1,0,0; the NaN category is left out of the breakdown (deviation, docs/parity.md)
    assert list(table.columns) == ["split", "Overall", "count", "logic"]
    assert table.iloc[0]["Overall"] == 0.5 and table.iloc[0]["count"] == 0.5 and table.iloc[0]["logic"] == 0


# ------------------------------------------------------------------ multi-image: BLINK
def blink(tmp_path):
    a, b, c = shape_png("circle"), shape_png("square"), shape_png("circle", (0, 0, 200))
    rows = [
        dict(index=1, image=str([a, b, c]), question="Which image differs?", A="first", B="second", C="third",
             answer="B", category="Visual_Similarity"),
        dict(index=2, image=a, question="Is it round?", A="yes", B="no", answer="A", category="Counting"),
    ]
    return write_benchmark(tmp_path / "BLINK.tsv", rows)


def test_blink_gives_every_image_in_order_then_the_text(tmp_path, monkeypatch):
    prompts = prompts_of("BLINK", blink(tmp_path), tmp_path, monkeypatch)
    assert [m["type"] for m in prompts[1]] == ["image", "image", "image", "text"]
    # the pixels of the row's images, in the order the TSV lists them
    drawn = [base64.b64decode(shape_png("circle")), base64.b64decode(shape_png("square")),
             base64.b64decode(shape_png("circle", (0, 0, 200)))]
    assert [(tmp_path / m["value"]).read_bytes() for m in prompts[1][:3]] == drawn
    assert prompts[1][3]["value"].startswith("Question: Which image differs?\nOptions:\nA. first\n")


def test_blink_judge_gets_blinks_own_matching_prompt(tmp_path):
    judge = ScriptedJudge(["(B)"])
    preds = {1: "the middle picture is different", 2: "A"}
    acc, records = judge_and_score("BLINK", write_predictions(blink(tmp_path), preds, tmp_path / "p.tsv"),
                                   tmp_path / "out", judge=judge, judge_name="scripted")
    assert [r["extracted"] for r in records] == ["B", "A"]
    prompt = judge.prompts[0][0]
    assert "If the answer says things like refuse to answer, I'm sorry cannot help, etc., output Z.If" in prompt
    assert prompt.endswith("Question: Which image differs??\nOptions: There are several options: \nA. first\n"
                           "B. second\nC. third\n\n(Z) Failed\nAnswer: the middle picture is different\nYour output: ")
    assert acc.iloc[0]["Overall"] == 1.0


# ------------------------------------------------------------------ MMT-Bench: report_acc_MMT
def mmt(tmp_path, name="MMT-Bench_VAL", answers=True):
    rows = [
        # l2 'ocr' has two sub-tasks: t1 (2 questions, 1 right) and t2 (1 question, right)
        dict(index=1, question="q1", A="a", B="b", answer="A", category="t1", **{"L2-category": "ocr"}),
        dict(index=2, question="q2", A="a", B="b", answer="A", category="t1", **{"L2-category": "ocr"}),
        dict(index=3, question="q3", A="a", B="b", answer="B", category="t2", **{"L2-category": "ocr"}),
        # l2 'counting': one sub-task, wrong
        dict(index=4, question="q4", A="a", B="b", answer="B", category="t3", **{"L2-category": "counting"}),
    ]
    if not answers:
        for r in rows:
            r.pop("answer")
    return write_benchmark(tmp_path / f"{name}.tsv", rows)


def test_mmt_table_has_32_l2_columns_subtask_means_and_an_all_row(tmp_path):
    preds = {1: "A", 2: "B", 3: "B", 4: "A"}
    judge_and_score("MMT-Bench_VAL", write_predictions(mmt(tmp_path), preds, tmp_path / "p.tsv"), tmp_path / "out")
    table = read_csv(tmp_path / "out/MMT-Bench_VAL_acc.csv")
    # columns: split, Overall, the 32 abbreviations in upstream's order, then the sub-tasks sorted
    assert list(table.columns) == ["split", "Overall", *MMT_ABBRS.values(), "t1", "t2", "t3"]
    assert list(table["split"]) == ["none", "ALL"]
    for row in (0, 1):
        r = table.iloc[row]
        assert r["Overall"] == pytest.approx(2 / 4)
        # OCR = mean over sub-tasks (0.5 + 1) / 2 = 0.75, not the question mean 2/3
        assert r["OCR"] == pytest.approx(0.75) and r["Count"] == 0
        assert r["t1"] == 0.5 and r["t2"] == 1 and r["t3"] == 0
        # an l2-category without questions is NaN (upstream raises: docs/parity.md deviation)
        assert math.isnan(r["VR"])


def test_mmt_all_writes_the_submission_file_and_scores_when_answers_are_present(tmp_path):
    preds = {1: "A", 2: "B", 3: "B", 4: "A"}
    tsv = mmt(tmp_path, name="MMT-Bench_ALL")
    judge_and_score("MMT-Bench_ALL", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    sub = pd.read_csv(tmp_path / "out/MMT-Bench_ALL_exact_matching_submission.tsv", sep="\t")
    # upstream's MMTBench_result_transfer: columns lower-cased (option letters kept), opt and log last
    assert list(sub.columns)[-2:] == ["opt", "log"] and "l2-category" in sub.columns and "A" in sub.columns
    assert list(sub["opt"]) == ["A", "B", "B", "A"]
    assert read_csv(tmp_path / "out/MMT-Bench_ALL_acc.csv").iloc[1]["Overall"] == 0.5


# ------------------------------------------------------------------ GMAI-MMBench (through its alias)
def gmai(tmp_path, drop=None):
    rows = [
        dict(index=1, question="q", A="a", B="b", answer="A", category="c1", **{
            "clinical vqa task": "Disease Diagnosis", "department": "Cardiology", "perceptual granularity": "Image"}),
        dict(index=2, question="q", A="a", B="b", answer="A", category="c1", **{
            "clinical vqa task": "Disease Diagnosis", "department": "NA", "perceptual granularity": "Box"}),
        dict(index=3, question="q", A="a", B="b", answer="B", category="c2", **{
            "clinical vqa task": "Counting", "department": "Cardiology", "perceptual granularity": "Image"}),
    ]
    for r in rows:
        r.pop(drop, None)
    return write_benchmark(tmp_path / "GMAI-MMBench_VAL.tsv", rows)


def test_gmai_writes_report_acc_and_one_table_per_grouping_column(tmp_path):
    preds = {1: "A", 2: "B", 3: "B"}
    judge_and_score("GMAI_mm_bench_VAL", write_predictions(gmai(tmp_path), preds, tmp_path / "p.tsv"),
                    tmp_path / "out")
    main = read_csv(tmp_path / "out/GMAI_mm_bench_VAL_acc.csv")
    assert list(main.columns) == ["split", "Overall", "c1", "c2"]
    assert main.iloc[0]["Overall"] == pytest.approx(2 / 3) and main.iloc[0]["c1"] == 0.5
    task = read_csv(tmp_path / "out/GMAI_mm_bench_VAL_clinical vqa task_acc.csv")
    assert list(task.columns) == ["split", "Overall", "Counting", "Disease Diagnosis"]
    assert task.iloc[0]["Counting"] == 1 and task.iloc[0]["Disease Diagnosis"] == 0.5
    dept = read_csv(tmp_path / "out/GMAI_mm_bench_VAL_department_acc.csv")
    # a NaN department becomes a column 'None' with no value (upstream's quirk, copied)
    assert list(dept.columns) == ["split", "Overall", "Cardiology", "None"]
    assert dept.iloc[0]["Cardiology"] == 1 and math.isnan(dept.iloc[0]["None"])
    gran = read_csv(tmp_path / "out/GMAI_mm_bench_VAL_perceptual granularity_acc.csv")
    assert gran.iloc[0]["Box"] == 0 and gran.iloc[0]["Image"] == 1


def test_gmai_tsv_without_a_grouping_column_is_refused_before_inference(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tsv = gmai(tmp_path, drop="department")
    with pytest.raises(InputError, match=r"GMAI-MMBench_VAL.tsv: missing required column\(s\) \['department'\] "
                                         r"for benchmark GMAI_mm_bench_VAL \(GMAIMMBench\)"):
        build_prompts.run(info("GMAI_mm_bench_VAL"), tsv, tmp_path / "p.jsonl", tmp_path / "img", check_md5=False)


def test_alias_reads_upstreams_file_and_keeps_its_own_name():
    alias, upstream = REGISTERED["GMAI_mm_bench_VAL"], REGISTERED["GMAI-MMBench_VAL"]
    assert (alias.url, alias.md5, alias.cls) == (upstream.url, upstream.md5, upstream.cls)
    assert alias.upstream_name == "GMAI-MMBench_VAL" and alias.name == "GMAI_mm_bench_VAL"


# ------------------------------------------------------------------ multilingual MMBench and MMMB
def test_mmbench_dev_language_sets_are_circular_and_mmmb_is_not(tmp_path):
    # circular: only group 1 has every rotation right -> 1/3; vanilla (MMMB): every row counts, rows
    # 1, 1000001, 2, 1000002 right, 2000002 (A for B) and 3 (failed) wrong -> 4/6
    for name, expected in (("MMBench_dev_ar", 1 / 3), ("MMMB_ar", 4 / 6)):
        (tmp_path / name).mkdir()
        tsv = mmbench(tmp_path / name, name=name)
        acc, _ = judge_and_score(name, write_predictions(tsv, CIRCULAR_PREDS, tmp_path / name / "p.tsv"),
                                 tmp_path / name / "out")
        assert acc.iloc[0]["Overall"] == pytest.approx(expected), name


def test_a_group_stacks_its_members_tables_with_a_dataset_column(tmp_path):
    from click.testing import CliRunner

    from vlmeval_steps.cli import main

    members = [f"{m}_limit2" for m in REGISTERED["MMMB"].members]
    args = ["score-group", "--dataset", "MMMB_limit2", "--out", str(tmp_path / "MMMB_limit2_acc.csv"),
            "--provenance-out", str(tmp_path / "MMMB_limit2_provenance.json")]
    for i, name in enumerate(members):
        path = tmp_path / f"{name}_acc.csv"
        pd.DataFrame({"split": ["none"], "Overall": [i / 10], f"cat{i % 2}": [0.5]}).to_csv(path, index=False)
        args += ["--member", name, "--table", str(path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    table = read_csv(tmp_path / "MMMB_limit2_acc.csv")
    # the members' columns united in order of appearance, DATASET after the first member's columns
    assert list(table.columns) == ["split", "Overall", "cat0", "DATASET", "cat1"]
    assert list(table["DATASET"]) == ["MMMB_ar", "MMMB_cn", "MMMB_en", "MMMB_pt", "MMMB_ru", "MMMB_tr"]
    assert list(table["Overall"]) == pytest.approx([0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert json.loads((tmp_path / "MMMB_limit2_provenance.json").read_text())["members"] == members


# ------------------------------------------------------------------ answers withheld
def mmmu_test(tmp_path, with_id=True):
    rows = [
        dict(index=1, id="test_Art_1", question="Which?", A="red", B="blue", category="Art"),
        dict(index=2, id="test_Math_2", question="6*7?", category="Math"),   # open question
        dict(index=3, id="test_Art_3", question="Which?", A="red", B="blue", category="Art"),
    ]
    if not with_id:
        for r in rows:
            r.pop("id")
    return write_benchmark(tmp_path / "MMMU_TEST.tsv", rows)


def test_mmmu_test_writes_the_servers_json_and_says_why_there_is_no_score(tmp_path):
    preds = {1: "B. blue", 2: "42", 3: "I am not sure"}
    with pytest.raises(InputError, match="MMMU_TEST: no score, by design.*MMMU_DEV_VAL carries answers"):
        judge_and_score("MMMU_TEST", write_predictions(mmmu_test(tmp_path), preds, tmp_path / "p.tsv"),
                        tmp_path / "out")
    # MMMU_result_transfer: option letter by can_infer (false when none), the raw prediction for open rows
    assert json.loads((tmp_path / "out/MMMU_TEST.json").read_text()) == {
        "test_Art_1": "B", "test_Math_2": "42", "test_Art_3": False}
    assert not (tmp_path / "out/MMMU_TEST_acc.csv").exists()


def test_mmmu_test_without_id_column_is_refused_before_inference(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"MMMU_TEST.tsv: missing required column\(s\) \['id'\] for benchmark "
                                         r"MMMU_TEST"):
        build_prompts.run(info("MMMU_TEST"), mmmu_test(tmp_path, with_id=False), tmp_path / "p.jsonl",
                          tmp_path / "img", check_md5=False)


@pytest.mark.parametrize("name, split", [("MLLMGuard_DS", "no split of it is scored"),
                                         ("Q-Bench1_TEST", "Q-Bench1_VAL carries answers"),
                                         ("MMBench_TEST_CN", "MMBench_DEV_CN")])
def test_withheld_benchmarks_name_the_split_with_answers(tmp_path, name, split):
    tsv = write_benchmark(tmp_path / f"{name}.tsv", [dict(index=1, question="q", A="a", B="b")])
    with pytest.raises(InputError, match=f"{name}: no score, by design.*{split}"):
        judge_and_score(name, write_predictions(tsv, {1: "A"}, tmp_path / "p.tsv"), tmp_path / "out")


def test_withheld_benchmarks_are_inference_targets_and_groups_infer_their_members():
    from vlmeval_steps.config import configured_pairs, prediction_files, withheld_pairs
    from vlmeval_steps.runner import targets

    cfg = {"models": ["M"], "datasets": ["MMStar", "MMMU_TEST", "MMMB"], "limit": 2}
    # the summary's pairs leave MMMU_TEST out (no score); `run` asks for its predictions instead
    assert configured_pairs(cfg) == [("M", "MMStar_limit2"), ("M", "MMMB_limit2")]
    assert withheld_pairs(cfg) == [("M", "MMMU_TEST_limit2")]
    assert targets(cfg, "all")[:3] == ["results/M/MMStar_limit2_acc.csv", "results/M/MMMB_limit2_acc.csv",
                                       "results/M/MMMU_TEST_limit2.xlsx"]
    # --mode infer: a group has no prediction file of its own, its members do
    assert prediction_files(cfg) == ["results/M/MMStar_limit2.xlsx", "results/M/MMMU_TEST_limit2.xlsx",
                                     *[f"results/M/{m}_limit2.xlsx" for m in REGISTERED["MMMB"].members]]
    assert targets(cfg, "infer") == prediction_files(cfg)


def test_an_inference_only_benchmark_needs_no_options(tmp_path, monkeypatch):
    # MLLMGuard_DS is run, never scored; upstream's MCQ prompt lists no options when a row has none
    monkeypatch.chdir(tmp_path)
    tsv = write_benchmark(tmp_path / "MLLMGuard_DS.tsv", [dict(index=1, question="Describe the image.")])
    build_prompts.run(info("MLLMGuard_DS"), tsv, tmp_path / "p.jsonl", tmp_path / "img", check_md5=False)
    record = json.loads((tmp_path / "p.jsonl").read_text().splitlines()[0])
    assert record["message"][-1] == dict(type="text", value="Question: Describe the image.\n")
