"""Prompt building of multi-page documents (DUDE / MMLongBench_DOC): PDF rendering and page layouts.

    python perf/bench_doc_pages.py                   # 4 documents of 30 Letter pages, 3 questions each
    python perf/bench_doc_pages.py --docs 2 --pages 120

Writes a DUDE-layout TSV of generated PDFs (text and a filled box on every US Letter page), then runs the
build_prompts step once per layout: `pages` (API models; renders every page at 144 dpi), then
`concat5x2`, `concat1x5` and `frames` (local models; they reuse the rendered pages and concatenate them),
then `concat5x2` again (a rerun, e.g. with another `limit`: the files exist and are not rebuilt).
Reported per layout: wall time, time per document, and the size of what one document's prompt holds.
"""
from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vlmeval_steps.datasets.registry import REGISTERED  # noqa: E402
from vlmeval_steps.fileio import read_jsonl  # noqa: E402
from vlmeval_steps.steps import build_prompts  # noqa: E402


def pdf_b64(pages: int, seed: int) -> str:
    import pymupdf

    doc = pymupdf.open()
    for i in range(pages):
        page = doc.new_page(width=612, height=792)
        page.insert_text((72, 72), f"Document {seed}, page {i + 1}", fontsize=18)
        for line in range(30):
            page.insert_text((72, 120 + 20 * line), f"Line {line}: the quick brown fox jumps over the lazy dog.")
        page.draw_rect(pymupdf.Rect(72, 720, 300, 760), color=None, fill=((i * 37 % 255) / 255, 0.3, 0.6))
    data = doc.tobytes()
    doc.close()
    return base64.b64encode(data).decode()


def write_tsv(path: Path, docs: int, pages: int, questions: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("index\timage\timage_path\tquestion\tanswer\tdoc_id\n")
        index = 0
        for d in range(docs):
            cell = pdf_b64(pages, d)
            names = str([f"doc{d}_{i}.png" for i in range(pages)])
            for q in range(questions):
                index += 1
                image = cell if q == 0 else str(index - q)  # later questions refer to the first row's PDF
                fh.write(f"{index}\t{image}\t{names}\tQuestion {q} about document {d}?\tanswer\tdoc{d}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=4)
    ap.add_argument("--pages", type=int, default=30)
    ap.add_argument("--questions", type=int, default=3)
    args = ap.parse_args()
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tsv = tmp / "DUDE.tsv"
        write_tsv(tsv, args.docs, args.pages, args.questions)
        print(f"{args.docs} documents x {args.pages} pages, {args.questions} questions each; "
              f"TSV {os.path.getsize(tsv) / 2**20:.1f} MB; {os.cpu_count()} CPUs")
        print(f"{'layout':<16} {'wall s':>8} {'s/doc':>7} {'images/prompt':>14} {'pixels/prompt (M)':>18}")
        for i, layout in enumerate(("pages", "concat5x2", "concat1x5", "frames", "concat5x2")):
            out = tmp / f"{layout}-{i}.jsonl"
            t0 = time.perf_counter()
            build_prompts.run(REGISTERED["DUDE"], tsv, out, tmp / "images", prompt_id=f"default__{layout}",
                              check_md5=False)
            wall = time.perf_counter() - t0
            first = next(iter(read_jsonl(out)))["message"]
            paths = [m["value"] for m in first if m["type"] == "image"]
            pixels = 0
            for p in paths:
                with Image.open(p) as im:
                    pixels += im.size[0] * im.size[1]
            label = layout if i < 4 else f"{layout} again"
            print(f"{label:<16} {wall:8.2f} {wall / args.docs:7.2f} {len(paths):14d} {pixels / 1e6:18.1f}")


if __name__ == "__main__":
    main()
