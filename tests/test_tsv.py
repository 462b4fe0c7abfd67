"""The TSV loader and image extraction follow upstream's loading semantics."""
from __future__ import annotations

import hashlib
import base64

import pandas as pd
import pytest

from vlmeval_steps.datasets.images import extract_images
from vlmeval_steps.datasets.tsv import load_tsv, read_meta
from vlmeval_steps.errors import InputError
from tests.tsvs import png_b64, write_tsv

RED, BLUE = png_b64((255, 0, 0)), png_b64((0, 0, 255))


def test_nan_strings_int_indices_references_and_rows_without_images(tmp_path):
    tsv = tmp_path / "d.tsv"
    write_tsv(tsv, [
        dict(index=1, image=RED, question="q1", A="None", B="yes", C="NA", answer="B"),
        dict(index=2, image="1", question="q2", A="x", B="null", answer="A"),     # a reference to row 1
        dict(index=3, image="", question="no image", A="x", B="y", answer="A"),   # dropped, as upstream
        dict(index=4, image=str([RED, BLUE]), question="two", A="1", B="2", answer="A"),
    ])
    data = load_tsv(tsv)
    assert list(data["index"]) == [1, 2, 4]
    assert data["index"].map(type).eq(int).all()
    row1 = data.iloc[0]
    assert pd.isna(row1["A"]) and pd.isna(row1["C"]) and row1["B"] == "yes"  # "None" and "NA" are NaN
    assert pd.isna(data.iloc[1]["B"])                                        # so is "null"
    assert data.iloc[1]["image"] == RED                                      # reference resolved
    assert data.iloc[2]["image"] == [RED, BLUE]                              # list parsed


def test_string_indices_stay_strings(tmp_path):
    tsv = tmp_path / "d.tsv"
    write_tsv(tsv, [dict(index="a_0_1_2", image=RED, question="q"), dict(index="7", image=RED, question="q")])
    assert list(read_meta(tsv)["index"]) == ["a_0_1_2", "7"]


def test_extract_images_names_as_upstream_and_hashes_bytes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tsv = tmp_path / "d.tsv"
    write_tsv(tsv, [
        dict(index=1, image=RED, question="q"),
        dict(index=2, image="1", question="q"),
        dict(index=3, image=str([RED, BLUE]), question="q"),
        dict(index=4, image=BLUE, image_path="named.png", question="q"),
        dict(index=5, image=str([RED, BLUE]), image_path=str(["p.png", "q.png"]), question="q"),
    ])
    refs = extract_images(tsv, read_meta(tsv), tmp_path / "img")
    names = {k: [r.path for r in v] for k, v in refs.items()}
    assert names == {"1": ["img/1.png"], "2": ["img/1.png"], "3": ["img/3_0.png", "img/3_1.png"],
                     "4": ["img/named.png"], "5": ["img/p.png", "img/q.png"]}
    raw = base64.b64decode(BLUE)
    assert (tmp_path / "img/named.png").read_bytes() == raw  # a PNG under a .png name: kept as it is
    assert refs["4"][0].digest == hashlib.sha256(raw).hexdigest()


def test_limited_extraction_writes_only_needed_rows_and_their_reference_targets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tsv = tmp_path / "d.tsv"
    write_tsv(tsv, [dict(index=1, image="3", question="q"), dict(index=2, image=RED, question="q"),
                    dict(index=3, image=BLUE, question="q")])
    refs = extract_images(tsv, read_meta(tsv).head(1), tmp_path / "img")
    assert [r.path for r in refs["1"]] == ["img/3.png"]
    assert not (tmp_path / "img/2.png").exists()


@pytest.mark.parametrize("rows, message", [
    ([dict(index=1, image=RED, question="q"), dict(index=1, image=RED, question="q")], "duplicate values in column 'index'"),
    ([dict(index=1, image="not base64 of an image!" * 4, question="q")], "row index=1: the image cannot be decoded"),
    ([dict(index=1, image="9", question="q")], "refers to index '9'"),
    ([dict(index=1, image=RED, question="q", image_path="../escape.png")], "points outside the image folder"),
])
def test_bad_rows_are_named(tmp_path, monkeypatch, rows, message):
    monkeypatch.chdir(tmp_path)
    tsv = tmp_path / "bad.tsv"
    write_tsv(tsv, rows)
    with pytest.raises(InputError, match=message) as exc:
        extract_images(tsv, read_meta(tsv), tmp_path / "img")
    assert "bad.tsv" in str(exc.value)


def test_missing_column_names_column_and_file(tmp_path):
    tsv = tmp_path / "d.tsv"
    write_tsv(tsv, [dict(index=1, image=RED, question="q")])
    with pytest.raises(InputError, match=r"d.tsv: missing required column\(s\) \['A', 'B'\]"):
        read_meta(tsv, required=("index", "question", "A", "B"))


def test_truncated_and_binary_files_are_reported(tmp_path):
    tsv = tmp_path / "d.tsv"
    write_tsv(tsv, [dict(index=i, image=RED, question="q", A="a", B="b") for i in range(5)])
    data = tsv.read_bytes()
    (tmp_path / "cut.tsv").write_bytes(data[: len(data) // 2 + 7] + b'"\tunterminated')
    with pytest.raises(InputError, match="cut.tsv"):
        load_tsv(tmp_path / "cut.tsv")
    (tmp_path / "bin.tsv").write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)
    with pytest.raises(InputError, match="bin.tsv"):
        read_meta(tmp_path / "bin.tsv")
    (tmp_path / "empty.tsv").write_bytes(b"")
    with pytest.raises(InputError, match="empty.tsv: the file is empty"):
        read_meta(tmp_path / "empty.tsv")
