"""Fingerprints of the library code each stage runs, for Snakemake's rerun params.

Snakemake notices edits to a rule's shell command but not to the Python it calls, so each rule
carries a hash of exactly the source files that decide its result: editing the scoring code
reruns score and nothing else, and editing one benchmark's code reruns that benchmark's stages only.

A stage's files are its step module and the modules it imports, followed transitively through the
package (function-level imports included); for a per-benchmark stage, also the modules the benchmark's
class imports. The walk stops at the dispatch modules (config and the registry), which name every
benchmark: an edit there changes what is configured, not how one benchmark is computed.
"""
from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent

#: where the walk stops: modules that import every benchmark to look one up by name
DISPATCH = frozenset({"vlmeval_steps.config", "vlmeval_steps.datasets.registry", "vlmeval_steps.datasets",
                      "vlmeval_steps.names_check"})

#: code a stage never runs although a benchmark's class module imports it (the class serves every stage): not
#: followed. Prompt-build runs no extraction or scoring; the judge stage scores nothing but runs the word rules
#: and the prefetch comparisons of a few benchmarks (the exceptions).
_NO_SCORING = ("vlmeval_steps.scoring", "vlmeval_steps.judge", "vlmeval_steps.stats")
NOT_RUN = {"prompts": _NO_SCORING, "video_fetch": _NO_SCORING, "frames": _NO_SCORING,
           "judge": ("vlmeval_steps.scoring", "vlmeval_steps.stats")}
NOT_RUN_EXCEPT = {"judge": ("vlmeval_steps.scoring.text", "vlmeval_steps.scoring.mathvista",
                            "vlmeval_steps.scoring.mathvision", "vlmeval_steps.scoring.common")}

#: stages whose files are listed, not walked: the demo model's hash names its trained weights in the shared
#: model store, and only the demo package decides them (walking would reach the benchmark it is scored on)
NOT_WALKED = frozenset({"demo_model"})

#: each stage's own modules (walked) and its data files; the benchmark's class module is added per dataset
STAGE_SOURCES = {
    "download": ["steps/download.py"],
    "verify": ["steps/verify.py"],
    "prompts": ["steps/build_prompts.py", "video/prompts.py", "video/benchmark.py"],
    # video: the benchmark's folder and index; its frames (decoding, the classes' index formulas)
    "video_fetch": ["video/source.py", "datasets/video"],
    "frames": ["video/decode.py", "video/extract.py", "datasets/video"],
    "infer": ["models", "cache.py", "steps/infer.py"],
    "merge": ["predictions.py", "steps/merge.py"],
    "judge": ["steps/judge.py", "judge/llm.py", "judge/select.py"],
    # the per-row outcome files are written with the statistics room's format
    "score": ["steps/score.py", "steps/score_group.py", "scoring/rows.py", "stats/outcomes.py", "stats/spec.py"],
    "demo_model": ["demo"],
    "report": ["report", "stats", "steps/summary.py"],
}


def _files(entry: str) -> list[Path]:
    path = PACKAGE / entry
    return sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@cache
def _imports(module: str) -> frozenset[str]:
    """The package modules `module` imports anywhere in its body (relative and absolute)."""
    modules, path = _modules(), _modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from . import x`: a submodule
    return frozenset(m for m in found if m in modules and m != module)


def _under(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@cache
def _closure(stage: str, roots: tuple[str, ...]) -> tuple[Path, ...]:
    modules, seen, todo = _modules(), set(), list(roots)
    while todo:
        m = todo.pop()
        if m in seen or (m not in roots and (m in DISPATCH or (
                _under(m, NOT_RUN.get(stage, ())) and m not in NOT_RUN_EXCEPT.get(stage, ())))):
            continue
        seen.add(m)
        todo.extend(_imports(m))
    return tuple(sorted(modules[m] for m in seen))


def stage_files(stage: str, benchmark_module: str | None = None) -> list[Path]:
    """The source files whose content decides `stage`'s result (for one benchmark's class, if given)."""
    files = [f for entry in STAGE_SOURCES[stage] for f in _files(entry)]
    if stage in NOT_WALKED:
        return sorted(files)
    roots = tuple(sorted({_module(f) for f in files} | ({benchmark_module} if benchmark_module else set())))
    return sorted(set(files) | set(_closure(stage, roots)))


@cache
def fingerprint(stage: str, benchmark_module: str | None = None) -> str:
    h = hashlib.sha256()
    for f in stage_files(stage, benchmark_module):
        h.update(str(f.relative_to(PACKAGE)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]
