"""What produced a score, beyond its settings: package versions, the project's git commit, the
model's weights identity and absolute paths (written into `{dataset}_provenance.json`)."""
from __future__ import annotations

import functools
import hashlib
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("vlmeval-steps", "torch", "transformers", "openai", "snakemake", "numpy", "pandas")
#: the files that identify a checkpoint without reading its weights: config and shard index
IDENTITY_FILES = ("config.json", "generation_config.json", "preprocessor_config.json", "tokenizer_config.json")


def versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@functools.lru_cache(maxsize=None)
def git_commit(where: str | None = None) -> str | None:
    """The commit of the checkout this package runs from ('+dirty' with local changes); None outside one."""
    root = Path(where) if where else Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def model_identity(settings: dict) -> dict:
    """A local checkpoint: its absolute path and a sha256 of its config and index files (and the
    weight files' names and sizes); an API model: the model id it asks for and where."""
    path = settings.get("model_path")
    if path:
        folder = Path(str(path)).expanduser().resolve()
        if not folder.is_dir():
            return dict(path=str(folder), sha256=None, note="not a local folder (a hub id or missing)")
        digest = hashlib.sha256()
        files = sorted({*(folder / f for f in IDENTITY_FILES), *folder.glob("*.index.json")})
        used = []
        for f in files:
            if f.is_file():
                digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
                used.append(f.name)
        for w in sorted([*folder.glob("*.safetensors"), *folder.glob("*.bin")]):
            digest.update(f"{w.name}:{w.stat().st_size}\n".encode())
        return dict(path=str(folder), sha256=digest.hexdigest(), files=used)
    if settings.get("model"):
        return dict(served_model=str(settings["model"]), api_base=settings.get("api_base"))
    return {}


def record(settings: dict | None, **paths) -> dict:
    """Provenance fields of one score: versions, git commit, model identity, absolute paths."""
    return dict(versions=versions(), git_commit=git_commit(), model_identity=model_identity(settings or {}),
                paths={k: str(Path(v).resolve()) for k, v in paths.items() if v}, work_dir=str(Path.cwd()))
