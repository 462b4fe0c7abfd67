"""Issue 11, multi-page documents: DUDE (PDF pages, ANLS), SlideVQA (slide lists; ANLS, EM, F1) and
MMLongBench-Doc (PDF pages; scored by answer format), as upstream's dude.py, slidevqa.py and
mmlongbenchdoc.py at e8e78f05.

PDFs are built here with PyMuPDF, each page filled with its own colour, so a page's place in a laid-out
image shows which page it is. Expected tables are worked out by hand from upstream's formulas.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json

import pandas as pd
import pytest
from PIL import Image

from tests.benchdata import ScriptedJudge, judge_and_score, read_csv, write_predictions
from tests.tsvs import write_tsv
from vlmeval_steps.datasets import doc_pages
from vlmeval_steps.datasets.registry import REGISTERED, CLASSES
from vlmeval_steps.errors import InputError
from vlmeval_steps.fileio import read_jsonl
from vlmeval_steps.judge import mmlongbench as doc_judge

COLOURS = [(220, 30, 30), (30, 160, 30), (30, 30, 220), (200, 200, 0), (200, 0, 200), (0, 200, 200),
           (120, 60, 0), (0, 0, 0)]


def pdf_b64(n_pages: int, size=(100, 60)) -> str:
    """A PDF of `n_pages` pages of `size` points, page i filled with COLOURS[i % 8]."""
    import pymupdf

    doc = pymupdf.open()
    for i in range(n_pages):
        page = doc.new_page(width=size[0], height=size[1])
        page.draw_rect(page.rect, color=None, fill=[c / 255 for c in COLOURS[i % 8]])
    data = doc.tobytes()
    doc.close()
    return base64.b64encode(data).decode()


def png_b64(colour, size=(120, 90)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def near(pixel, colour, tol=40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(pixel[:3], colour))


def dude_tsv(path, n_pages=7):
    rows = [
        dict(index=1, image=pdf_b64(n_pages), image_path=str([f"docA_{i}.png" for i in range(n_pages)]),
             question="What colour is page 1?", answer="Paris", doc_id="docA"),
        # another question about the same document: upstream's short cell names the row holding the PDF
        dict(index=2, image="1", image_path=str([f"docA_{i}.png" for i in range(n_pages)]),
             question="How many pages?", answer="New York", doc_id="docA"),
        dict(index=3, image=pdf_b64(1), image_path=str(["docB_0.png"]), question="Is it blank?", answer="",
             doc_id="docB"),
    ]
    write_tsv(path, rows)
    return path


def build(tmp_path, name, tsv, prompt_id, info=None):
    from vlmeval_steps.steps import build_prompts

    out = tmp_path / "prompts" / f"{prompt_id}.jsonl"
    build_prompts.run(info or REGISTERED[name], tsv, out, tmp_path / "images" / name, prompt_id=prompt_id,
                      check_md5=False)
    return {str(r["index"]): r["message"] for r in read_jsonl(out)}


def images_of(message):
    return [m["value"] for m in message if m["type"] == "image"]


# ----- which layout a model gets -------------------------------------------------------------------
@pytest.mark.parametrize("model, spec, dataset, expected", [
    ("GPT4o", {"class": "OpenAIAPI"}, "DUDE", "default__pages"),                 # an API model: a page each
    ("MyServer", {"class": "CustomAPIModel"}, "SLIDEVQA", "default__pages"),
    ("InternVL-Chat-V1-5", {"class": "TransformersVLM"}, "DUDE", "default__concat5x2"),
    ("MiniCPM-Llama3-V-2_5", {"class": "TransformersVLM"}, "MMLongBench_DOC", "default__concat1x5"),
    ("XComposer2d5", {"class": "TransformersVLM"}, "SLIDEVQA_MINI", "default__frames"),
    ("XComposer2_4KHD", {"class": "TransformersVLM"}, "DUDE", "default__frames"),          # DUDE's table
    ("XComposer2_4KHD", {"class": "TransformersVLM"}, "MMLongBench_DOC", "default__concat1x5"),  # MMLongBench's
    ("TinyLLaVA-Demo", {"class": "TransformersVLM"}, "DUDE_MINI", "default__concat5x2"),  # not in the table
    ("TinyLLaVA-Demo", {"class": "TransformersVLM", "doc_pages": [2, 3]}, "DUDE", "default__concat2x3"),
    ("TinyLLaVA-Demo", {"class": "TransformersVLM", "doc_pages": "pages"}, "DUDE", "default__pages"),
    ("TinyLLaVA-Demo", {"class": "TransformersVLM"}, "DocVQA_VAL", "default"),  # one page: no layout
])
def test_prompt_id_per_kind_of_model(model, spec, dataset, expected):
    assert doc_pages.prompt_id_with_layout("default", model, spec, REGISTERED[dataset]) == expected


def test_a_builder_keeps_its_id_and_a_bad_layout_is_refused():
    spec = {"class": "TransformersVLM", "prompt": "internvl"}
    assert doc_pages.prompt_id_with_layout("internvl", "InternVL3-1B", spec, REGISTERED["DUDE"]) == \
        "internvl__concat5x2"
    assert doc_pages.split_prompt_id("internvl__concat5x2") == ("internvl", "concat5x2")
    with pytest.raises(InputError, match="doc_pages"):
        doc_pages.prompt_id_with_layout("default", "M", {"class": "TransformersVLM", "doc_pages": [0, 2]},
                                        REGISTERED["DUDE"])
    with pytest.raises(InputError, match="unknown page layout"):
        doc_pages.parse_layout("concat5by2")


# ----- pages and layouts ---------------------------------------------------------------------------
def test_pdf_pages_one_image_per_page_for_api_models(tmp_path):
    tsv = dude_tsv(tmp_path / "DUDE.tsv")
    msgs = build(tmp_path, "DUDE", tsv, "default__pages")
    # upstream's base prompt: the pages in order, then the question as the TSV has it
    assert [m["type"] for m in msgs["1"]] == ["image"] * 7 + ["text"]
    assert msgs["1"][-1]["value"] == "What colour is page 1?"
    pages = images_of(msgs["1"])
    assert images_of(msgs["2"]) == pages  # the same document: the same files
    # rendered at 144 dpi (100 x 60 pt -> 200 x 120 px), each page upstream's JPEG (a .png name keeps
    # the JPEG bytes under .jpg: the pixels upstream's PNG would store)
    assert [p.rsplit("/", 1)[-1] for p in pages] == [f"docA_{i}.jpg" for i in range(7)]
    for i, p in enumerate(pages):
        with Image.open(p) as im:
            assert im.format == "JPEG" and im.size == (200, 120)
            assert near(im.getpixel((100, 60)), COLOURS[i])
    # a one-page document named by a plain string
    assert len(images_of(msgs["3"])) == 1


def test_pages_are_jpeg_of_the_144_dpi_render(tmp_path):
    import pymupdf

    doc = pymupdf.open()
    for i in range(2):
        doc.new_page(width=200, height=120).insert_text((10, 40), f"Page {i}: anti-aliased text")
    data = doc.tobytes()
    # upstream's path: the pixmap as PNG, opened by PIL, encoded by encode_image_to_base64
    with pymupdf.open(stream=data, filetype="pdf") as doc:
        png = doc[1].get_pixmap(dpi=144).tobytes(output="png")
    with Image.open(io.BytesIO(png)) as im:
        buf = io.BytesIO()
        im.save(buf, format="JPEG")  # upstream's encode_image_to_base64: JPEG, Pillow's default quality
    assert doc_pages.render_pdf(data, "x")[1] == buf.getvalue()


def test_small_pages_are_scaled_up_as_upstream_encodes_them():
    # a side under 100 px: upstream scales the image so that side is 100 px before the JPEG
    data = doc_pages.upstream_jpeg(Image.new("RGB", (160, 40), (10, 20, 30)))
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (400, 100)


def test_local_layouts_concatenate_as_upstream(tmp_path):
    tsv = dude_tsv(tmp_path / "DUDE.tsv")
    # InternVL-Chat-V1-5 (5, 2): ceil(7/5) = 2 pages per image, two columns -> 4 images, the last half white
    msgs = build(tmp_path, "DUDE", tsv, "default__concat5x2")
    imgs = images_of(msgs["1"])
    assert len(imgs) == 4 and msgs["1"][-1]["value"] == "What colour is page 1?"
    for k, p in enumerate(imgs):
        with Image.open(p) as im:
            assert im.format == "JPEG" and im.size == (400, 120)
            assert near(im.getpixel((100, 60)), COLOURS[2 * k])
            assert near(im.getpixel((300, 60)), COLOURS[2 * k + 1] if 2 * k + 1 < 7 else (255, 255, 255))
    assert images_of(msgs["2"]) == imgs
    # MiniCPM-Llama3-V-2_5 (1, 5): one image, five columns, pages in reading order, the rest white
    msgs = build(tmp_path, "DUDE", tsv, "default__concat1x5")
    [one] = images_of(msgs["1"])
    with Image.open(one) as im:
        assert im.size == (1000, 240)
        for i in range(7):
            assert near(im.getpixel((200 * (i % 5) + 100, 120 * (i // 5) + 60)), COLOURS[i])
        assert near(im.getpixel((900, 180)), (255, 255, 255))


def test_labelled_tiles_and_upstreams_first_image_only_quirk(tmp_path):
    # 25 pages: upstream's frames layout makes ceil(25/2) = 13 + 12 tiles, labelled <IMAGE k>; landscape
    # pages stack vertically, each resized to 1120 px wide
    rows = [dict(index=1, image=pdf_b64(25), image_path=str([f"d_{i}.png" for i in range(25)]), question="Q?",
                 answer="a", doc_id="d", answer_format="Str", evidence_pages="[1]", evidence_sources="['Chart']")]
    write_tsv(tmp_path / "t.tsv", rows)
    dude = images_of(build(tmp_path / "a", "DUDE", tmp_path / "t.tsv", "default__frames")["1"])
    mmlb = images_of(build(tmp_path / "b", "MMLongBench_DOC", tmp_path / "t.tsv", "default__frames")["1"])
    # DUDE names the result once (`_concat_all.jpg`), so only the first image reaches the model
    assert len(dude) == 1 and len(mmlb) == 2
    with Image.open(dude[0]) as a, Image.open(mmlb[1]) as b:
        assert a.size == (1120, 13 * (672 + 50)) and b.size == (1120, 12 * (672 + 50))
        assert near(a.getpixel((560, 40 + 336)), COLOURS[0])
        assert near(b.getpixel((560, 40 + 336)), COLOURS[13 % 8])
        assert a.getpixel((600, 20))[:3] == (255, 255, 255)  # right of the label: white
        assert min(a.getpixel((x, y))[0] for x in range(0, 150) for y in range(5, 35)) < 100  # the label's ink


def test_slides_lists_and_a_lone_slide(tmp_path):
    slides = [png_b64(c) for c in COLOURS[:3]]
    rows = [dict(index=1, image=str(slides), image_path=str(["deck_0.png", "deck_1.png", "deck_2.png"]),
                 question="Which slide is blue?", answer="the third"),
            # image_path shorter than the slides: upstream zips them, so two slides
            dict(index=2, image=str(slides), image_path=str(["deck2_0.png", "deck2_1.png"]), question="Q2?",
                 answer="x"),
            dict(index=3, image=slides[0], image_path="lone.png", question="Q3?", answer="y")]
    write_tsv(tmp_path / "S.tsv", rows)
    msgs = build(tmp_path, "SLIDEVQA", tmp_path / "S.tsv", "default__pages")
    assert [p.rsplit("/", 1)[-1] for p in images_of(msgs["1"])] == ["deck_0.png", "deck_1.png", "deck_2.png"]
    assert len(images_of(msgs["2"])) == 2
    [lone] = images_of(msgs["3"])
    assert lone.endswith("/3.jpg")  # upstream saves a lone slide as {index}.jpg: a JPEG
    with Image.open(lone) as im:
        assert im.format == "JPEG"
    local = build(tmp_path, "SLIDEVQA", tmp_path / "S.tsv", "default__concat5x2")
    assert len(images_of(local["1"])) == 3  # ceil(3/5) = 1 slide per image


def test_a_bad_pdf_and_a_missing_column_are_named(tmp_path):
    junk = base64.b64encode(b"this is no PDF; " * 8).decode()
    write_tsv(tmp_path / "bad.tsv", [dict(index=1, image=junk, image_path="p_0.png",
                                          question="Q", answer="a")])
    with pytest.raises(InputError, match=r"row index=1: .*not a readable PDF"):
        build(tmp_path, "DUDE", tmp_path / "bad.tsv", "default__pages")
    write_tsv(tmp_path / "ref.tsv", [dict(index=1, image="99", image_path="p_0.png", question="Q", answer="a")])
    with pytest.raises(InputError, match=r"row index=1: image refers to index '99', which has no image"):
        build(tmp_path, "DUDE", tmp_path / "ref.tsv", "default__pages")
    write_tsv(tmp_path / "nopath.tsv", [dict(index=1, image=pdf_b64(1), question="Q", answer="a")])
    with pytest.raises(InputError, match=r"missing required column\(s\) \['image_path'\].*DUDE"):
        build(tmp_path, "DUDE", tmp_path / "nopath.tsv", "default__pages")


# ----- extraction and scoring ----------------------------------------------------------------------
FAIL = "Failed to obtain answer via API."


def reply(answer: str) -> str:
    return f"Extracted answer: {answer}\nAnswer format: String"


def scripted(extracted: dict) -> ScriptedJudge:
    """Replies keyed by the row's question (the line after the prompt's last '---\\nQuestion:')."""
    def answer(prompt, temperature):
        question = prompt.rsplit("---\nQuestion:", 1)[1].split("\n", 1)[0]
        value = extracted[question]
        return value.pop(0) if isinstance(value, list) else value
    return ScriptedJudge(answer)


def text_rows(rows):
    return [dict(r, image=pdf_b64(1), image_path="p_0.png") for r in rows]


def test_judge_prompt_is_upstreams():
    prompt = doc_judge.judge_prompt("What is X?", "It is 5.\nok")
    # upstream's build_mmlongbench_gpt4_prompt for this row (checked against upstream's code once)
    assert hashlib.sha256(prompt.encode()).hexdigest() == \
        "0a03e00b9ac01887faf007f46812ac6a133edc25bc908c4739fc6d685299c843"
    assert prompt.endswith("---\nQuestion:What is X?\nAnalysis: It is 5.\nok")
    assert doc_judge.parse_reply("x\nExtracted answer: [1, 2]\nAnswer format: List") == "[1, 2]"
    assert doc_judge.parse_reply("I cannot tell") == ""


def test_dude_anls_table(tmp_path):
    rows = text_rows([dict(index=1, question="q1", answer="Paris"), dict(index=2, question="q2", answer="New York"),
                      dict(index=3, question="q3", answer=""), dict(index=4, question="q4", answer="abc"),
                      dict(index=5, question="q5", answer="12")])
    write_tsv(tmp_path / "DUDE.tsv", rows)
    preds = {1: "It is Paris.", 2: "new yrok", 3: "no idea", 4: FAIL, 5: "13"}
    judge = scripted({"q1": reply("paris"), "q2": reply("new yrok"), "q3": reply("Not answerable"),
                      "q4": [None] * 5, "q5": reply("13")})
    acc, records = judge_and_score("DUDE", write_predictions(tmp_path / "DUDE.tsv", preds, tmp_path / "p.tsv"),
                                   tmp_path / "out", judge=judge, judge_name="gpt-4o")
    assert [c[1] for c in judge.calls if "q4" in c[0]] == [0.0, 0.5, 1.0, 1.5, 2.0]  # five tries, upstream's ramp
    assert all(c[2] == 128 for c in judge.calls)
    assert records[3]["log"].endswith("All 5 retries failed.\n")
    # paris 1; 'new york' vs 'new yrok' 1 - 2/8; NaN -> 'not answerable' 1; '' 0; '12' vs '13' 1 - 1/2 <= 0.5 -> 0
    table = read_csv(tmp_path / "out/DUDE_gpt-4o_score.csv")
    assert table["category"].tolist() == ["anls"] and table["num"].tolist() == [5]
    assert table["avg_score"][0] == pytest.approx((1 + 0.75 + 1 + 0 + 0) / 5)
    rows_out = pd.read_excel(tmp_path / "out/DUDE_gpt-4o.xlsx")
    assert rows_out["score"].tolist() == pytest.approx([1, 0.75, 1, 0, 0])
    # the per-row outcomes the summary's intervals resample: the same scores
    assert read_csv(tmp_path / "out/DUDE_rows.csv")["score"].tolist() == pytest.approx([1, 0.75, 1, 0, 0])
    # resampled by document: these five questions are about one (the same pages)
    assert set(read_csv(tmp_path / "out/DUDE_rows.csv")["unit"]) == {"image_path=p_0.png"}
    assert json.loads((tmp_path / "out/DUDE_rows.json").read_text())["unit_name"] == "document"


def test_slidevqa_anls_em_f1_table(tmp_path):
    rows = [dict(index=i, image=png_b64(COLOURS[0]), image_path="s.png", question=f"q{i}", answer=a)
            for i, a in enumerate(["blue sky", "the red car", "", "line1\nline2", "a b"], start=1)]
    write_tsv(tmp_path / "S.tsv", rows)
    judge = scripted({"q1": reply("Blue sky"), "q2": reply("red car"), "q3": "I cannot read it",
                      "q4": reply("line1line2"), "q5": reply("a a")})
    preds = {i: "x" for i in range(1, 6)}
    judge_and_score("SLIDEVQA_MINI", write_predictions(tmp_path / "S.tsv", preds, tmp_path / "p.tsv"),
                    tmp_path / "out", judge=judge, judge_name="gpt-4o")
    table = read_csv(tmp_path / "out/SLIDEVQA_MINI_gpt-4o_score.csv")
    assert table["category"].tolist() == ["anls", "EM", "F1"] and table["num"].tolist() == [5, 5, 5]
    # q2: 1 - 4/11, F1 2*(2/3)*1/(5/3) = 0.8; q3: no 'Extracted answer:' -> '' -> read back as 'nan' -> 0;
    # q4: the answer's newline removed; q5: 'a a' vs 'a b': 1 - 1/3, F1 1 (both 'a's count, as upstream)
    assert table["avg"].tolist() == pytest.approx([(1 + 7 / 11 + 0 + 1 + 2 / 3) / 5, 2 / 5, (1 + 0.8 + 0 + 1 + 1) / 5])
    rows_out = pd.read_excel(tmp_path / "out/SLIDEVQA_MINI_gpt-4o.xlsx")
    assert rows_out["pred"].fillna("").tolist()[2] == ""
    assert read_csv(tmp_path / "out/SLIDEVQA_MINI_rows.csv")["score"].tolist() == [1, 0, 0, 1, 0]  # EM


def test_mmlongbench_table_by_answer_format(tmp_path):
    spec = [("Int", "10", "10.0", "['Chart']", "[1]"),
            ("Float", "0.25", "25%", "['Table']", "[2, 3]"),
            ("Str", "https://a.org", "https://a.org/", "['Pure-text (Plain-text)']", "[4]"),
            ("Str", "Not answerable", "Not answerable", "[]", "[]"),
            ("List", "['a', 'b']", "['B', 'A']", "['Figure', 'Chart']", "[5]"),
            ("List", "[1, 2]", "[1]", "['Generalized-text (Layout)']", "[1, 2]")]
    rows = text_rows([dict(index=i, question=f"q{i}", answer=a, answer_format=f, evidence_sources=s,
                           evidence_pages=p, doc_id="d") for i, (f, a, _, s, p) in enumerate(spec, start=1)])
    write_tsv(tmp_path / "M.tsv", rows)
    judge = scripted({f"q{i}": reply(e) for i, (_, _, e, _, _) in enumerate(spec, start=1)})
    judge_and_score("MMLongBench_DOC", write_predictions(tmp_path / "M.tsv", {i: "x" for i in range(1, 7)},
                                                          tmp_path / "p.tsv"), tmp_path / "out", judge=judge,
                    judge_name="gpt-4o")
    table = read_csv(tmp_path / "out/MMLongBench_DOC_gpt-4o_score.csv").set_index("category")
    # scores 1 (int), 1 (25% is 0.25 as a percentage), 0 (a URL must match exactly), 1, 1 (sorted lists), 0
    expected = {"overall_f1": (6, 0.6), "overall_acc": (6, 4 / 6), "text": (1, 0), "layout": (1, 0),
                "table": (1, 1), "chart": (2, 1), "image": (1, 1), "single-page": (3, 2 / 3),
                "multi-page": (2, 0.5), "unanswerable": (1, 1)}
    assert list(table.index) == list(expected)
    for cat, (num, value) in expected.items():
        assert table.loc[cat, "num"] == num and table.loc[cat, "avg_score"] == pytest.approx(value), cat


def test_mmlongbench_bad_evidence_cell_is_named(tmp_path):
    rows = text_rows([dict(index=7, question="q", answer="1", answer_format="Int", evidence_sources="Chart",
                           evidence_pages="[1]", doc_id="d")])
    write_tsv(tmp_path / "M.tsv", rows)
    with pytest.raises(InputError, match=r"row index=7: 'evidence_sources'"):
        judge_and_score("MMLongBench_DOC", write_predictions(tmp_path / "M.tsv", {7: "1"}, tmp_path / "p.tsv"),
                        tmp_path / "out", judge=scripted({"q": reply("1")}), judge_name="gpt-4o")


def test_dude_against_the_real_judge_server(openai_server, tmp_path, monkeypatch):
    from vlmeval_steps.judge.llm import LLMJudge

    monkeypatch.delenv("LOCAL_LLM", raising=False)
    rows = text_rows([dict(index=1, question="q1", answer="red"), dict(index=2, question="q2", answer="blue"),
                      dict(index=3, question="q3", answer="green")])
    write_tsv(tmp_path / "DUDE.tsv", rows)
    preds = {1: "The page is red.", 2: "Blue.", 3: FAIL}
    before = openai_server.requests_served()
    settings = {"model": openai_server.model, "api_base": openai_server.base_url, "max_tokens": 8}
    with LLMJudge(settings) as judge:
        _, records = judge_and_score("DUDE", write_predictions(tmp_path / "DUDE.tsv", preds, tmp_path / "p.tsv"),
                                     tmp_path / "out", judge=judge, judge_name="tiny")
        assert judge.stats["skipped_failed_predictions"] == 5  # a failed prediction is never sent
    assert openai_server.requests_served() - before >= 2
    assert [r["method"] for r in records] == ["judge"] * 3
    table = read_csv(tmp_path / "out/DUDE_tiny_score.csv")
    assert table["num"].tolist() == [3] and 0 <= table["avg_score"][0] <= 1


def test_registry_and_classes():
    for name, cls in [("DUDE", "DUDE"), ("DUDE_MINI", "DUDE"), ("SLIDEVQA", "SlideVQA"),
                      ("SLIDEVQA_MINI", "SlideVQA"), ("MMLongBench_DOC", "MMLongBenchDoc")]:
        info = REGISTERED[name]
        assert info.cls == cls and info.url.endswith(f"/{name}.tsv") and len(info.md5) == 32
        assert CLASSES[cls].JUDGE_REQUIRED and CLASSES[cls].DEFAULT_JUDGE == "gpt-4o"
    assert REGISTERED["MMLongBench_DOC"].md5 == "75f5d29965d0db68254993f6170da7c2"
    json.dumps(REGISTERED["DUDE"].to_dict())


@pytest.mark.slow
def test_a_local_and_an_api_model_end_to_end(workflow, openai_server):
    """DUDE_MINI through Snakemake with a limit: the demo model (local: pages concatenated) and the demo
    model behind the loopback server (API: one image per page) read different prompt files."""
    from vlmeval_steps.fileio import md5_of

    path = workflow.root / "demo" / "DUDE_MINI.tsv"
    dude_tsv(path, n_pages=3)
    cfg = workflow.config()
    cfg["custom_datasets"]["DUDE_MINI"] = {"url": "demo/DUDE_MINI.tsv", "md5": md5_of(path), "class": "DUDE"}
    cfg["custom_models"] = {"TinyAPI": {"class": "OpenAIAPI", "model": openai_server.model,
                                        "api_base": openai_server.base_url, "max_tokens": 8, "temperature": 0,
                                        "img_size": -1, "nproc": 2, "retry": 2, "wait": 0.2}}
    cfg["models"] = ["TinyLLaVA-Demo", "TinyAPI"]
    cfg["datasets"] = ["DUDE_MINI"]
    cfg["limit"] = 2
    cfg["judge"] = {"model": openai_server.model, "name": "tiny", "api_base": openai_server.base_url,
                    "max_tokens": 8, "keep_failed": True}
    workflow.write_config(cfg)
    workflow.snakemake(*[f"results/{m}/DUDE_MINI_limit2_acc.csv" for m in cfg["models"]])
    prompts = workflow.root / "resources/prompts/DUDE_MINI_limit2"
    assert sorted(p.name for p in prompts.iterdir()) == ["default__concat5x2.jsonl", "default__pages.jsonl"]
    local = [r["message"] for r in read_jsonl(prompts / "default__concat5x2.jsonl")]
    api = [r["message"] for r in read_jsonl(prompts / "default__pages.jsonl")]
    assert [len(images_of(m)) for m in api] == [3, 3] and [len(images_of(m)) for m in local] == [3, 3]
    assert images_of(api[0])[0] != images_of(local[0])[0]  # pages vs 2-column tiles (ceil(3/5) = 1 page each)
    for model, layout in (("TinyLLaVA-Demo", "default__concat5x2"), ("TinyAPI", "default__pages")):
        out = workflow.root / f"results/{model}"
        assert json.loads((out / "DUDE_MINI_limit2_provenance.json").read_text())["prompt_id"] == layout
        table = read_csv(out / "DUDE_MINI_limit2_tiny_score.csv")
        assert table["category"].tolist() == ["anls"] and table["num"].tolist() == [2]


def test_doc_pages_is_a_workflow_key_not_an_adapter_setting():
    from vlmeval_steps.config import WORKFLOW_MODEL_KEYS
    from vlmeval_steps.models import build_model
    from vlmeval_steps.names_check import check_model_settings

    spec = {"class": "OpenAIAPI", "model": "m", "api_base": "http://127.0.0.1:9/v1", "doc_pages": [1, 5]}
    check_model_settings("M", spec, "test", WORKFLOW_MODEL_KEYS)  # accepted
    model = build_model(spec)  # not passed on to the adapter (it would go into every request body)
    assert "doc_pages" not in model.default_kwargs
