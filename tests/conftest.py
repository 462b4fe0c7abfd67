"""Shared fixtures: the trained demo model (built once per session) and workflow copies in tmp dirs."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def demo_model() -> Path:
    """The colour-and-shape demo model, trained exactly as the workflow's demo_model rule does.

    Training takes a few minutes, so the result is kept in a cache folder keyed by the demo code's
    fingerprint ($VLMEVAL_STEPS_TEST_CACHE, default ~/.cache/vlmeval-steps-tests) and reused by
    later test sessions until that code changes.
    """
    from filelock import FileLock

    from vlmeval_steps.fingerprint import fingerprint

    cache = Path(os.environ.get("VLMEVAL_STEPS_TEST_CACHE", Path.home() / ".cache" / "vlmeval-steps-tests"))
    out = cache / f"tiny-llava-demo-{fingerprint('demo_model')}"
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out) + ".lock"):  # parallel test sessions train it once
        if not (out / "model.safetensors").exists():
            tmp = out.with_name(out.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            # the workflow's command, in a process of its own: its settings for identical weights on every
            # machine must be made before torch starts (vlmeval_steps/demo/tiny_model.py)
            subprocess.run([sys.executable, "-m", "vlmeval_steps", "demo-model", "--out", str(tmp)], check=True,
                           env=dict(os.environ, PYTHONPATH=str(REPO)))
            tmp.rename(out)
    return out


@pytest.fixture(scope="session")
def random_model(tmp_path_factory) -> Path:
    """The same architecture with random weights: fast, for plumbing tests."""
    from vlmeval_steps.demo.tiny_model import build

    out = tmp_path_factory.mktemp("models") / "tiny-llava-random"
    model, proc = build(str(out))
    model.save_pretrained(out)
    proc.save_pretrained(out)
    return out


class Workflow:
    """A copy of the workflow (Snakefile, rules, config, demo data, package) in a temp dir."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def config_path(self) -> Path:
        return self.root / "config" / "config.yaml"

    def config(self) -> dict:
        return yaml.safe_load(self.config_path.read_text())

    def write_config(self, cfg: dict) -> None:
        self.config_path.write_text(yaml.safe_dump(cfg, sort_keys=False))

    @property
    def data_root(self) -> Path:
        return self.root / "LMUData"

    @property
    def model_store(self) -> Path:
        return self.root.parent / "model-store"

    def env(self, extra: dict | None = None) -> dict:
        # the package copy in the temp dir shadows the installed one, so tests may edit its code;
        # the shared stores are this test's own, never the user's ~/LMUData or ~/.cache
        env = dict(os.environ, PYTHONPATH=str(self.root), HF_HUB_OFFLINE="1", LMUData=str(self.data_root),
                   VLMEVAL_STEPS_MODELS=str(self.model_store))
        env.update(extra or {})
        return env

    def snakemake(self, *args, check=True, env=None, timeout=900) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "snakemake", "--cores", "2", *args]
        proc = subprocess.run(cmd, cwd=self.root, env=self.env(env), capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
        return proc

    def planned(self, *args, env=None) -> dict[str, int]:
        """Jobs a dry run plans, by rule (the 'Job stats' table); {} when nothing is to be done."""
        proc = self.snakemake("-n", *args, env=env)
        out = proc.stdout + proc.stderr
        if "Nothing to be done" in out:
            return {}
        table = out.split("Job stats:", 1)[1]
        counts = {}
        for line in table.splitlines()[3:]:
            m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
            if not m:
                break
            counts[m[1]] = int(m[2])
        counts.pop("total", None)
        counts.pop("all", None)
        return counts


@pytest.fixture
def workflow(tmp_path, demo_model) -> Workflow:
    root = tmp_path / "wf"
    root.mkdir()
    for name in ("Snakefile", "workflow", "profiles", "config", "demo", "vlmeval_steps"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    for pycache in root.rglob("__pycache__"):
        shutil.rmtree(pycache)
    # the trained demo model stands in for the demo_model rule's output (saves 40 s per test)
    shutil.copytree(demo_model, root / "resources" / "models" / "tiny-llava-demo")
    wf = Workflow(root)
    seed_model_store(wf.model_store, demo_model)
    # one model unless a test asks for more: the shipped config's second demo model (for comparisons)
    # would double every test run's inference
    cfg = wf.config()
    cfg["models"] = ["TinyLLaVA-Demo"]
    wf.write_config(cfg)
    return wf


def seed_model_store(store: Path, demo_model: Path) -> None:
    """A model store holding the trained demo model where the demo_model rule looks for it, so a work
    dir without resources/models links it instead of training (as a user's ~/.cache store would)."""
    from vlmeval_steps.fingerprint import fingerprint

    store.mkdir(parents=True, exist_ok=True)
    entry = store / f"tiny-llava-demo-{fingerprint('demo_model')}"
    if not entry.exists():
        entry.symlink_to(demo_model, target_is_directory=True)


# ---- A real OpenAI-compatible server on loopback: `transformers serve` with the demo model ----

class ServedModel:
    """`transformers serve` serving the trained demo model on 127.0.0.1 (a real server, not a fake)."""

    def __init__(self, base_url: str, model: str, log_path: Path):
        self.base_url = base_url      # ".../v1"
        self.model = model            # the absolute folder path: requests must send exactly this
        self.log_path = log_path      # uvicorn's access log: one line per request

    def requests_served(self) -> int:
        """Chat-completion requests the server has answered so far (from its access log)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text.count("POST /v1/chat/completions")


#: the served model's context: the demo model's 512 positions are too few for the judges' prompts, which
#: `transformers serve` refuses outright since transformers 5.25 ("The prompt has 541 tokens, but the model takes
#: at most 512")
SERVED_CONTEXT = 4096


def _with_context(model_dir: Path, out: Path, positions: int) -> Path:
    """The model folder with a longer context: weights linked, config.json's max_position_embeddings raised.

    The demo model's positions are rotary (no weights), so its answers to prompts that fit 512 tokens are the same.
    """
    out.mkdir()
    for f in model_dir.iterdir():
        if f.name != "config.json":
            (out / f.name).symlink_to(f.resolve())
    cfg = json.loads((model_dir / "config.json").read_text())
    cfg["text_config"]["max_position_embeddings"] = positions
    (out / "config.json").write_text(json.dumps(cfg, indent=2))
    return out


@pytest.fixture(scope="session")
def openai_server(tmp_path_factory, demo_model) -> ServedModel:
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = tmp_path_factory.mktemp("served")
    served = _with_context(demo_model, tmp / "model", SERVED_CONTEXT)
    # GET /v1/models scans the hub cache; an empty one keeps the server from touching ~/.cache
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(tmp / "hf-cache"))
    (tmp / "hf-cache").mkdir()
    exe = shutil.which("transformers") or os.path.join(os.path.dirname(sys.executable), "transformers")
    log_path = tmp / "server.log"
    log_fh = open(log_path, "w")
    proc = subprocess.Popen([exe, "serve", str(served), "--host", "127.0.0.1", "--port", str(port),
                             "--device", "cpu"], env=env, stdout=log_fh, stderr=subprocess.STDOUT)
    deadline = time.time() + 180
    while True:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).status == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            log_fh.close()
            pytest.fail(f"transformers serve did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.25)
    yield ServedModel(f"http://127.0.0.1:{port}/v1", str(served), log_path)
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log_fh.close()
