"""The API adapter's requests, retries and failure handling.

Request building and the happy path run against the real `transformers serve` (openai_server);
failures a real server cannot produce on demand come from tests/failing_server.py."""
from __future__ import annotations

import base64
import io
import json
import time

import pytest
from PIL import Image

from tests.failing_server import FailingServer
from vlmeval_steps.cache import AnswerCache
from vlmeval_steps.errors import InputError
from vlmeval_steps.fileio import read_jsonl, write_jsonl
from vlmeval_steps.judge.matching import FAIL_MSG
from vlmeval_steps.models import build_model
from vlmeval_steps.models.api_base import APIConfigError
from vlmeval_steps.models.openai_api import OpenAIAPI, encode_image, normalise_base, resolve_key
from vlmeval_steps.steps import infer


def model(server, **kw):
    return OpenAIAPI(**{"model": "m", "api_base": server.base_url, "key": "sk-test", "retry": 4, "wait": 0.01, **kw})


def png(tmp_path, size=(64, 48), mode="RGB", name="img.png"):
    path = tmp_path / name
    Image.new(mode, size, "red" if mode == "RGB" else None).save(path)
    return str(path)


# ---- requests --------------------------------------------------------------------------------

def test_request_carries_upstreams_payload(tmp_path):
    with FailingServer() as srv:
        m = model(srv, temperature=0.3, max_tokens=7, img_size=32, img_detail="high", system_prompt="Be brief.",
                  top_p=0.5)
        answer, ok, info = m.generate([dict(type="text", value="Look:"), dict(type="image", value=png(tmp_path)),
                                       dict(type="text", value="What colour?")], dataset="X")
    assert (answer, ok) == ("B", True) and info["usage"]["total_tokens"] == 11
    body = srv.requests[0]["body"]
    assert body["model"] == "m" and body["temperature"] == 0.3 and body["max_tokens"] == 7 and body["top_p"] == 0.5
    assert "dataset" not in body and "n" not in body
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    parts = body["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "text"]  # the message's order is kept
    assert parts[1]["image_url"]["detail"] == "high"
    url = parts[1]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    # 64x48 -> thumbnail 32x24 -> min edge 24 < 100 -> upscaled by 100/24 (int truncation, as upstream)
    assert img.format == "JPEG" and img.size == (133, 100)
    assert srv.requests[0]["headers"]["authorization"] == "Bearer sk-test"


def test_text_only_and_reasoning_models(tmp_path):
    with FailingServer() as srv:
        model(srv).generate(["one", "two"])
        model(srv, model="o3-mini", max_tokens=9).generate("x")
    first, second = (r["body"] for r in srv.requests)
    # upstream sends a text-only message as one text part, not a plain string
    assert first["messages"] == [{"role": "user", "content": [{"type": "text", "text": "one\ntwo"}]}]
    assert second["max_completion_tokens"] == 9 and "temperature" not in second and "max_tokens" not in second


def test_image_encoding(tmp_path):
    big = encode_image(png(tmp_path, (800, 400)), img_size=-1)
    assert Image.open(io.BytesIO(base64.b64decode(big))).size == (800, 400)
    small = encode_image(png(tmp_path, (800, 400)), img_size=512)
    assert Image.open(io.BytesIO(base64.b64decode(small))).size == (512, 256)
    rgba = encode_image(png(tmp_path, (200, 200), mode="RGBA", name="a.png"))
    assert Image.open(io.BytesIO(base64.b64decode(rgba))).mode == "RGB"


def test_base_url_and_key_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_BASE", raising=False)
    assert normalise_base(None) == "https://api.openai.com/v1"
    assert normalise_base("http://h:8000/v1/chat/completions") == "http://h:8000/v1"
    assert normalise_base("http://h:8000/v1/") == "http://h:8000/v1"
    monkeypatch.setenv("OPENAI_API_BASE", "http://local:1/v1/chat/completions")
    assert normalise_base(None) == "http://local:1/v1"
    with pytest.raises(InputError, match="not an http"):
        normalise_base("localhost:8000")

    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("MY_KEY", "sk-mine")
    assert resolve_key(None, None, "http://x/v1", "m") == "sk-env"
    assert resolve_key("MY_KEY", None, "http://x/v1", "m") == "sk-mine"
    (tmp_path / "k").write_text("sk-file\n")
    assert resolve_key("MY_KEY", str(tmp_path / "k"), "http://x/v1", "m") == "sk-file"
    monkeypatch.delenv("OPENAI_API_KEY")
    assert resolve_key(None, None, "http://x/v1", "m") == "EMPTY"  # local servers need none
    with pytest.raises(InputError, match="OPENAI_API_KEY"):
        resolve_key(None, None, "https://api.openai.com/v1", "model 'gpt-4o'")
    with pytest.raises(InputError, match="key_file"):
        resolve_key(None, str(tmp_path / "missing"), "http://x/v1", "m")


def test_spec_keys_reach_the_adapter(monkeypatch):
    monkeypatch.setenv("SOME_KEY", "sk-from-spec")
    with FailingServer() as srv:
        m = build_model({"class": "GPT4V", "model": "m", "api_base": srv.base_url, "key_env": "SOME_KEY",
                         "retry": 2, "wait": 0.01, "timeout": 5, "nproc": 3})
        m.generate("hi")
    assert (m.retry, m.wait, m.timeout) == (2, 0.01, 5.0)
    assert srv.requests[0]["headers"]["authorization"] == "Bearer sk-from-spec"


def test_real_server_answers(openai_server, tmp_path):
    m = OpenAIAPI(model=openai_server.model, api_base=openai_server.base_url + "/chat/completions", max_tokens=8)
    answer, ok, info = m.generate([dict(type="image", value=png(tmp_path)), dict(type="text", value="Colour?")])
    assert ok and answer and info["usage"]["completion_tokens"] > 0
    # the server rejects an unknown model id with 400: not retried, recorded as failed
    answer, ok, info = OpenAIAPI(model="not-served", api_base=openai_server.base_url, retry=3, wait=5).generate("x")
    assert (answer, ok) == (FAIL_MSG, False) and info["status"] == 400 and "pinned" in info["error"]


# ---- retries ---------------------------------------------------------------------------------

@pytest.mark.parametrize("failure", ["500", "malformed", "reset", ("503", 0)])
def test_transient_failures_are_retried(failure):
    with FailingServer(script=[failure, failure]) as srv:
        answer, ok, _ = model(srv).generate("hi")
    assert (answer, ok) == ("B", True) and len(srv.requests) == 3


def test_retry_after_is_honoured():
    with FailingServer(script=[("429", 1)]) as srv:
        answer, ok, _ = model(srv).generate("hi")
    assert ok and len(srv.requests) == 2
    assert srv.requests[1]["time"] - srv.requests[0]["time"] >= 1.0


def test_bounded_retries_then_failure_not_a_wrong_answer():
    with FailingServer(default="500") as srv:
        answer, ok, info = model(srv, retry=3).generate("hi")
    assert (answer, ok) == (FAIL_MSG, False) and len(srv.requests) == 3 and "HTTP 500" in info["error"]


def test_bad_request_is_not_retried():
    with FailingServer(default="400") as srv:
        answer, ok, info = model(srv, retry=5).generate("hi")
    assert not ok and len(srv.requests) == 1 and info["retryable"] is False


@pytest.mark.parametrize("status", ["401", "404"])
def test_configuration_errors_stop_at_once(status):
    with FailingServer(default=status) as srv:
        with pytest.raises(APIConfigError, match=f"HTTP {status}"):
            model(srv, retry=5).generate("hi")
    assert len(srv.requests) == 1


def test_backoff_grows_with_jitter_and_respects_retry_after():
    m = OpenAIAPI(model="m", api_base="http://127.0.0.1:9/v1", wait=1)
    delays = [m.backoff(a) for a in range(4) for _ in range(20)]
    assert all(0.5 <= d <= 1.0 for d in delays[:20]) and all(4 <= d <= 8 for d in delays[60:])
    assert len(set(delays[:20])) > 1  # jittered
    assert m.backoff(0, {"retry_after": 7}) >= 7


def test_the_key_never_appears_in_an_error(monkeypatch):
    with FailingServer(default="echo_auth") as srv:
        answer, ok, info = model(srv, retry=2, key="sk-SECRET-123456").generate("hi")
    assert not ok and "sk-SECRET-123456" not in json.dumps(info) and "***" in info["error"]


# ---- the infer stage with failures ------------------------------------------------------------------

def _prompts(tmp_path, n):
    path = tmp_path / "prompts.jsonl"
    write_jsonl(path, [dict(index=i, digest=f"d{i}", message=[dict(type="text", value=f"question {i}")])
                       for i in range(n)])
    return path


def test_failed_samples_are_recorded_and_asked_again(tmp_path):
    prompts = _prompts(tmp_path, 6)
    with FailingServer(script=["ok", "ok", "400", "ok", "400", "ok"]) as srv:
        spec = {"class": "OpenAIAPI", "model": "m", "api_base": srv.base_url, "retry": 1, "nproc": 1}
        with pytest.raises(InputError, match="2 of 6 answers .* failed"):
            infer.run(prompts, spec, 0, 1, tmp_path / "cache", tmp_path / "out.jsonl", dataset="D")
        rows = list(read_jsonl(tmp_path / "out.jsonl"))
        assert [r["ok"] for r in rows].count(False) == 2
        assert all(r["prediction"] == FAIL_MSG and "HTTP 400" in r["error"] for r in rows if not r["ok"])
        with AnswerCache(tmp_path / "cache", writer="check") as cache:
            assert sum(not rec["ok"] for rec in cache.entries.values()) == 2
        # the next run asks only for the two that failed
        stats = infer.run(prompts, spec, 0, 1, tmp_path / "cache", tmp_path / "out.jsonl", dataset="D")
    assert len(srv.requests) == 8 and stats["asked"] == 2 and stats["failed"] == 0
    assert all(r["ok"] and r["prediction"] == "B" for r in read_jsonl(tmp_path / "out.jsonl"))
    usage = json.loads((tmp_path / "out.jsonl.usage.json").read_text())
    assert usage["usage_this_run"]["total_tokens"] == 22 and usage["usage_answers"]["total_tokens"] == 66


def test_keep_failed_keeps_them(tmp_path):
    prompts = _prompts(tmp_path, 3)
    with FailingServer(script=["400"]) as srv:
        spec = {"class": "OpenAIAPI", "model": "m", "api_base": srv.base_url, "retry": 1, "nproc": 1}
        stats = infer.run(prompts, spec, 0, 1, tmp_path / "c", tmp_path / "o.jsonl", dataset="D", keep_failed=True)
        assert stats["failed"] == 1
        stats = infer.run(prompts, spec, 0, 1, tmp_path / "c", tmp_path / "o.jsonl", dataset="D", keep_failed=True)
    assert stats["asked"] == 0 and len(srv.requests) == 3


def test_requests_run_concurrently(tmp_path):
    prompts = _prompts(tmp_path, 16)
    with FailingServer(latency=0.3) as srv:
        spec = {"class": "OpenAIAPI", "model": "m", "api_base": srv.base_url, "nproc": 8}
        t0 = time.time()
        infer.run(prompts, spec, 0, 1, tmp_path / "c", tmp_path / "o.jsonl", dataset="D")
        wall = time.time() - t0
    assert len(srv.requests) == 16 and wall < 16 * 0.3 / 3  # ideal: 2 x 0.3 s


def test_a_down_endpoint_stops_the_job(tmp_path):
    prompts = _prompts(tmp_path, 200)
    with FailingServer(default="500") as srv:
        spec = {"class": "OpenAIAPI", "model": "m", "api_base": srv.base_url, "nproc": 2, "retry": 2, "wait": 0.01}
        with pytest.raises(InputError, match="looks down"):
            infer.run(prompts, spec, 0, 1, tmp_path / "c", tmp_path / "o.jsonl", dataset="D")
    assert len(srv.requests) < 2 * 40  # stopped after ~10 samples, not all 200


def test_a_bad_key_stops_the_job(tmp_path):
    prompts = _prompts(tmp_path, 50)
    with FailingServer(default="401") as srv:
        spec = {"class": "OpenAIAPI", "model": "m", "api_base": srv.base_url, "nproc": 4}
        with pytest.raises(APIConfigError, match="refused the key"):
            infer.run(prompts, spec, 0, 1, tmp_path / "c", tmp_path / "o.jsonl", dataset="D")
    assert len(srv.requests) <= 8


def test_a_timeout_is_retried():
    with FailingServer(script=[("sleep", 2.0)]) as srv:
        answer, ok, _ = model(srv, timeout=0.5).generate("hi")
    assert (answer, ok) == ("B", True) and len(srv.requests) == 2


# ---- the judge stage with failures -------------------------------------------------------------------

def _judge_inputs(tmp_path, n=4):
    import pandas as pd

    from vlmeval_steps.datasets.registry import DatasetInfo

    preds = tmp_path / "preds.tsv"
    pd.DataFrame(dict(index=range(1, n + 1), question=["Which?"] * n, A=["cats here"] * n, B=["dogs here"] * n,
                      answer=["B"] * n, prediction=[f"it is hard to say ({i})" for i in range(n)])
                 ).to_csv(preds, sep="\t", index=False)
    return DatasetInfo(name="Judged", cls="ImageMCQDataset", url=""), preds


def test_a_failing_judge_stops_the_stage_and_a_rerun_asks_only_the_rest(tmp_path):
    from vlmeval_steps.steps import judge as judge_step

    info, preds = _judge_inputs(tmp_path)
    out, cache = tmp_path / "judged.jsonl", tmp_path / "jcache"
    with FailingServer(script=["ok", "ok", "500", "500"], default="ok", reply="B") as srv:
        spec = {"model": "judge-model", "api_base": srv.base_url, "nproc": 1, "retry": 2, "wait": 0.01}
        with pytest.raises(InputError, match="failed 1 request"):
            judge_step.run(info, preds, spec, out, cache_dir=cache)
        assert not out.exists() and len(srv.requests) == 4  # stopped asking after the failure
        judge_step.run(info, preds, spec, out, cache_dir=cache)
    assert len(srv.requests) == 6  # the failed row and the one never asked
    records = list(read_jsonl(out))
    assert [r["extracted"] for r in records] == ["B"] * 4 and {r["method"] for r in records} == {"judge"}
    usage = json.loads((tmp_path / "judged.jsonl.usage.json").read_text())
    assert usage["asked"] == 2 and usage["cached"] == 2 and usage["usage_answers"]["total_tokens"] == 44


def test_keep_failed_judge_writes_z(tmp_path):
    from vlmeval_steps.steps import judge as judge_step

    info, preds = _judge_inputs(tmp_path, n=2)
    with FailingServer(default="400") as srv:
        spec = {"model": "m", "api_base": srv.base_url, "nproc": 1, "keep_failed": True}
        judge_step.run(info, preds, spec, tmp_path / "j.jsonl")
    assert [r["extracted"] for r in read_jsonl(tmp_path / "j.jsonl")] == ["Z", "Z"]
    assert len(srv.requests) == 6  # three tries per row, none retried (400)
