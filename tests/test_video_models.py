"""How models read video benchmarks' messages: role items (MVBench's system text and answer prefix), video files."""
from __future__ import annotations

import base64
import json

import pytest

from vlmeval_steps.models.openai_api import OpenAIAPI
from vlmeval_steps.video.demo_clips import clip_frames, write_video

SYS = "Carefully watch the video.\n"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    import random

    root = tmp_path_factory.mktemp("clip")
    frames = clip_frames("circle", "red", random.Random(1), n=8)
    write_video(root / "c.mp4", frames)
    paths = []
    for i, im in enumerate(frames[:2]):
        im.save(root / f"f{i}.jpg")
        paths.append(str(root / f"f{i}.jpg"))
    return root / "c.mp4", paths


def mvbench_like(frames):
    return ([dict(type="text", value=SYS, role="system")] + [dict(type="image", value=p) for p in frames]
            + [dict(type="text", value="Question: ?"), dict(type="text", value="Best option:(", role="assistant")])


def test_openai_roles_as_upstreams_base_api_and_video_as_video_url(clip):
    video, frames = clip
    api = OpenAIAPI(model="m", api_base="http://127.0.0.1:9/v1")
    body = json.loads(api.body(mvbench_like(frames)))
    assert body["messages"][0] == {"role": "system", "content": SYS + "\n"}
    user = body["messages"][1]["content"]
    assert [p["type"] for p in user] == ["image_url", "image_url", "text", "text"]
    assert user[-1]["text"] == "Best option:("   # upstream drops the role: sent as user text
    with_own = OpenAIAPI(model="m", api_base="http://127.0.0.1:9/v1", system_prompt="Be brief.")
    assert json.loads(with_own.body(mvbench_like(frames)))["messages"][0]["content"] == "Be brief.\n" + SYS + "\n"

    body = json.loads(api.body([dict(type="video", value=str(video)), dict(type="text", value="What colour?")]))
    part = body["messages"][0]["content"][0]
    assert part["type"] == "video_url" and part["video_url"]["url"].startswith("data:video/mp4;base64,")
    assert base64.b64decode(part["video_url"]["url"].split(",", 1)[1]) == video.read_bytes()


def test_transformers_vlm_system_turn_answer_prefix_and_no_video_processor(clip, demo_model):
    from vlmeval_steps.models.transformers_vlm import TransformersVLM

    video, frames = clip
    model = TransformersVLM(str(demo_model), device="cpu", dtype="float32", max_new_tokens=4)
    conv = model.conversation(mvbench_like(frames))
    assert [t["role"] for t in conv] == ["system", "user", "assistant"]
    assert conv[0]["content"][0]["text"] == SYS and conv[-1]["content"][0]["text"] == "Best option:("
    text = model.processor.apply_chat_template(conv, continue_final_message=True, tokenize=False)
    assert text.endswith("<|assistant|>Best option:(")   # the answer continues the prefix
    assert isinstance(model.generate_batch([mvbench_like(frames)])[0], str)
    with pytest.raises(ValueError, match="video_llm: false"):
        model.conversation([dict(type="video", value=str(video)), dict(type="text", value="?")])
