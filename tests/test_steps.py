"""download and verify on real files and a real HTTP server on loopback."""
from __future__ import annotations

import http.server
import socket
import threading
from pathlib import Path

import pytest

from vlmeval_steps.errors import InputError
from vlmeval_steps.fileio import md5_of
from vlmeval_steps.steps import download, verify


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """The stdlib file server plus HTTP Range requests (resumable downloads)."""

    def log_message(self, *args):
        pass

    def send_head(self):
        rng = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not rng or not path.is_file():
            return super().send_head()
        start = int(rng.split("=")[1].split("-")[0])
        data = path.read_bytes()
        if start >= len(data):
            self.send_error(416)
            return None
        self.send_response(206)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        import io

        return io.BytesIO(data[start:])


@pytest.fixture
def http_root(tmp_path):
    root = tmp_path / "srv"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             lambda *a: RangeHandler(*a, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def payload(tmp_path):
    src = tmp_path / "src.tsv"
    src.write_bytes(b"index\tquestion\n" + b"".join(b"%d\tq%d\n" % (i, i) for i in range(50000)))
    return src


def test_local_path_and_file_url(tmp_path, payload):
    download.run(str(payload), tmp_path / "a.tsv")
    download.run(payload.as_uri(), tmp_path / "b.tsv")
    assert md5_of(tmp_path / "a.tsv") == md5_of(tmp_path / "b.tsv") == md5_of(payload)


def test_http_download_resumes_a_partial_file(tmp_path, payload, http_root):
    root, base = http_root
    (root / "d.tsv").write_bytes(payload.read_bytes())
    out = tmp_path / "out.tsv"
    (tmp_path / "out.tsv.part").write_bytes(payload.read_bytes()[:1000])  # an interrupted download
    download.run(f"{base}/d.tsv", out)
    assert out.read_bytes() == payload.read_bytes()
    assert not (tmp_path / "out.tsv.part").exists()


def test_unreachable_url_says_what_to_do(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(InputError, match="cannot download .*put the TSV in the data root"):
        download.run(f"http://127.0.0.1:{port}/x.tsv", tmp_path / "x.tsv", timeout=5)
    with pytest.raises(InputError, match="does not exist"):
        download.run(str(tmp_path / "missing.tsv"), tmp_path / "y.tsv")


def test_a_tsv_already_in_the_data_root_is_used_or_kept_aside(tmp_path, payload):
    root = tmp_path / "LMUData"
    root.mkdir()
    existing = root / "D.tsv"
    existing.write_bytes(payload.read_bytes())
    out = root / ".download" / "D.tsv"
    download.run("http://127.0.0.1:9/never-asked.tsv", out, existing=existing, md5=md5_of(payload))
    assert out.read_bytes() == payload.read_bytes() and not existing.exists()

    existing.write_bytes(b"an older version\n")
    old_md5 = md5_of(existing)
    download.run(str(payload), out, existing=existing, md5=md5_of(payload))
    assert (root / ".stale" / f"D.{old_md5}.tsv").read_bytes() == b"an older version\n"  # never deleted


def test_verify_renames_on_match_and_keeps_a_mismatch_aside(tmp_path, payload):
    src = tmp_path / ".download" / "D.tsv"
    src.parent.mkdir()
    src.write_bytes(payload.read_bytes())
    verify.run(src, tmp_path / "D.tsv", md5_of(payload))
    assert (tmp_path / "D.tsv").exists() and not src.exists()

    src.write_bytes(b"corrupt")
    actual = md5_of(src)
    with pytest.raises(InputError) as exc:
        verify.run(src, tmp_path / "E.tsv", "0" * 32)
    msg = str(exc.value)
    assert "E.tsv: md5 mismatch" in msg and "0" * 32 in msg and actual in msg
    assert (tmp_path / ".download" / "rejected" / f"E.{actual}.tsv").read_bytes() == b"corrupt"
    assert not (tmp_path / "E.tsv").exists()
