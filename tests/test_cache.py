"""The answer cache: durable appends, torn tails, success never overwritten, one writer per file."""
from __future__ import annotations

import multiprocessing
import os

import pytest

from vlmeval_steps.cache import AnswerCache, answer_key, answer_keys, count_answers
from vlmeval_steps.errors import InputError


def test_answers_survive_reopen_and_other_writers_are_read(tmp_path):
    with AnswerCache(tmp_path, "shard-0-of-2") as c0:
        c0.put(dict(key="k1", index=1, prediction="A", ok=True))
    with AnswerCache(tmp_path, "shard-1-of-2") as c1:
        c1.put(dict(key="k2", index=2, prediction="B", ok=True))
    # a new shard layout reads both old writers' answers
    with AnswerCache(tmp_path, "shard-0-of-3") as c:
        assert c.get("k1")["prediction"] == "A" and c.get("k2")["prediction"] == "B"


def test_torn_last_line_is_dropped_and_appending_continues(tmp_path):
    with AnswerCache(tmp_path, "w") as c:
        c.put(dict(key="k1", index=1, prediction="A", ok=True))
    with open(tmp_path / "w.jsonl", "ab") as fh:
        fh.write(b'{"key": "k2", "index": 2, "predic')  # a crash mid-write
    with AnswerCache(tmp_path, "w") as c:
        assert c.get("k2") is None and c.get("k1")
        c.put(dict(key="k3", index=3, prediction="C", ok=True))
    lines = (tmp_path / "w.jsonl").read_text().splitlines()
    assert len(lines) == 2 and '"k3"' in lines[1]


def test_failure_is_retried_but_never_replaces_a_success(tmp_path):
    with AnswerCache(tmp_path, "a") as c:
        c.put(dict(key="k", index=1, prediction="Failed to obtain answer via API.", ok=False))
        assert not c.answered("k") and c.answered("k", keep_failed=True)
        c.put(dict(key="k", index=1, prediction="A", ok=True))
    with AnswerCache(tmp_path, "b") as c:
        c.put(dict(key="k", index=1, prediction="Failed to obtain answer via API.", ok=False))
    with AnswerCache(tmp_path, "c") as c:
        assert c.get("k")["prediction"] == "A"


def _hold(path, ready, release):
    with AnswerCache(path, "same"):
        ready.set()
        release.wait(10)


def test_a_second_writer_on_the_same_file_is_refused(tmp_path):
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold, args=(tmp_path, ready, release))
    p.start()
    try:
        assert ready.wait(10)
        with pytest.raises(InputError, match="being written by another process"):
            AnswerCache(tmp_path, "same")
    finally:
        release.set()
        p.join(10)
    AnswerCache(tmp_path, "same").close()  # free again once the holder is gone


def test_key_depends_on_settings_and_message():
    assert answer_key({"t": 0}, "m") == answer_key({"t": 0}, "m")
    assert answer_key({"t": 0}, "m") != answer_key({"t": 1}, "m")
    assert answer_key({"t": 0}, "m") != answer_key({"t": 0}, "n")


def test_appends_are_fsynced(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    with AnswerCache(tmp_path, "w") as c:
        c.put(dict(key="k", index=1, prediction="A", ok=True))
    assert synced


def test_keys_in_bulk_equal_single_keys():
    settings = {"class": "OpenAIAPI", "model": "m", "temperature": 0, "extra": {"b": 1, "a": [1, "é"]}}
    digests = ["d1", "é-2", 'quote"3']
    assert answer_keys(settings, digests) == [answer_key(settings, d) for d in digests]


def test_count_answers_counts_each_successful_question_once(tmp_path):
    # what an interrupted `vlmeval-steps run` reports as kept: successes, per model, each key once
    with AnswerCache(tmp_path / "M" / "D1", "shard-0-of-2") as c:
        c.put_many([dict(key="k1", index=1, prediction="A", ok=True), dict(key="k2", index=2, prediction="", ok=False)])
    with AnswerCache(tmp_path / "M" / "D2", "shard-0-of-1") as c:
        c.put(dict(key="k1", index=1, prediction="A", ok=True))  # the same question from another benchmark
    with AnswerCache(tmp_path / "N" / "D1", "shard-0-of-1") as c:
        c.put(dict(key="k1", index=1, prediction="B", ok=True))  # another model's answer
    with open(tmp_path / "N" / "D1" / "shard-0-of-1.jsonl", "a") as fh:
        fh.write('{"key": "k3", "ok": tr')  # torn: in flight when the run was killed
    with AnswerCache(tmp_path / "judge" / "J", "judge") as c:
        c.put(dict(key="j1", ok=True))
    assert count_answers(tmp_path) == 2
    assert count_answers(tmp_path / "missing") == 0


def test_ctrl_c_during_an_append_keeps_whole_records_and_leaves_no_half_line(tmp_path, monkeypatch):
    rec = lambda k: dict(key=k, index=1, prediction="A" * 100, ok=True)  # noqa: E731
    real_write = os.write

    def whole_then_ctrl_c(fd, data):  # Ctrl-C lands as os.write returns, before the cache sees its count
        real_write(fd, data)
        raise KeyboardInterrupt

    def short_then_ctrl_c(fd, data):  # Ctrl-C after a short write (part of the records reached the file)
        real_write(fd, bytes(data[:10]))
        raise KeyboardInterrupt

    with AnswerCache(tmp_path, "w") as c:
        c.put(rec("k1"))
        monkeypatch.setattr(os, "write", whole_then_ctrl_c)
        with pytest.raises(KeyboardInterrupt):
            c.put(rec("k2"))  # whole in the file: kept
        monkeypatch.setattr(os, "write", short_then_ctrl_c)
        with pytest.raises(KeyboardInterrupt):
            c.put(rec("k3"))  # half a line: taken back at once
        monkeypatch.undo()
        assert (tmp_path / "w.jsonl").read_bytes().endswith(b"\n")
    with AnswerCache(tmp_path, "other") as c:
        assert set(c.entries) == {"k1", "k2"}
