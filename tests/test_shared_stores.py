"""One data root and one model store shared by every work dir and every concurrent run (issues 16, 17).

Runs that need the same benchmark at once download it once (the others wait and reuse it), and
a new work dir neither downloads it again nor rebuilds the demo model. Tests use their own
temporary stores (the `workflow` fixture), never the user's ~/LMUData or ~/.cache.
"""
from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from vlmeval_steps import store
from vlmeval_steps.fileio import md5_of
from vlmeval_steps.fingerprint import fingerprint

REPO = Path(__file__).resolve().parent.parent
DEMO_ENTRY = f"tiny-llava-demo-{fingerprint('demo_model')}"  # where the demo_model rule keeps it in the store


class SlowFileServer:
    """Serves one file over http on loopback, slowly (so concurrent downloads overlap), counting GETs."""

    def __init__(self, payload: bytes, seconds: float = 3.0):
        self.gets = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.gets += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                step = max(1, len(payload) // 20)
                for i in range(0, len(payload), step):
                    self.wfile.write(payload[i:i + step])
                    self.wfile.flush()
                    time.sleep(seconds / 20)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def slow_server():
    servers = []

    def start(payload: bytes, seconds: float = 3.0) -> SlowFileServer:
        servers.append(SlowFileServer(payload, seconds))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def leftovers(root: Path) -> list[str]:
    """Temporary or partial files left in a store."""
    return [str(p) for p in root.rglob("*") if p.name.endswith((".tmp", ".part"))]


def test_concurrent_fetches_download_once_and_all_link_the_same_file(tmp_path, slow_server):
    payload = (REPO / "demo" / "DemoShapes.tsv").read_bytes()
    server = slow_server(payload)
    root = tmp_path / "LMUData"
    procs = [subprocess.Popen([sys.executable, "-m", "vlmeval_steps", "fetch", "--dataset", "Shared",
                               "--url", f"{server.url}/Shared.tsv", "--md5", md5_of(REPO / "demo/DemoShapes.tsv"),
                               "--data-root", str(root), "--link", str(tmp_path / f"w{i}/resources/data/Shared.tsv")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(3)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert server.gets == 1  # one run downloaded; the others waited and reused it
    assert sum("waiting for another run" in out for out in outs) >= 1
    assert (root / "Shared.tsv").read_bytes() == payload
    for i in range(3):
        link = tmp_path / f"w{i}/resources/data/Shared.tsv"
        assert link.is_symlink() and link.resolve() == (root / "Shared.tsv").resolve()
    assert leftovers(root) == []


def _build_slowly(tmp: Path, calls: Path) -> None:
    with open(calls, "a") as fh:
        fh.write(f"{os.getpid()}\n")
    tmp.mkdir()
    for i in range(5):
        (tmp / f"part{i}").write_text(str(i))
        time.sleep(0.2)


def _build_in_store(entry: str, calls: str) -> bool:
    return store.build_once(Path(entry), lambda tmp: _build_slowly(tmp, Path(calls)), "a test model")


def test_a_model_is_built_once_by_concurrent_runs(tmp_path):
    entry, calls = tmp_path / "models" / "m-1", tmp_path / "calls"
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        built = pool.starmap(_build_in_store, [(str(entry), str(calls))] * 3)
    assert sorted(built) == [False, False, True]
    assert len(calls.read_text().split()) == 1
    assert sorted(p.name for p in entry.iterdir()) == [f"part{i}" for i in range(5)]
    assert leftovers(tmp_path / "models") == []


def _run_cmd(workflow, work_dir: Path, env=None):
    return subprocess.Popen([sys.executable, "-m", "vlmeval_steps", "run", "--data", "Shared", "--model",
                             "TinyLLaVA-Demo", "--limit", "4", "--work-dir", str(work_dir), "--cores", "1"],
                            cwd=work_dir.parent, env=workflow.env(env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_two_work_dirs_at_once_share_one_data_root_and_model_store(workflow, tmp_path, slow_server):
    """Two `vlmeval-steps run`s in two work dirs, one data root, the same benchmark, at the same time:
    both finish with identical results, the benchmark is downloaded once and the demo model is not
    built again; a third work dir later downloads and builds nothing."""
    payload = (workflow.root / "demo" / "DemoShapes.tsv").read_bytes()
    server = slow_server(payload)
    cfg = workflow.config()
    cfg["custom_datasets"]["Shared"] = {"url": f"{server.url}/Shared.tsv", "md5": md5_of(workflow.root / "demo/DemoShapes.tsv"),
                                        "type": "MCQ"}
    dirs = [tmp_path / name for name in ("a", "b", "c")]
    for d in dirs:  # each work dir's own config (what `vlmeval-steps run` reads), no model copied in
        (d / "config").mkdir(parents=True)
        (d / "config" / "config.yaml").write_text(yaml.safe_dump(cfg))
    shared_root = workflow.data_root

    runs = [_run_cmd(workflow, d) for d in dirs[:2]]
    outs = [p.communicate(timeout=1200)[0] for p in runs]
    assert [p.returncode for p in runs] == [0, 0], "\n\n".join(o[-4000:] for o in outs)
    acc = "results/TinyLLaVA-Demo/Shared_limit4_acc.csv"
    preds = "results/TinyLLaVA-Demo/Shared_limit4.tsv"
    a, b = dirs[0], dirs[1]
    assert (a / acc).read_text() == (b / acc).read_text()
    assert (a / preds).read_text() == (b / preds).read_text()
    assert server.gets == 1
    assert md5_of(shared_root / "Shared.tsv") == md5_of(workflow.root / "demo/DemoShapes.tsv")
    assert leftovers(shared_root) == [] and leftovers(workflow.model_store) == []
    for d in (a, b):
        assert (d / "resources/data/Shared.tsv").resolve() == (shared_root / "Shared.tsv").resolve()
        model = d / "resources/models/tiny-llava-demo"
        assert model.is_symlink() and model.resolve() == (workflow.model_store / DEMO_ENTRY).resolve()
        assert "reused, not built again" in (d / "logs/demo_model.log").read_text()

    # a third work dir, later: links the benchmark and the model, downloads and builds nothing
    out = _run_cmd(workflow, dirs[2]).communicate(timeout=1200)[0]
    assert (dirs[2] / acc).read_text() == (a / acc).read_text(), out[-4000:]
    assert server.gets == 1
    assert "no download" in (dirs[2] / "logs/download/Shared.log").read_text()
    assert "reused, not built again" in (dirs[2] / "logs/demo_model.log").read_text()
