"""File systems without file locks (issue 28): flock raising ENOLCK, EOPNOTSUPP or ENOSYS, as it does on
NFS without its lock service (NFSv3 without lockd/statd) or on Lustre mounted without `-o flock`.

Such a file system cannot be made here: tmpfs, ext4 and overlayfs all support flock, and there is no NFS
server or Lustre client on the test machines. So fcntl.flock is replaced with one that fails the way those
mounts fail; everything else (files, renames, appends) is real. Each user of flock either goes on safely
(the answer cache writes a file of its own, the stores write under unique names and rename, the run lock
leaves Snakemake's lock check in charge) or stops with a clear error (GPU claims): never silent corruption.
"""
from __future__ import annotations

import errno
import fcntl
import json
import logging
import os

import pytest

from tests.failing_server import FailingServer
from vlmeval_steps import store
from vlmeval_steps.cache import AnswerCache
from vlmeval_steps.errors import InputError
from vlmeval_steps.fileio import md5_of, read_jsonl, write_jsonl


@pytest.fixture(params=[errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS])
def no_locks(request, monkeypatch):
    def flock(fd, operation):
        raise OSError(request.param, os.strerror(request.param))

    monkeypatch.setattr(fcntl, "flock", flock)
    return request.param


def whole_records(folder) -> dict:
    found = {}
    for path in folder.glob("*.jsonl"):
        data = path.read_bytes()
        assert not data or data.endswith(b"\n"), path
        for line in data.splitlines():
            rec = json.loads(line)
            found[rec["key"]] = rec
    return found


def test_the_answer_cache_writes_a_file_no_other_process_writes(tmp_path, no_locks, caplog):
    caplog.set_level(logging.WARNING)
    # two runs of the same shard at once: with flock they could not both write; without it each gets its own file
    with AnswerCache(tmp_path, "shard-0-of-1") as a, AnswerCache(tmp_path, "shard-0-of-1") as b:
        assert a.path != b.path and a.path.name.startswith("shard-0-of-1.")
        a.put(dict(key="k1", index=1, prediction="A", ok=True))
        b.put(dict(key="k2", index=2, prediction="B", ok=True))
    assert "no file locks" in caplog.text
    with AnswerCache(tmp_path, "reader") as c:  # every writer's answers are read
        assert c.get("k1")["prediction"] == "A" and c.get("k2")["prediction"] == "B"
    assert set(whole_records(tmp_path)) == {"k1", "k2"}


def test_infer_without_locks_resumes_from_its_earlier_files(tmp_path, no_locks):
    from vlmeval_steps.steps import infer

    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, [dict(index=i, digest=f"d{i}", message=[dict(type="text", value=f"q {i}")]) for i in range(6)])
    with FailingServer(script=["ok", "ok", "400"], default="ok") as srv:
        spec = {"class": "OpenAIAPI", "model": "m", "api_base": srv.base_url, "retry": 1, "nproc": 1}
        with pytest.raises(InputError, match="1 of 6 answers"):
            infer.run(prompts, spec, 0, 1, tmp_path / "cache", tmp_path / "out.jsonl", dataset="D")
        stats = infer.run(prompts, spec, 0, 1, tmp_path / "cache", tmp_path / "out.jsonl", dataset="D")
    assert stats["asked"] == 1 and len(srv.requests) == 7  # only the failed one asked again
    assert all(r["ok"] for r in read_jsonl(tmp_path / "out.jsonl"))


def test_the_data_root_and_model_store_write_under_unique_names(tmp_path, no_locks):
    from vlmeval_steps.steps import fetch

    src = tmp_path / "src.tsv"
    src.write_text("index\tquestion\n1\tq\n")
    root, link = tmp_path / "LMUData", tmp_path / "wd" / "resources" / "data" / "D.tsv"
    fetch.run("D", str(src), md5_of(src), root, link)
    assert md5_of(link) == md5_of(src)
    built = store.build_once(tmp_path / "models" / "m", lambda tmp: (tmp.mkdir(), (tmp / "w").write_text("x")), "m")
    assert built and (tmp_path / "models" / "m" / "w").read_text() == "x"
    # nothing half-written left behind, and no fixed-name part file that two runs could share
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".tmp", ".part"))]


def test_the_run_lock_leaves_snakemakes_lock_alone(tmp_path, no_locks, caplog):
    from vlmeval_steps.runlock import hold_run_lock

    (tmp_path / ".snakemake" / "locks").mkdir(parents=True)
    lock = tmp_path / ".snakemake" / "locks" / "0.input.lock"
    lock.write_text("")
    assert hold_run_lock(tmp_path / ".snakemake") is None
    assert lock.exists()  # it cannot tell that no other run is alive, so it removes nothing
    assert "no file locks" in caplog.text and "--unlock" in caplog.text


def test_gpu_claims_stop_with_a_clear_error(tmp_path, no_locks):
    from vlmeval_steps.gpu import claim_gpus

    with pytest.raises(InputError, match=r"GPU claims need file locks.*VLMEVAL_STEPS_GPU_LOCKS"):
        with claim_gpus(1, env={"VLMEVAL_STEPS_GPUS": "0,1"}, lock_dir=tmp_path):
            pass
