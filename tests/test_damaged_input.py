"""A damaged benchmark is refused where its TSV is read, naming the file, the row and what is wrong (issue 17):
a TSV cut in the middle of a row, a header-only TSV, a NUL byte in a question, and images whose data
is incomplete (a PNG without IEND, a JPEG without its end marker). Through the real command line;
none of them reaches a model."""
from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image

from tests.tsvs import png_b64, write_tsv
from vlmeval_steps.fileio import md5_of

pytestmark = pytest.mark.slow


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 180, 40)).save(buf, format="JPEG")
    return buf.getvalue()


def rows_with(image_of_row_2: str) -> list[dict]:
    rows = [dict(index=i, image=png_b64(), question="Which colour?", A="red", B="green", answer="A", category="c")
            for i in range(1, 5)]
    rows[1]["image"] = image_of_row_2
    return rows


def test_damaged_tsvs_are_refused_naming_file_row_and_problem(workflow):
    demo = (workflow.root / "demo/DemoShapes.tsv").read_bytes()
    lines = demo.split(b"\n")
    # cut in the middle of row 51's image, as an interrupted download or a full disk leaves it
    cut_at = len(b"\n".join(lines[:51])) + 1 + len(lines[51]) // 2
    (workflow.root / "demo/Cut.tsv").write_bytes(demo[:cut_at])
    (workflow.root / "demo/HeaderOnly.tsv").write_bytes(lines[0] + b"\n")
    nul = lines[:]
    fields = nul[3].split(b"\t")
    nul_index = fields[0].decode()
    fields[2] = fields[2].replace(b" ", b"\x00", 1)  # the question
    nul[3] = b"\t".join(fields)
    (workflow.root / "demo/Nul.tsv").write_bytes(b"\n".join(nul))
    png = base64.b64decode(png_b64())
    write_tsv(workflow.root / "demo/CutPng.tsv", rows_with(base64.b64encode(png[:-12]).decode()))
    write_tsv(workflow.root / "demo/CutJpeg.tsv", rows_with(base64.b64encode(jpeg_bytes()[:-2]).decode()))

    names = ["Cut", "HeaderOnly", "Nul", "CutPng", "CutJpeg"]
    cfg = workflow.config()
    for name in names:
        cfg["custom_datasets"][name] = {"url": f"demo/{name}.tsv", "md5": md5_of(workflow.root / f"demo/{name}.tsv"),
                                        "type": "MCQ"}
    workflow.write_config(dict(cfg, datasets=names))
    proc = workflow.snakemake("--keep-going", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert re.search(r"Cut\.tsv: row index=\d+ \(record \d+, counting the header as 1\) has fewer fields than the "
                     r"header's 11: the row is cut short", out), out[-5000:]
    assert "HeaderOnly.tsv: the TSV has a header but no rows: nothing to evaluate" in out
    assert f"Nul.tsv: row index={nul_index}, column 'question': the text holds a NUL byte" in out
    assert "CutPng.tsv: row index=2: the PNG data ends before its IEND chunk" in out
    assert "CutJpeg.tsv: row index=2: the JPEG data has no end-of-image marker (FF D9)" in out
    # refused before any prompt file was written or any model asked
    assert not (workflow.root / "resources/prompts").exists() or not any((workflow.root / "resources/prompts").rglob("*.jsonl"))
    assert not (workflow.root / "logs/infer").exists()
    assert "Traceback" not in out
