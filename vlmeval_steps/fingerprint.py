"""Fingerprints of the library code each stage runs, for Snakemake's rerun params.

Snakemake notices edits to a rule's shell command but not to the Python it calls, so each rule
carries a hash of exactly the source files that decide its result: editing the scoring code
reruns score and nothing else.
"""
from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent

STAGE_SOURCES = {
    "download": ["steps/download.py"],
    "verify": ["steps/verify.py"],
    "prompts": ["datasets", "prompts", "steps/build_prompts.py", "video/prompts.py", "video/benchmark.py"],
    # video: the benchmark's folder and index; its frames (decoding, the classes' index formulas)
    "video_fetch": ["video/source.py", "datasets/video"],
    "frames": ["video/decode.py", "video/extract.py", "datasets/video"],
    "infer": ["models", "cache.py", "steps/infer.py"],
    "merge": ["predictions.py", "steps/merge.py"],
    # text.py: the Y/N word rules; mathvista.py, mathvision.py: what their prefetch compares with
    "judge": ["judge", "datasets", "scoring/text.py", "scoring/mathvista.py", "scoring/mathvision.py",
              "steps/judge.py"],
    # the per-row outcome files are written with the statistics room's format
    "score": ["scoring", "datasets/mcq_tables.py", "steps/score.py", "steps/score_group.py", "stats/outcomes.py",
              "stats/spec.py"],
    "demo_model": ["demo"],
    "report": ["report", "stats", "steps/summary.py"],
}


def _files(entry: str) -> list[Path]:
    path = PACKAGE / entry
    return sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []


@cache
def fingerprint(stage: str) -> str:
    h = hashlib.sha256()
    for entry in STAGE_SOURCES[stage]:
        for f in _files(entry):
            h.update(str(f.relative_to(PACKAGE)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]
