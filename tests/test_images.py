"""Image files as upstream writes them: sub-folders, and the pixels a model sees.

The reference is upstream's own recipe (vlmeval/smp/vlm.py `decode_base64_to_image_file` at
e8e78f05): PIL opens the base64 image, converts RGBA/P/LA to RGB and saves it under the dumped
name. Every file we write must decode to the same pixels, and its extension must name its format.
"""
from __future__ import annotations

import base64
import io
import os

import numpy as np
import pytest
from PIL import Image

from tests.tsvs import write_tsv
from vlmeval_steps.datasets.images import extract_images
from vlmeval_steps.datasets.tsv import read_meta
from vlmeval_steps.errors import InputError


def _photo(mode="RGB", size=(48, 32), seed=0) -> Image.Image:
    """Noisy content, so a JPEG re-encode really changes pixels."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, size=(size[1], size[0], 4), dtype=np.uint8)
    if mode == "P":
        return Image.fromarray(arr[..., :3]).quantize(16)
    rgba = Image.fromarray(arr)
    return rgba.convert(mode)


def _b64(im: Image.Image, fmt: str) -> str:
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return base64.b64encode(buf.getvalue()).decode()


def upstream_file(b64: str, path) -> None:
    """decode_base64_to_image_file at e8e78f05, step for step."""
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    if image.mode in ("RGBA", "P", "LA"):
        image = image.convert("RGB")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image.save(path)


def pixels(path):
    with Image.open(path) as im:
        im.load()
        return im.mode, im.size, np.asarray(im).tobytes()


EXT_FORMAT = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".bmp": "BMP"}

# (image_path, image, format of the base64 bytes)
CASES = [
    ("OCR/1000.png", _photo(seed=1), "JPEG"),           # MME: a JPEG under a .png name in a sub-folder
    ("artwork/1002.jpg", _photo(seed=2), "JPEG"),       # re-encoded by upstream (lossy)
    ("artwork/1003.jpeg", _photo(seed=3), "PNG"),       # a PNG under a JPEG name
    ("a/b/c/4.png", _photo(seed=4), "PNG"),             # kept as it is
    ("5.png", _photo("RGBA", seed=5), "PNG"),           # upstream drops alpha
    ("6.png", _photo("P", seed=6), "PNG"),              # upstream converts the palette
    ("7.jpg", _photo("LA", seed=7), "PNG"),
    ("8.png", _photo("L", seed=8), "JPEG"),             # grey JPEG: kept, renamed .jpg
    ("9.png", _photo("P", seed=9), "GIF"),              # a GIF under a .png name
    ("10.bmp", _photo(seed=10), "JPEG"),
    (None, _photo(seed=11), "JPEG"),                    # no image_path: {index}.png, as upstream
]


@pytest.fixture
def mme_like(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = [dict(index=i, image=_b64(im, fmt), image_path=name or "", question="q")
            for i, (name, im, fmt) in enumerate(CASES)]
    tsv = tmp_path / "MME.tsv"
    write_tsv(tsv, rows)
    return tsv, rows


def test_pixels_equal_upstreams_and_extensions_name_the_format(tmp_path, mme_like):
    tsv, rows = mme_like
    refs = extract_images(tsv, read_meta(tsv), tmp_path / "img")
    differs_if_raw = 0
    for row in rows:
        name = row["image_path"] or f"{row['index']}.png"
        upstream_file(row["image"], tmp_path / "upstream" / name)
        [ref] = refs[str(row["index"])]
        ours = tmp_path / ref.path
        assert ours.parent == (tmp_path / "img" / name).parent          # the sub-folder was created
        assert os.path.splitext(ours.name)[0] == os.path.splitext(os.path.basename(name))[0]
        assert pixels(ours) == pixels(tmp_path / "upstream" / name), name
        with Image.open(ours) as im:
            assert EXT_FORMAT[ours.suffix] in (im.format, "JPEG" if im.format == "MPO" else im.format), name
        raw = tmp_path / "raw.bin"
        raw.write_bytes(base64.b64decode(row["image"]))
        differs_if_raw += pixels(raw) != pixels(tmp_path / "upstream" / name)
    # writing the raw bytes would have shown the model other pixels on most rows
    assert differs_if_raw >= 5


def test_free_cases_keep_the_bytes_and_jpeg_names_are_upstreams_bytes(tmp_path, mme_like):
    tsv, rows = mme_like
    refs = extract_images(tsv, read_meta(tsv), tmp_path / "img")
    by_index = {r["index"]: r for r in rows}
    # a JPEG under a .png name: the same bytes, renamed .jpg
    assert refs["0"][0].path == "img/OCR/1000.jpg"
    assert (tmp_path / "img/OCR/1000.jpg").read_bytes() == base64.b64decode(by_index[0]["image"])
    assert refs["10"][0].path == "img/10.jpg"
    # a PNG under a .png name: the same bytes
    assert (tmp_path / refs["3"][0].path).read_bytes() == base64.b64decode(by_index[3]["image"])
    # a .jpg name: upstream's file byte for byte
    upstream_file(by_index[1]["image"], tmp_path / "up/1002.jpg")
    assert (tmp_path / "img/artwork/1002.jpg").read_bytes() == (tmp_path / "up/1002.jpg").read_bytes()


def test_rerun_rewrites_nothing(tmp_path, mme_like):
    tsv, _ = mme_like
    first = extract_images(tsv, read_meta(tsv), tmp_path / "img")
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "img").rglob("*") if p.is_file()}
    assert extract_images(tsv, read_meta(tsv), tmp_path / "img") == first
    assert stamps == {p: p.stat().st_mtime_ns for p in (tmp_path / "img").rglob("*") if p.is_file()}


def test_a_renamed_file_never_takes_another_rows_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a, b = _photo(seed=20), _photo(seed=21)
    tsv = tmp_path / "d.tsv"
    write_tsv(tsv, [dict(index=1, image=_b64(a, "JPEG"), image_path="x.png", question="q"),
                    dict(index=2, image=_b64(b, "JPEG"), image_path="x.jpg", question="q")])
    refs = extract_images(tsv, read_meta(tsv), tmp_path / "img")
    assert refs["1"][0].path == "img/x.png" and refs["2"][0].path == "img/x.jpg"
    for row, name in ((a, "x.png"), (b, "x.jpg")):
        buf = io.BytesIO()
        row.save(buf, format="JPEG")
        upstream_file(base64.b64encode(buf.getvalue()), tmp_path / "up" / name)
        assert pixels(tmp_path / "img" / name) == pixels(tmp_path / "up" / name)


@pytest.mark.parametrize("value", ["../escape.png", "OCR/../../escape.png", "/tmp/abs.png"])
def test_paths_outside_the_folder_are_refused_naming_row_and_value(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    tsv = tmp_path / "bad.tsv"
    write_tsv(tsv, [dict(index=7, image=_b64(_photo(), "PNG"), image_path=value, question="q")])
    with pytest.raises(InputError) as exc:
        extract_images(tsv, read_meta(tsv), tmp_path / "img")
    assert "row index=7" in str(exc.value) and repr(value) in str(exc.value) and "bad.tsv" in str(exc.value)
    assert not (tmp_path / "escape.png").exists() and not os.path.exists("/tmp/abs.png.written-by-test")


def test_a_name_without_an_image_extension_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tsv = tmp_path / "bad.tsv"
    write_tsv(tsv, [dict(index=3, image=_b64(_photo(), "PNG"), image_path="noext", question="q")])
    with pytest.raises(InputError, match=r"row index=3: image_path 'noext' has no image extension"):
        extract_images(tsv, read_meta(tsv), tmp_path / "img")


def test_mme_build_prompts_stage_with_sub_folders(tmp_path, monkeypatch):
    """The build-prompts stage on an MME-shaped TSV (it crashed on 'OCR/1000.png' before)."""
    import json

    from tests.benchdata import info
    from vlmeval_steps.steps import build_prompts

    monkeypatch.chdir(tmp_path)
    rows = []
    for i, (name, category) in enumerate([("OCR/1000.png", "OCR"), ("artwork/1002.jpg", "artwork")]):
        b64 = _b64(_photo(seed=30 + i), "JPEG")
        rows += [dict(index=2 * i, image=b64, image_path=name, question="Is it? Please answer yes or no.",
                      answer="Yes", category=category),
                 dict(index=2 * i + 1, image=str(2 * i), image_path=name, question="Or not?", answer="No",
                      category=category)]
    write_tsv(tmp_path / "MME.tsv", rows)
    assert build_prompts.run(info("MME"), tmp_path / "MME.tsv", tmp_path / "p.jsonl", tmp_path / "images/MME",
                             check_md5=False) == 4
    records = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    paths = [next(m["value"] for m in r["message"] if m["type"] == "image") for r in records]
    assert paths == ["images/MME/OCR/1000.jpg"] * 2 + ["images/MME/artwork/1002.jpg"] * 2
    for row in rows[::2]:
        upstream_file(row["image"], tmp_path / "up" / row["image_path"])
    assert pixels(paths[0]) == pixels(tmp_path / "up/OCR/1000.png")
    assert pixels(paths[2]) == pixels(tmp_path / "up/artwork/1002.jpg")


def test_rerun_trusts_only_files_it_reencoded_unchanged(tmp_path, monkeypatch):
    """Re-encoded files are recorded (source hash, size, mtime), so a rerun skips the re-encode;
    a file changed since is written again."""
    from vlmeval_steps.datasets import images

    monkeypatch.chdir(tmp_path)
    rows = [dict(index=i, image=_b64(_photo(seed=40 + i), "JPEG"), image_path=f"d/{i}.jpg", question="q")
            for i in range(3)]
    tsv = tmp_path / "d.tsv"
    write_tsv(tsv, rows)
    first = extract_images(tsv, read_meta(tsv), tmp_path / "img")

    def no_encoding(*args, **kwargs):
        raise AssertionError("re-encoded although the file was already right")

    with monkeypatch.context() as m:
        m.setattr(images, "_encode", no_encoding)
        assert extract_images(tsv, read_meta(tsv), tmp_path / "img") == first
    (tmp_path / "img/d/1.jpg").write_bytes(b"not the image")
    assert extract_images(tsv, read_meta(tsv), tmp_path / "img") == first
    upstream_file(rows[1]["image"], tmp_path / "up/1.jpg")
    assert (tmp_path / "img/d/1.jpg").read_bytes() == (tmp_path / "up/1.jpg").read_bytes()
