"""The damaged-input checks (datasets/checks.py) on their own: fast, no workflow."""
from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.tsvs import png_b64, write_tsv
from vlmeval_steps.datasets.checks import image_problem
from vlmeval_steps.datasets.tsv import read_meta
from vlmeval_steps.errors import InputError


def encoded(fmt: str, size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (30, 60, 200)).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP"])
def test_complete_images_pass_and_cut_ones_are_named(fmt):
    raw = encoded(fmt)
    assert image_problem(raw) is None
    cut = image_problem(raw[: len(raw) * 2 // 3])
    assert cut and ("cut short" in cut or "cannot be decoded" in cut)


def test_the_problem_is_said_plainly():
    png, jpeg = encoded("PNG"), encoded("JPEG")
    assert "ends before its IEND chunk" in image_problem(png[:-12])
    assert "ends inside its 'IDAT' chunk" in image_problem(png[: len(png) // 2])
    assert "no end-of-image marker (FF D9)" in image_problem(jpeg[:-2])
    assert "cannot be decoded" in image_problem(b"not an image at all, but base64 decodes to it")
    assert image_problem(jpeg + b"\x00\x00") is None  # padding after the end marker is harmless


def test_short_rows_and_nul_bytes_name_the_row(tmp_path):
    tsv = tmp_path / "d.tsv"
    write_tsv(tsv, [dict(index=i, image=png_b64(), question="q", A="a", B="b") for i in (7, 8, 9)])
    lines = tsv.read_bytes().split(b"\n")
    lines[2] = lines[2].rsplit(b"\t", 2)[0]  # row index=8 loses its last two fields
    (tmp_path / "short.tsv").write_bytes(b"\n".join(lines))
    with pytest.raises(InputError, match=r"short\.tsv: row index=8 \(record 3, counting the header as 1\) has fewer "
                                         r"fields than the header's 5: the row is cut short"):
        read_meta(tmp_path / "short.tsv")

    write_tsv(tmp_path / "nul.tsv", [dict(index=1, image=png_b64(), question="q", A="a\x00b", B="b")])
    with pytest.raises(InputError, match=r"nul\.tsv: row index=1, column 'A': the text holds a NUL byte"):
        read_meta(tmp_path / "nul.tsv")

    # a TSV without an image column is checked the same way
    (tmp_path / "meta.tsv").write_bytes(b"index\tquestion\tanswer\n1\tq\tA\n2\tq\n")
    with pytest.raises(InputError, match=r"meta\.tsv: row index=2 .* has fewer fields than the header's 3"):
        read_meta(tmp_path / "meta.tsv")
