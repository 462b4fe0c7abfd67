"""Fuzzing the TSV loader and the answer extraction: any input gives a result or an InputError,
never an uncaught exception or a hang."""
from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vlmeval_steps.datasets.images import extract_images
from vlmeval_steps.datasets.tsv import load_tsv, read_meta
from vlmeval_steps.errors import InputError
from vlmeval_steps.judge.matching import can_infer
from tests.tsvs import png_b64

CELL = st.one_of(
    st.text(alphabet=string.printable.replace("\t", "").replace("\n", "").replace("\r", ""), max_size=30),
    st.sampled_from(["None", "NA", "nan", "", "[", "['a', 'b']", "1", "-3", "1.5", png_b64(), "[1, 2]", "'"]),
)


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=1, max_size=6), min_size=0, max_size=6),
       header=st.lists(st.sampled_from(["index", "image", "question", "A", "B", "answer", "image_path", "x"]),
                       min_size=1, max_size=6, unique=True))
def test_tsv_loader_never_crashes(tmp_path_factory, rows, header):
    d = tmp_path_factory.mktemp("fuzz")
    path = d / "f.tsv"
    path.write_text("\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    try:
        meta = read_meta(path)
        load_tsv(path)
        extract_images(path, meta, d / "img")
    except InputError:
        pass


@settings(max_examples=300, deadline=1000)
@given(answer=st.text(max_size=200),
       choices=st.dictionaries(st.sampled_from(list("ABCDEFG")), st.one_of(st.text(max_size=20), st.floats()),
                               min_size=0, max_size=7))
def test_can_infer_never_crashes(answer, choices):
    result = can_infer(answer, choices)
    assert result is False or result == "Z" or result in choices


@settings(max_examples=100, deadline=1000)
@given(st.binary(max_size=300))
def test_binary_garbage_is_an_input_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bin") / "g.tsv"
    path.write_bytes(data)
    try:
        read_meta(path)
    except InputError:
        pass
