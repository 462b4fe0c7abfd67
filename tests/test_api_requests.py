"""The API client's request bytes are upstream's, each image is encoded once, and the thin HTTP
path handles what servers do (chunked replies, closed keep-alives, proxies from the environment)."""
from __future__ import annotations

import base64
import io
import json
import os

import pytest
from PIL import Image

from tests.failing_server import FailingServer
from vlmeval_steps.fileio import write_jsonl
from vlmeval_steps.models import image_payload
from vlmeval_steps.models.image_payload import EncodedImages, encode_image
from vlmeval_steps.models.openai_api import OpenAIAPI
from vlmeval_steps.steps import infer


@pytest.fixture(autouse=True)
def image_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VLMEVAL_STEPS_IMAGE_CACHE", str(tmp_path / "encoded"))
    return tmp_path / "encoded"


# ---- upstream, transcribed: vlmeval/smp/vlm.py encode_image_to_base64 and vlmeval/api/gpt.py
# ---- OpenAIWrapper.prepare_itlist / prepare_inputs / generate_inner at e8e78f05 ---------------

def upstream_b64(path, target_size=-1, max_file_size=1e9):
    img = Image.open(path)
    if img.mode in ("RGBA", "P", "LA"):
        img = img.convert("RGB")
    if target_size > 0:
        img.thumbnail((target_size, target_size))
    buf = io.BytesIO()
    img.save(buf, format="JPEG")
    ret = base64.b64encode(buf.getvalue()).decode("utf-8")
    max_size = int(os.environ.get("VLMEVAL_MAX_IMAGE_SIZE", max_file_size))
    min_edge = int(os.environ.get("VLMEVAL_MIN_IMAGE_EDGE", 1e2))

    def resized(factor):
        w, h = img.size
        out = io.BytesIO()
        img.resize((int(w * factor), int(h * factor))).save(out, format="JPEG")
        return base64.b64encode(out.getvalue()).decode("utf-8")

    if min(img.size) < min_edge:
        ret = resized(min_edge / min(img.size))
    factor = min(1, (max_size / len(ret)) ** 0.5)
    while len(ret) > max_size:
        ret = resized(factor)
        factor *= min(1, (max_size / len(ret)) ** 0.5)
    return ret


def upstream_body(inputs, model="m", api_base="http://x/v1/chat/completions", system_prompt=None, temperature=0,
                  max_tokens=2048, img_size=-1, img_detail="low", **kwargs) -> bytes:
    if any(x["type"] == "image" for x in inputs):
        content = []
        for msg in inputs:
            if msg["type"] == "text" and msg["value"]:
                content.append(dict(type="text", text=msg["value"]))
            elif msg["type"] == "image":
                b64 = upstream_b64(msg["value"], target_size=img_size if img_size > 0 else -1)
                content.append(dict(type="image_url", image_url=dict(url=f"data:image/jpeg;base64,{b64}",
                                                                     detail=img_detail)))
    else:
        content = [dict(type="text", text="\n".join(x["value"] for x in inputs))]
    messages = [dict(role="system", content=system_prompt)] if system_prompt is not None else []
    messages.append(dict(role="user", content=content))
    payload = dict(model=model, messages=messages, n=1, temperature=temperature, **kwargs)
    if any(t in model for t in ("o1", "o3", "o4", "gpt-5")):
        payload["max_completion_tokens"] = max_tokens
        payload.pop("temperature")
    else:
        payload["max_tokens"] = max_tokens
    if "openai.com" not in api_base and payload.get("n") == 1:
        payload.pop("n", None)
    return json.dumps(payload).encode()


def photo(tmp_path, name, size, fmt="JPEG", mode="RGB"):
    """A noisy picture (JPEG has work to do, and a large one takes Pillow's draft path)."""
    img = Image.blend(Image.linear_gradient("L").resize(size).convert("RGB"),
                      Image.effect_noise(size, 40).convert("RGB"), 0.2)
    if mode != "RGB":
        img = img.convert(mode)
    path = tmp_path / name
    img.save(path, format=fmt)
    return str(path)


