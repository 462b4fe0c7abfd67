"""Cost per image of writing upstream's pixels (vlmeval_steps/datasets/images.py), by case.

    PYTHONPATH=. python perf/bench_images.py            # 200 photo-like 640x480 images per case

Cases (the base64 image -> its name): a PNG under `.png` and a JPEG under `.png` keep their bytes
(the JPEG renamed `.jpg`); a JPEG under `.jpg`, an RGBA PNG under `.png` and a PNG under `.jpg`
go through upstream's decode-convert-save. Each case is a fresh TSV extracted into an empty folder
(one process, as for TSVs under 64 MB of base64), best of 3; the rerun over written files is timed
as well. Files go to a temp folder, deleted afterwards.
"""
from __future__ import annotations

import argparse
import base64
import io
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tests.tsvs import write_tsv
from vlmeval_steps.datasets.images import extract_images
from vlmeval_steps.datasets.tsv import read_meta


def photo(seed: int, mode: str = "RGB") -> Image.Image:
    """Smooth gradient plus noise: JPEG and PNG both have real work to do."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:480, 0:640]
    base = np.stack([(x * 255 // 640), (y * 255 // 480), ((x + y) * 255 // 1120)], axis=-1)
    arr = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    im = Image.fromarray(arr)
    return im.convert(mode) if mode != "RGB" else im


def b64(im: Image.Image, fmt: str) -> str:
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return base64.b64encode(buf.getvalue()).decode()


CASES = {
    "PNG as .png (kept)": ("PNG", "RGB", ".png"),
    "JPEG as .png (kept, renamed .jpg)": ("JPEG", "RGB", ".png"),
    "JPEG as .jpg (re-encoded)": ("JPEG", "RGB", ".jpg"),
    "RGBA PNG as .png (converted, re-encoded)": ("PNG", "RGBA", ".png"),
    "PNG as .jpg (re-encoded)": ("PNG", "RGB", ".jpg"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-images-"))
    try:
        print(f"| case ({args.n} images, 640x480) | first write, ms/image | rerun, ms/image |")
        print("|---|---|---|")
        for label, (fmt, mode, ext) in CASES.items():
            blobs = [b64(photo(s, mode), fmt) for s in range(8)]
            tsv = work / "d.tsv"
            write_tsv(tsv, [dict(index=i, image=blobs[i % 8], image_path=f"sub/{i}{ext}", question="q")
                            for i in range(args.n)])
            meta = read_meta(tsv)
            first, rerun = [], []
            for _ in range(3):
                shutil.rmtree(work / "img", ignore_errors=True)
                t = time.perf_counter()
                extract_images(tsv, meta, work / "img")
                first.append(time.perf_counter() - t)
                t = time.perf_counter()
                extract_images(tsv, meta, work / "img")
                rerun.append(time.perf_counter() - t)
            print(f"| {label} | {min(first) / args.n * 1000:.1f} | {min(rerun) / args.n * 1000:.1f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
