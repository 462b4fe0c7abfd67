"""The layers written in pyproject.toml's [tool.importlinter] hold (docs/development.md#layers)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = str(Path(sys.executable).with_name("lint-imports"))


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT, "--no-cache"], cwd=root, capture_output=True, text=True,
                          env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(root)})


def test_the_layers_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_engine_importing_a_benchmark_is_refused(tmp_path):
    """The contracts are live: a shared engine that imports the registry breaks one, named with the import."""
    shutil.copytree(ROOT / "vlmeval_steps", tmp_path / "vlmeval_steps",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    stats = tmp_path / "vlmeval_steps" / "stats" / "__init__.py"
    stats.write_text(stats.read_text() + "\nfrom ..datasets import registry  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "Shared engines import no benchmark" in result.stdout and "BROKEN" in result.stdout
    assert "vlmeval_steps.stats -> vlmeval_steps.datasets.registry" in result.stdout


def test_an_api_infer_job_imports_no_pandas_torch_or_registry():
    """An API shard's first request comes within a fraction of a second of its start: the infer step, the CLI and
    the OpenAI adapter do not import the dataset registry (and with it pandas) or torch (issue 24)."""
    code = ("import sys, vlmeval_steps.cli, vlmeval_steps.checkpoints, vlmeval_steps.steps.infer, "
            "vlmeval_steps.models.openai_api; "
            "print(sorted(m for m in ('pandas', 'torch', 'transformers', 'vlmeval_steps.datasets.registry', "
            "'vlmeval_steps.config') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