def cases(tmp_path):
    big_jpeg = photo(tmp_path, "big.jpg", (1200, 900))
    small_rgba = photo(tmp_path, "small.png", (64, 48), fmt="PNG", mode="RGBA")
    palette = photo(tmp_path, "pal.png", (300, 200), fmt="PNG", mode="P")
    grey = photo(tmp_path, "grey.jpg", (320, 240), mode="L")
    return [
        (dict(img_size=512, img_detail="low"),
         [dict(type="image", value=big_jpeg), dict(type="text", value="What is shown?")]),
        (dict(img_size=-1, img_detail="high", system_prompt="Be brief.", temperature=0.3, max_tokens=7, top_p=0.5),
         [dict(type="text", value="Look:"), dict(type="image", value=small_rgba), dict(type="text", value=""),
          dict(type="image", value=palette), dict(type="text", value="Which colour? «ü» 图")]),
        (dict(img_size=-1), [dict(type="image", value=grey), dict(type="text", value="Grey?")]),
        (dict(system_prompt=""), [dict(type="text", value="one"), dict(type="text", value="two é")]),
        (dict(model="o3-mini", max_tokens=9), [dict(type="text", value="x")]),
    ]


def test_request_bytes_are_upstreams(tmp_path):
    """Every case sent through the adapter arrives as exactly the bytes upstream's wrapper posts."""
    sent = cases(tmp_path)
    with FailingServer() as srv:
        for settings, message in sent:
            settings = dict(settings)
            name = settings.pop("model", "m")
            answer, ok, _ = OpenAIAPI(model=name, api_base=srv.base_url, key="sk-t", **settings).generate(message)
            assert ok, answer
    assert len(srv.requests) == len(sent)
    for (settings, message), request in zip(sent, srv.requests):
        assert request["raw"] == upstream_body(message, **settings)


def test_request_bytes_with_a_payload_limit_and_in_the_infer_stage(tmp_path, monkeypatch):
    """The shrink loop for VLMEVAL_MAX_IMAGE_SIZE, and the infer stage's own path (the event loop)."""
    monkeypatch.setenv("VLMEVAL_MAX_IMAGE_SIZE", "20000")
    big = photo(tmp_path, "big.jpg", (1200, 900))
    message = [dict(type="image", value=big), dict(type="text", value="Q?")]
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, [dict(index=0, digest="d0", message=message)])
    with FailingServer() as srv:
        spec = {"class": "OpenAIAPI", "model": "m", "api_base": srv.base_url, "img_size": -1, "nproc": 2}
        infer.run(prompts, spec, 0, 1, tmp_path / "c" / "D", tmp_path / "o.jsonl", dataset="D")
    assert srv.requests[0]["raw"] == upstream_body(message)
    b64 = srv.requests[0]["body"]["messages"][0]["content"][0]["image_url"]["url"].split(",", 1)[1]
    assert len(b64) <= 20000


def test_openai_gets_n_and_gemini_upstreams_quirk():
    hi = [dict(type="text", value="hi")]
    assert OpenAIAPI(model="gpt-4o", api_base="https://api.openai.com/v1", key="sk-x").payload(hi)["n"] == 1
    gem = OpenAIAPI(model="gemini-2.5-pro", api_base="http://x/v1").payload([dict(type="text", value="hi")])
    assert "max_tokens" not in gem and gem["reasoning_effort"] == "high"


# ---- each image encoded once -------------------------------------------------------------------

def test_an_image_is_encoded_once_and_shared_through_the_folder(tmp_path, image_cache):
    path = photo(tmp_path, "a.jpg", (320, 240))
    first = EncodedImages(image_cache)
    data = first.get(path, -1)
    assert data == encode_image(path, -1) and first.get(path, -1) == data
    assert first.stats == dict(memory=1, disk=0, encoded=1)
    second = EncodedImages(image_cache)  # another process: another shard, model or rerun
    assert second.get(path, -1) == data and second.stats == dict(memory=0, disk=1, encoded=0)
    # another size is another encoding; changed content is another image
    assert second.get(path, 100) != data and second.stats["encoded"] == 1
    photo(tmp_path, "a.jpg", (200, 100))
    os.utime(path, ns=(1, 1))  # even with an old mtime: the size changed, so the content is hashed again
    assert second.get(path, -1) == encode_image(path, -1) != data


