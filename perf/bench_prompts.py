"""Benchmark of the prompt-build stage on generated TSVs: rows/s, MB/s and peak memory.

    python perf/bench_prompts.py                      # both cases, files under /tmp
    python perf/bench_prompts.py --case rows --rows 10000
    python perf/bench_prompts.py --case large --gb 1.0

Case `rows`: 10,000 rows, each with its own small PNG drawn with Pillow (an MCQ TSV in
VLMEvalKit's layout). Case `large`: a TSV of at least --gb GB, made quickly by repeating a few
large random-noise PNGs (noise does not compress, so each is ~1.5 MB of base64).

Each case runs the real stage, `vlmeval-steps build-prompts` (md5 check, TSV parse, image
extraction, prompts), in a subprocess under /usr/bin/time -v for its wall time and peak
resident memory (of the largest process: the stage, or one of its decoding workers). For
scale it also times copying the TSV (`cp`, then sync) on the same disk, and measures this
machine's single-core md5 and base64-decoding speed (MB/s), the two passes every byte needs.
The generated files stay out of the repository (--workdir, default
/tmp/vlmeval-steps-bench) and are deleted afterwards unless --keep.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

from vlmeval_steps.fileio import md5_of

HEADER = ["index", "image", "question", "A", "B", "C", "D", "answer", "category"]


def small_png(i: int) -> bytes:
    """A 96x96 PNG with a shape whose colour and position depend on i (every row differs)."""
    rng = random.Random(i)
    im = Image.new("RGB", (96, 96), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    x, y = rng.randint(0, 40), rng.randint(0, 40)
    color = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
    (draw.ellipse if i % 2 else draw.rectangle)((x, y, x + 48, y + 48), fill=color)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def noise_png(seed: int, size=(800, 600)) -> bytes:
    rng = random.Random(seed)
    im = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _row(i: int, b64: str) -> str:
    return "\t".join([str(i), b64, f"Which shape is in image {i}?", "circle", "square", "triangle", "None",
                      "AB"[i % 2], ["shape", "colour"][i % 2]]) + "\n"


def write_rows_tsv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\t".join(HEADER) + "\n")
        for i in range(1, rows + 1):
            fh.write(_row(i, base64.b64encode(small_png(i)).decode()))


def write_large_tsv(path: Path, gb: float, n_images: int = 4) -> None:
    blobs = [base64.b64encode(noise_png(s)).decode() for s in range(n_images)]
    target = int(gb * 1e9)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\t".join(HEADER) + "\n")
        i, written = 0, 0
        while written < target:
            i += 1
            line = _row(i, blobs[i % n_images])
            fh.write(line)
            written += len(line)


def run_stage(tsv: Path, workdir: Path, name: str) -> dict:
    out, images = workdir / f"{name}.prompts.jsonl", workdir / f"{name}-images"
    shutil.rmtree(images, ignore_errors=True)
    spec = json.dumps(dict(name=name, cls="ImageMCQDataset", url=tsv.as_uri(), md5=md5_of(tsv)))
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "vlmeval_steps", "build-prompts", "--dataset", name,
           "--dataset-spec", spec, "--data", str(tsv), "--images", str(images), "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"build-prompts failed:\n{proc.stderr[-3000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)[1])
    rows = sum(1 for _ in open(out, encoding="utf-8"))
    image_bytes = sum(p.stat().st_size for p in images.iterdir())
    return dict(rows=rows, wall_s=wall, peak_rss_mb=peak_kb / 1024, images_mb=image_bytes / 1e6)


def copy_time(tsv: Path, workdir: Path) -> float:
    dst = workdir / "copy.tsv"
    t0 = time.perf_counter()
    subprocess.run(["cp", str(tsv), str(dst)], check=True)
    os.sync()
    elapsed = time.perf_counter() - t0
    dst.unlink()
    return elapsed


def cpu_floors(tsv: Path) -> dict:
    """Single-core MB/s of the two unavoidable passes, on this file's first image cell:
    md5 over the TSV bytes and base64 decoding of the image cells."""
    with open(tsv, "rb") as fh:
        fh.readline()
        cell = fh.readline().split(b"\t")[1]
    blob = cell * max(1, (64 << 20) // len(cell))
    t0 = time.perf_counter()
    hashlib.md5(blob, usedforsecurity=False).hexdigest()
    md5_rate = len(blob) / (time.perf_counter() - t0) / 1e6
    t0 = time.perf_counter()
    for _ in range(len(blob) // len(cell)):
        base64.b64decode(cell)
    b64_rate = len(blob) / (time.perf_counter() - t0) / 1e6
    return dict(md5_mb_s=md5_rate, b64_mb_s=b64_rate)


def bench(case: str, tsv: Path, workdir: Path, repeat: int) -> dict:
    size_mb = tsv.stat().st_size / 1e6
    runs = sorted((run_stage(tsv, workdir, f"Bench{case.capitalize()}") for _ in range(repeat)),
                  key=lambda r: r["wall_s"])
    res = dict(runs[len(runs) // 2])  # the median run
    res.update(case=case, tsv_mb=size_mb, best_s=runs[0]["wall_s"], rows_per_s=res["rows"] / res["wall_s"],
               tsv_mb_per_s=size_mb / res["wall_s"], peak_rss_mb=max(r["peak_rss_mb"] for r in runs),
               cp_s=copy_time(tsv, workdir), **cpu_floors(tsv))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", choices=["rows", "large", "both"], default="both")
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--gb", type=float, default=1.0)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/vlmeval-steps-bench"))
    ap.add_argument("--repeat", type=int, default=3, help="runs per case; the median is reported")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        makers = {"rows": lambda p: write_rows_tsv(p, args.rows), "large": lambda p: write_large_tsv(p, args.gb)}
        for case, make in makers.items():
            if args.case not in (case, "both"):
                continue
            tsv = args.workdir / f"{case}.tsv"
            t0 = time.perf_counter()
            make(tsv)
            print(f"generated {tsv} ({tsv.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s",
                  flush=True)
            results.append(bench(case, tsv, args.workdir, args.repeat))
    finally:
        if not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"\n{cpus} CPUs usable, load average {os.getloadavg()[0]:.1f}; median of {args.repeat} runs")
    print(f"{'case':<6} {'rows':>6} {'TSV MB':>7} {'img MB':>7} {'wall s':>7} {'best s':>7} {'rows/s':>7} "
          f"{'TSV MB/s':>8} {'peak RSS MB':>11} {'cp s':>5} {'md5 MB/s':>8} {'b64 MB/s':>8}")
    for r in results:
        print(f"{r['case']:<6} {r['rows']:>6} {r['tsv_mb']:>7.1f} {r['images_mb']:>7.1f} {r['wall_s']:>7.2f} "
              f"{r['best_s']:>7.2f} {r['rows_per_s']:>7.0f} {r['tsv_mb_per_s']:>8.1f} {r['peak_rss_mb']:>11.0f} "
              f"{r['cp_s']:>5.2f} {r['md5_mb_s']:>8.0f} {r['b64_mb_s']:>8.0f}")


if __name__ == "__main__":
    main()
