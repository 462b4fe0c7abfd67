"""Issue 11, MMDU for API models: the OpenAI adapter's chat_inner sends the conversation so far as
role-tagged messages (upstream's BaseAPI.chat / chat_inner with OpenAIWrapper.prepare_inputs), against
the real loopback server (`transformers serve` with the demo model)."""
from __future__ import annotations

import base64
import json

from tests.benchdata import shape_png
from vlmeval_steps.models.multiturn import chat_mt, has_chat_inner
from vlmeval_steps.models.openai_api import OpenAIAPI


class Recording(OpenAIAPI):
    """The real adapter, keeping the bytes of every request it sends."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bodies = []

    async def agenerate_inner(self, inputs, _body=None, **kwargs):
        self.bodies.append(json.loads(_body))
        return await super().agenerate_inner(inputs, _body=_body, **kwargs)


def model_for(server):
    return Recording(model=server.model, api_base=server.base_url, max_tokens=8, temperature=0, img_size=-1,
                     retry=2, wait=0.1)


def image(tmp_path, name="a.png"):
    path = tmp_path / name
    path.write_bytes(base64.b64decode(shape_png()))
    return str(path)


def test_each_turn_carries_the_conversation_so_far(openai_server, tmp_path):
    model = model_for(openai_server)
    assert has_chat_inner(model)
    dialog = [dict(role="user", content=[dict(type="text", value="Look: "), dict(type="image", value=image(tmp_path)),
                                         dict(type="text", value=" What shape?")]),
              dict(role="assistant", content=[dict(type="text", value="the reference, never sent")]),
              dict(role="user", content=[dict(type="text", value="And its colour?")]),
              dict(role="assistant", content=[dict(type="text", value="reference 2")])]
    before = openai_server.requests_served()
    answers, ok, _ = chat_mt(model, dialog, dataset="MMDU")
    assert ok and len(answers) == 2
    assert openai_server.requests_served() - before == len(model.bodies) == 2
    first, second = (b["messages"] for b in model.bodies)
    assert [m["role"] for m in first] == ["user"] and [m["role"] for m in second] == ["user", "assistant", "user"]
    # the user turn as upstream's prepare_itlist builds it: interleaved parts, images as JPEG data URLs
    assert [p["type"] for p in second[0]["content"]] == ["text", "image_url", "text"]
    assert second[0]["content"][1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert second[0] == first[0]
    # the model's own first answer, not the reference; a text-only turn is one text part
    assert second[1]["content"] == [{"type": "text", "text": answers[0]}]
    assert second[2]["content"] == [{"type": "text", "text": "And its colour?"}]
    model.close()


def test_a_turn_whose_request_cannot_be_built_is_dropped(openai_server, tmp_path):
    # upstream's chat_inner: on an error, drop the oldest turns until a user turn leads, and try again
    model = model_for(openai_server)
    dialog = [dict(role="user", content=[dict(type="image", value=str(tmp_path / "missing.png")),
                                         dict(type="text", value="Q1")]),
              dict(role="assistant", content=[dict(type="text", value="a1")]),
              dict(role="user", content=[dict(type="text", value="Q2")])]
    answer, ok, _ = model.chat(dialog)
    assert ok and answer
    assert [m["role"] for m in model.bodies[-1]["messages"]] == ["user"]
    assert model.bodies[-1]["messages"][0]["content"] == [{"type": "text", "text": "Q2"}]
    # the lower-level call returns upstream's (ret_code, answer, info)
    ret_code, answer, _ = model.chat_inner(dialog)
    assert ret_code == 0 and answer
    model.close()