def test_an_unwritable_cache_folder_only_costs_reencoding(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = EncodedImages(blocker / "sub")
    path = photo(tmp_path, "a.jpg", (120, 120))
    assert store.get(path, -1) == encode_image(path, -1)


def test_the_infer_stage_encodes_each_image_once(tmp_path, monkeypatch):
    monkeypatch.setattr(image_payload, "_shared", None)
    images = [photo(tmp_path, f"i{k}.jpg", (160, 120)) for k in range(3)]
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, [dict(index=i, digest=f"d{i}", message=[dict(type="image", value=images[i % 3]),
                                                                 dict(type="text", value=f"Q{i}")])
                          for i in range(12)])
    with FailingServer() as srv:
        spec = {"class": "OpenAIAPI", "model": "m", "api_base": srv.base_url, "nproc": 4}
        infer.run(prompts, spec, 0, 1, tmp_path / "c" / "D", tmp_path / "o.jsonl", dataset="D")
    assert len(srv.requests) == 12
    assert image_payload.shared_images().stats["encoded"] == 3
    assert len(list((tmp_path / "encoded").rglob("*.b64"))) == 3


# ---- the HTTP path -----------------------------------------------------------------------------

def test_chunked_replies_and_keepalives_the_server_closed(tmp_path):
    with FailingServer(script=["chunked", "ok_then_close", "ok", "ok_then_close", "chunked"]) as srv:
        m = OpenAIAPI(model="m", api_base=srv.base_url, retry=1)
        answers = [m.generate(f"q{i}") for i in range(5)]
    assert [a[:2] for a in answers] == [("B", True)] * 5
    assert len(srv.requests) == 5  # each sent once: a closed keep-alive is reopened, not counted as a failure


def test_a_proxy_in_the_environment_goes_through_httpx(monkeypatch):
    """With HTTP(S)_PROXY set the requests go through httpx2, which honours it (here NO_PROXY)."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with FailingServer(script=["500", ("429", 0)]) as srv:
        m = OpenAIAPI(model="m", api_base=srv.base_url, wait=0.01)
        assert m._trust_env
        answer, ok, _ = m.generate("hi")
    assert (answer, ok) == ("B", True) and len(srv.requests) == 3


def test_failures_carry_the_openai_error_types():
    with FailingServer(script=[("429", 0), "500", "400"]) as srv:
        m = OpenAIAPI(model="m", api_base=srv.base_url, retry=1)
        types = [m.generate("x")[2]["error_type"] for _ in range(3)]
    assert types == ["RateLimitError", "InternalServerError", "BadRequestError"]
    _, ok, info = OpenAIAPI(model="m", api_base="http://127.0.0.1:9/v1", retry=1, timeout=2).generate("x")
    assert not ok and info["error"].startswith("APIConnectionError") and info["retryable"]


def test_many_in_flight_each_sent_once(tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    write_jsonl(prompts, [dict(index=i, digest=f"d{i}", message=[dict(type="text", value=f"Question {i}")])
                          for i in range(300)])
    with FailingServer(latency=0.05) as srv:
        spec = {"class": "OpenAIAPI", "model": "m", "api_base": srv.base_url, "nproc": 64}
        stats = infer.run(prompts, spec, 0, 1, tmp_path / "c" / "D", tmp_path / "o.jsonl", dataset="D")
    texts = [r["body"]["messages"][0]["content"][0]["text"] for r in srv.requests]
    assert stats["asked"] == 300 and sorted(texts) == sorted(f"Question {i}" for i in range(300))
    assert len(set(texts)) == 300
