"""A full disk (issue 28): a real ENOSPC from a small tmpfs as the work dir, the cache dir or the data root.

The stage fails with one line naming the file and "no space left on device"; every answer cache file
holds whole lines only; once space is freed (the tmpfs remounted larger) the rerun asks only what is
missing and writes exactly what an undisturbed run writes. Mounting needs root: elsewhere these skip.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.failing_server import FailingServer
from vlmeval_steps.cache import AnswerCache
from vlmeval_steps.errors import DiskFullError
from vlmeval_steps.fileio import md5_of, write_jsonl

REPO = Path(__file__).resolve().parent.parent


class SmallDisk:
    """A tmpfs of `kib` KiB mounted on `path`; `grow` remounts it larger (space freed, files kept)."""

    def __init__(self, path: Path, kib: int):
        self.path = path
        path.mkdir()
        if os.geteuid() != 0:
            pytest.skip("mounting a small tmpfs needs root")
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(path)],
                              capture_output=True, text=True)
        if proc.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")

    def grow(self, kib: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={kib}k", str(self.path)], check=True)

    def umount(self) -> None:
        if subprocess.run(["umount", str(self.path)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    disks = []

    def mount(kib: int, name: str = "disk") -> SmallDisk:
        disks.append(SmallDisk(tmp_path / name, kib))
        return disks[-1]

    yield mount
    for d in disks:
        d.umount()


def whole_lines(folder: Path) -> int:
    """Records in every cache file of `folder`; fails on a line that does not parse or lacks its newline."""
    n = 0
    for path in folder.rglob("*.jsonl"):
        data = path.read_bytes()
        assert not data or data.endswith(b"\n"), f"{path} ends in a torn line"
        for line in data.splitlines():
            json.loads(line)
            n += 1
    return n


class EchoServer(FailingServer):
    """Each question gets its own long answer, so the cache fills the disk and results can be compared."""

    def completion(self, body):
        reply = super().completion(body)
        text = json.dumps(body["messages"], sort_keys=True)
        reply["choices"][0]["message"]["content"] = hashlib.sha256(text.encode()).hexdigest() * 8  # 512 chars
        return reply


def _prompts(path: Path, n: int) -> Path:
    write_jsonl(path, [dict(index=i, digest=f"d{i}", message=[dict(type="text", value=f"question {i}")])
                       for i in range(n)])
    return path


def _infer(prompts: Path, base: str, work: Path) -> subprocess.CompletedProcess:
    spec = {"class": "OpenAIAPI", "model": "m", "api_base": base, "nproc": 8, "retry": 2, "wait": 0.01}
    return subprocess.run(
        [sys.executable, "-m", "vlmeval_steps", "infer", "--prompts", str(prompts), "--model", "M",
         "--model-spec", json.dumps(spec), "--dataset", "D", "--cache-dir", str(work / "cache" / "M" / "D"),
         "--out", str(work / "predictions" / "shard-0-of-1.jsonl"), "--log", str(work / "logs" / "infer.log")],
        capture_output=True, text=True, cwd=REPO, env=dict(os.environ, TQDM_DISABLE="1"), timeout=120)


def _one_error_line(stderr: str, *needles: str) -> str:
    errors = [line for line in stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, stderr[-3000:]
    assert "Traceback" not in stderr and "Logging error" not in stderr, stderr[-3000:]
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def test_infer_on_a_full_work_dir_resumes_to_the_undisturbed_result(small_disk, tmp_path):
    n = 200  # ~700 bytes per cached answer: 140 KB, more than the 48 KiB disk
    prompts = _prompts(tmp_path / "prompts.jsonl", n)
    disk = small_disk(48)
    with EchoServer() as srv:
        first = _infer(prompts, srv.base_url, disk.path)
        assert first.returncode == 3, first.stderr[-3000:]
        line = _one_error_line(first.stderr, "no space left on device", str(disk.path / "cache/M/D/shard-0-of-1.jsonl"))
        assert "free" in line and "run again" in line
        cached = whole_lines(disk.path / "cache")
        sent = len(srv.requests)
        assert 0 < cached < n and sent - cached <= 8 * 2  # at most what was in flight (and its batch) is lost
        disk.grow(1024)
        second = _infer(prompts, srv.base_url, disk.path)
        assert second.returncode == 0, second.stderr[-3000:]
        assert len(srv.requests) - sent == n - cached  # only what had no answer
        undisturbed = _infer(prompts, srv.base_url, tmp_path / "undisturbed")
        assert undisturbed.returncode == 0
    assert whole_lines(disk.path / "cache") == n
    ours = (disk.path / "predictions" / "shard-0-of-1.jsonl").read_bytes()
    assert ours == (tmp_path / "undisturbed" / "predictions" / "shard-0-of-1.jsonl").read_bytes()


@pytest.mark.parametrize("freed_before_close", [False, True])
def test_a_failed_append_takes_its_part_back_and_a_buffered_torn_line_is_dropped(small_disk, freed_before_close):
    disk = small_disk(16)
    record = lambda i: dict(key=f"k{i}", index=i, prediction="x" * 1500, ok=True)  # noqa: E731
    with AnswerCache(disk.path, "w") as cache:
        with pytest.raises(DiskFullError, match=r"w\.jsonl: no space left on device"):
            for i in range(100):
                cache.put(record(i))
        # a short write reached the disk before ENOSPC; it was cut off at once, not at the next open
        assert (disk.path / "w.jsonl").read_bytes().endswith(b"\n")
        kept = whole_lines(disk.path)
    assert 0 < kept < 100
    # Python's buffered writer (what the cache used before; a line shorter than its buffer): flush() writes what
    # fits, raises ENOSPC and keeps the rest in the buffer, which close() flushes again
    size = (disk.path / "w.jsonl").stat().st_size
    fh = open(disk.path / "w.jsonl", "ab", buffering=1 << 16)
    fh.write(b'{"index": 999, "key": "torn", "ok": true, "prediction": "' + b"y" * 3000 + b'"}\n')
    with pytest.raises(OSError):
        fh.flush()
    torn = (disk.path / "w.jsonl").read_bytes()
    assert len(torn) > size and not torn.endswith(b"\n")  # half a line on disk
    if freed_before_close:
        disk.grow(1024)
        fh.close()  # the rest of the line follows its first part: a whole line
    else:
        with pytest.raises(OSError):
            fh.close()
        disk.grow(1024)
    with AnswerCache(disk.path, "w") as cache:  # reopening cuts a torn line off and appends after it
        assert len(cache.entries) == kept + freed_before_close
        assert (cache.get("torn") is not None) == freed_before_close
        cache.put(record(1000))
    assert whole_lines(disk.path) == kept + freed_before_close + 1


def _judge_inputs(tmp_path: Path, n: int):
    import pandas as pd

    from vlmeval_steps.datasets.registry import DatasetInfo

    preds = tmp_path / "preds.tsv"
    pd.DataFrame(dict(index=range(1, n + 1), question=["Which?"] * n, A=["cats"] * n, B=["dogs"] * n,
                      answer=["B"] * n, prediction=[f"hard to say ({i})" for i in range(n)])
                 ).to_csv(preds, sep="\t", index=False)
    return DatasetInfo(name="Judged", cls="ImageMCQDataset", url=""), preds


def test_the_judge_cache_on_a_full_disk(small_disk, tmp_path):
    from vlmeval_steps.steps import judge as judge_step

    n = 120
    info, preds = _judge_inputs(tmp_path, n)
    disk = small_disk(16)
    cache = disk.path / "judge"
    with FailingServer(reply="B") as srv:
        spec = {"model": "judge-model", "api_base": srv.base_url, "nproc": 4, "retry": 1}
        with pytest.raises(DiskFullError, match=r"judge/.*\.jsonl: no space left on device"):
            judge_step.run(info, preds, spec, tmp_path / "out" / "judged.jsonl", cache_dir=cache)
        cached, sent = whole_lines(cache), len(srv.requests)
        assert 0 < cached < n and sent - cached <= 4  # nothing asked after the failure but what was in flight
        disk.grow(1024)
        judge_step.run(info, preds, spec, tmp_path / "out" / "judged.jsonl", cache_dir=cache)
        assert len(srv.requests) - sent == n - cached
        judge_step.run(info, preds, spec, tmp_path / "undisturbed" / "judged.jsonl", cache_dir=tmp_path / "c2")
    assert whole_lines(cache) == n
    assert (tmp_path / "out/judged.jsonl").read_bytes() == (tmp_path / "undisturbed/judged.jsonl").read_bytes()


class RangeServer:
    """Serves one payload over http with `Range: bytes=N-` support; records where each GET started."""

    def __init__(self, payload: bytes):
        self.starts: list[int] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                start = int(self.headers.get("Range", "bytes=0-")[len("bytes="):].rstrip("-") or 0)
                owner.starts.append(start)
                body = payload[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/Big.tsv"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def _fetch(url: str, md5: str, root: Path, link: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vlmeval_steps", "fetch", "--dataset", "Big", "--url", url,
                           "--md5", md5, "--data-root", str(root), "--link", str(link)],
                          capture_output=True, text=True, cwd=REPO, env=dict(os.environ, TQDM_DISABLE="1"),
                          timeout=120)


@pytest.mark.parametrize("source", ["http", "file"])
def test_a_download_into_a_full_data_root(small_disk, tmp_path, source):
    payload = b"index\tquestion\n" + b"".join(b"%d\t%s\n" % (i, b"q" * 100) for i in range(2000))  # 215 KB
    (tmp_path / "Big.tsv").write_bytes(payload)
    md5 = md5_of(tmp_path / "Big.tsv")
    disk = small_disk(64)
    root = disk.path
    link = tmp_path / "wd" / "resources" / "data" / "Big.tsv"
    server = RangeServer(payload) if source == "http" else None
    url = server.url if server else str(tmp_path / "Big.tsv")
    try:
        first = _fetch(url, md5, root, link)
        assert first.returncode == 3, first.stderr[-3000:]
        _one_error_line(first.stderr, "no space left on device", str(root / ".download" / "Big.tsv.part"))
        part = root / ".download" / "Big.tsv.part"
        # http keeps what arrived, to resume from; a copy gives its space back (it starts over anyway)
        assert part.exists() == (source == "http") and not (root / "Big.tsv").exists()
        kept = part.stat().st_size if part.exists() else 0
        disk.grow(1024)
        second = _fetch(url, md5, root, link)
        assert second.returncode == 0, second.stderr[-3000:]
    finally:
        if server:
            server.httpd.shutdown()
            server.httpd.server_close()
    assert md5_of(link) == md5 and link.is_symlink()
    if server:
        assert kept > 0 and server.starts == [0, kept]  # the rerun asked only for the rest
