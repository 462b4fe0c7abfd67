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
            ("JA", "東京", "東京都"),                   # 1
            ("", "x", "x")]                            # an empty language: NaN, upstream's json key "NaN"; 1


def test_mtvqa_per_language_table_in_upstreams_order(tmp_path):
    spec = mtvqa_rows()
    rows = [dict(index=i, question=f"q{i}", answer=a, category=c, split="test") for i, (c, a, _) in enumerate(spec, 1)]
    tsv = write_benchmark(tmp_path / "MTVQA_TEST.tsv", rows)
    preds = {i: p for i, (_, _, p) in enumerate(spec, 1)}
    judge_and_score("MTVQA_TEST", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    # 4 of 7; the first category, Average, then the others in order of appearance
    expected = {"DE": 50.0, "Average": 400 / 7, "AR": 50.0, "JA": 50.0, "NaN": 100.0}
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
    with pytest.raises(InputError, match=f"{name}: no score, by design.*answers are withheld.*evaluate {scored}"):
        judge_and_score(name, preds, tmp_path / "out")
    assert not (tmp_path / f"out/{name}_acc.csv").exists()


# --- captioning (COCO_VAL) ---------------------------------------------------------------------

def test_caption_prompt_is_upstreams_default_instruction(tmp_path, monkeypatch):
    from tests.tsvs import write_tsv
    from tests.benchdata import shape_png

    write_tsv(tmp_path / "COCO_VAL.tsv", [dict(index=5, image=shape_png(), answer="['a red circle']")])
    assert first_prompt("COCO_VAL", tmp_path / "COCO_VAL.tsv", tmp_path, monkeypatch) == [
        dict(type="image", value="img/5.png"),
        dict(type="text", value='Please describe this image in general. Directly provide the description, '
                                'do not include prefix like "This image depicts". ')]


def test_caption_scores_by_hand(tmp_path):
    # Two images. Image 1: prediction 'a red circle' equals its second reference; image 2: prediction
    # 'nan' (an empty answer) against 'blue square' / 'a blue square'. Whitespace tokens, no lower-casing.
    rows = [dict(index=1, question="d", answer=str(["a big red circle", "a red circle"])),
            dict(index=2, question="d", answer=str(["blue square", "a blue square"]))]
    tsv = write_benchmark(tmp_path / "COCO_VAL.tsv", rows)
    acc, _ = judge_and_score("COCO_VAL", write_predictions(tsv, {1: "a red circle", 2: ""}, tmp_path / "p.tsv"),
                             tmp_path / "out")
    main = json.loads((tmp_path / "out/COCO_VAL_score.json").read_text())
    assert list(main) == ["Bleu", "ROUGE_L", "CIDEr"]
    # BLEU (corpus): hypothesis length 3 + 1 = 4; closest reference lengths 3 and 2 -> r = 5 > c = 4,
    # brevity penalty exp(1 - 5/4). Clipped matches: 1-grams 3 of 4, 2-grams 2 of 2, 3-grams 1 of 1,
    # 4-grams 0 of 0 (pycocoevalcap adds tiny = 1e-15 / small = 1e-9 to avoid log 0).
    import math
    bp = math.exp(1 - 5 / 4)
    assert main["Bleu"][0] == pytest.approx(bp * 3 / 4 * 100, rel=1e-6)
    assert main["Bleu"][1] == pytest.approx(bp * math.sqrt(3 / 4 * 2 / 2) * 100, rel=1e-6)
    assert main["Bleu"][2] == pytest.approx(bp * (3 / 4 * 1 * 1) ** (1 / 3) * 100, rel=1e-6)
    # ROUGE-L: image 1 matches a reference exactly -> 1; image 2: 'nan' shares nothing -> 0; mean 0.5
    assert main["ROUGE_L"] == pytest.approx(50.0)
    table = read_csv(tmp_path / "out/COCO_VAL_acc.csv")
    assert list(table.columns) == ["Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "ROUGE_L", "CIDEr"]
    assert table.iloc[0].tolist() == pytest.approx([*main["Bleu"], main["ROUGE_L"], main["CIDEr"]])
    assert acc.iloc[0]["CIDEr"] == pytest.approx(main["CIDEr"])


def test_caption_cider_uses_the_whole_reference_set(tmp_path):
    # CIDEr's idf comes from every image's references: the same prediction for image 1 scores
    # differently when image 2's references share its words
    def cider(second_refs):
        rows = [dict(index=1, question="d", answer=str(["a red circle on white"])),
                dict(index=2, question="d", answer=str(second_refs))]
        tsv = write_benchmark(tmp_path / "COCO_VAL.tsv", rows)
        preds = write_predictions(tsv, {1: "a red circle on white", 2: "x"}, tmp_path / "p.tsv")
        return judge_and_score("COCO_VAL", preds, tmp_path / "out")[0].iloc[0]["CIDEr"]
    # image 2 shares no word: every n-gram of image 1 has idf log(2), its exact match scores 10 (CIDEr-D's
    # factor), image 2's 'x' scores 0; the corpus score is the mean, 5, x100
    assert cider(["green grass"]) == pytest.approx(500.0)
    assert cider(["a red circle on white"]) == pytest.approx(0.0)  # idf log(2/2) = 0 for all n-grams


def test_caption_bad_answer_names_the_row(tmp_path):
    tsv = write_benchmark(tmp_path / "COCO_VAL.tsv", [dict(index=9, question="d", answer="a dog")])
    with pytest.raises(InputError, match="row index=9: 'answer' must be a Python list"):
        judge_and_score("COCO_VAL", write_predictions(tsv, {9: "a dog"}, tmp_path / "p.tsv"), tmp_path / "out")


# --- VCR ---------------------------------------------------------------------------------------

def test_vcr_english_exact_match_and_jaccard(tmp_path, monkeypatch):
    rows = [dict(index=1, question="What is covered?", answer=str(["the river", "in 1850"])),
            dict(index=2, question="q", answer=str(["New York"])),
            dict(index=3, question="q", answer=str(["abc"])),
            dict(index=4, question="q", answer=str(["hello world"]))]
    preds = {1: "The covered text: the river flows in 1850.",
             2: "User: hi Assistant: I think new York",   # only the text after 'Assistant: ' counts
             3: "Sorry, I can't read it abc",              # a refusal scores 0 on every blank
             4: ""}                                        # 'nan': fewer tokens than the blank -> 0
    tsv = write_benchmark(tmp_path / "VCR_EN_EASY_100.tsv", rows)
    assert first_prompt("VCR_EN_EASY_100", tsv, tmp_path, monkeypatch)[-1]["value"] == "What is covered?"
    judge_and_score("VCR_EN_EASY_100", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    main = json.loads((tmp_path / "out/VCR_EN_EASY_100_en_easy_score.json").read_text())
    # blanks: 'the river' and 'in 1850' found exactly (1, 1); 'New York' best window 'new York' (case
    # differs: exact 0, Jaccard |{York}| / |{new, New, York}| = 1/3); refusal 0; 'nan' 0.
    assert main["Exact_Match"] == pytest.approx(2 / 5)
    assert main["Jaccard"] == pytest.approx((1 + 1 + 1 / 3) / 5)
    assert main["Predictions"]["1"]["0"]["max_sim_string"] == "new York"
    assert main["Predictions"]["1"]["0"]["max_sim_val"] == pytest.approx(2 * 7 / 16)
    assert main["Predictions"]["0"]["1"]["rouge1"] == pytest.approx(1.0)
    assert read_csv(tmp_path / "out/VCR_EN_EASY_100_acc.csv").iloc[0].to_dict() == pytest.approx(
        {"Exact_Match": 2 / 5, "Jaccard": (1 + 1 + 1 / 3) / 5})


def test_vcr_spacy_english_tokens():
    from vlmeval_steps.scoring.vcr import tokenize

    # spaCy's English rules (those en_core_web_sm tokenizes with): contractions, hyphens, units split
    assert tokenize("can't well-known 3.5km (U.S.A.)", "en") == [
        "ca", "n't", "well", "-", "known", "3.5", "km", "(", "U.S.A.", ")"]


def test_vcr_chinese_by_character(tmp_path):
    rows = [dict(index=1, question="q", answer=str(["长江", "北京"])),
            dict(index=2, question="q", answer=str(["大桥"]))]
    preds = {1: "这是长江大桥", 2: "我无法看清大桥"}
    tsv = write_benchmark(tmp_path / "VCR_ZH_HARD_100.tsv", rows)
    judge_and_score("VCR_ZH_HARD_100", write_predictions(tsv, preds, tmp_path / "p.tsv"), tmp_path / "out")
    main = json.loads((tmp_path / "out/VCR_ZH_HARD_100_zh_hard_score.json").read_text())
    # '长江' found (windows joined with ''); '北京' shares no character -> 0; row 2 refuses (无法) -> 0
    assert (main["Exact_Match"], main["Jaccard"]) == pytest.approx((1 / 3, 1 / 3))
    assert main["Predictions"]["0"]["0"]["max_sim_string"] == "长江"


def test_a_missing_column_names_the_column_the_file_and_the_benchmark(tmp_path):
    from tests.tsvs import write_tsv
    from tests.benchdata import info, shape_png
    from vlmeval_steps.steps import build_prompts

    write_tsv(tmp_path / "VCR_EN_EASY_100.tsv", [dict(index=1, image=shape_png(), answer="['x']")])
    with pytest.raises(InputError, match=r"VCR_EN_EASY_100\.tsv: missing required column\(s\) \['question'\] "
                                         r"for benchmark VCR_EN_EASY_100 \(VCRDataset\)"):
        build_prompts.run(info("VCR_EN_EASY_100"), tmp_path / "VCR_EN_EASY_100.tsv", tmp_path / "p.jsonl",
                          tmp_path / "img", check_md5=False)
