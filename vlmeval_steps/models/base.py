"""BaseModel: upstream's interface for local models (vlmeval/vlm/base.py).

An upstream adapter ports by changing its imports: implement
`generate_inner(message, dataset=None) -> str`; optionally `use_custom_prompt(dataset)` and
`build_prompt(line, dataset)`, `chat_inner(message, dataset)`.
"""
from __future__ import annotations

import mimetypes
import os


def _looks_like_image(value: str) -> bool:
    if value.startswith("data:image/"):
        return True
    if value.startswith(("http://", "https://")):
        return (mimetypes.guess_type(value)[0] or "").startswith("image/")
    return os.path.isfile(value) and (mimetypes.guess_type(value)[0] or "").startswith("image/")


def normalise_message(message) -> list[dict]:
    """Upstream's preproc_content: str, dict, list[str] or list[dict] -> [dict(type, value)]."""
    if isinstance(message, str):
        return [dict(type="text", value=message)]
    if isinstance(message, dict):
        message = [message]
    out = []
    for item in message:
        if isinstance(item, dict):
            if "type" not in item or "value" not in item:
                raise ValueError(f"message item {item!r} needs 'type' and 'value'")
            # a video benchmark's system text or assistant prefix keeps its role (upstream's MVBench)
            out.append(dict(type=item["type"], value=item["value"], **({"role": item["role"]} if "role" in item else {})))
        elif isinstance(item, str):
            out.append(dict(type="image" if _looks_like_image(item) else "text", value=item))
        else:
            raise ValueError(f"message item of type {type(item).__name__} is not a str or dict")
    return out


def normalise_input(message) -> list[dict]:
    """A message (normalise_message), or a dialog [{'role', 'content'}, ...] with each turn's content normalised."""
    if isinstance(message, list) and message and isinstance(message[0], dict) and "role" in message[0]:
        return [dict(role=turn["role"], content=normalise_message(turn["content"])) for turn in message]
    return normalise_message(message)


class BaseModel:
    INTERLEAVE = False
    allowed_types = ["text", "image"]
    is_api = False
    #: id of the prompt builder this model uses when use_custom_prompt() is True
    PROMPT_ID: str | None = None

    def use_custom_prompt(self, dataset) -> bool:
        return False

    def build_prompt(self, line, dataset=None):
        raise NotImplementedError

    def generate_inner(self, message, dataset=None) -> str:
        raise NotImplementedError

    def generate(self, message, dataset=None) -> str:
        message = normalise_message(message)
        bad = [m["type"] for m in message if m["type"] not in self.allowed_types]
        if bad:
            raise ValueError(f"{type(self).__name__} does not accept message types {bad}")
        return self.generate_inner(message, dataset)

    def generate_batch(self, messages: list, dataset=None) -> list[str]:
        """Answers for several messages; models that can batch override this."""
        return [self.generate(m, dataset=dataset) for m in messages]

    def chat_inner(self, message, dataset=None) -> str:
        raise NotImplementedError

    def chat(self, messages, dataset=None) -> str:
        """Multi-turn: on failure drop the oldest turns until a user turn leads, as upstream."""
        while messages:
            try:
                return self.chat_inner(messages, dataset=dataset)
            except Exception:
                messages = messages[1:]
                while messages and messages[0]["role"] != "user":
                    messages = messages[1:]
        raise RuntimeError("chat failed with every history length")

    def message_to_promptimg(self, message, dataset=None):
        """For INTERLEAVE=False models: all texts joined by newlines, and the first image."""
        texts = [m["value"] for m in message if m["type"] == "text"]
        images = [m["value"] for m in message if m["type"] == "image"]
        return "\n".join(texts), (images[0] if images else None)
