"""A local checkpoint through transformers: AutoModelForImageTextToText + AutoProcessor + chat template."""
from __future__ import annotations

import os

from PIL import Image

from .base import BaseModel

GENERATION_KEYS = ("max_new_tokens", "do_sample", "temperature", "top_p", "top_k", "num_beams",
                   "repetition_penalty")


def resolve_device(device: str = "auto") -> str:
    import torch

    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_image(path: str) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")  # upstream dumps RGB PNGs; we keep the raw file and convert here


class TransformersVLM(BaseModel):
    INTERLEAVE = True
    allowed_types = ["text", "image", "video"]  # video: for processors that take it (video_content.py)
    EXTRA_SETTINGS = GENERATION_KEYS  # what **generation may hold (checked before a run: names_check.py)

    def __init__(self, model_path: str, device: str = "auto", dtype: str = "auto", system_prompt: str | None = None,
                 trust_remote_code: bool = False, max_new_tokens: int = 512, do_sample: bool = False, **generation):
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.device = resolve_device(device)
        torch_dtype = dtype if dtype == "auto" else getattr(torch, dtype)
        self.processor = AutoProcessor.from_pretrained(model_path, trust_remote_code=trust_remote_code)
        self.model = AutoModelForImageTextToText.from_pretrained(
            model_path, dtype=torch_dtype, trust_remote_code=trust_remote_code).to(self.device).eval()
        unknown = set(generation) - set(GENERATION_KEYS)
        if unknown:
            raise ValueError(f"TransformersVLM: unknown generation settings {sorted(unknown)}; "
                             f"known: {['max_new_tokens', 'do_sample', *GENERATION_KEYS[2:]]}")
        self.generation = dict(max_new_tokens=max_new_tokens, do_sample=do_sample, **generation)
        if not do_sample:  # greedy: drop sampling knobs so transformers does not warn about them
            for k in ("temperature", "top_p", "top_k"):
                self.generation.pop(k, None)
        self.system_prompt = system_prompt

    def conversation(self, message) -> list[dict]:
        from .video_content import split_roles, video_part

        system, message, prefix = split_roles(message)  # video benchmarks: system / assistant items
        content = []
        for item in message:
            if item["type"] == "image":
                content.append({"type": "image", "image": load_image(item["value"])})
            elif item["type"] == "text":
                content.append({"type": "text", "text": item["value"]})
            elif item["type"] == "video":
                content.append(video_part(item["value"], self.processor))
        conv = [{"role": "user", "content": content}]
        system = ([self.system_prompt] if self.system_prompt else []) + system
        if system:
            conv.insert(0, {"role": "system", "content": [{"type": "text", "text": "\n".join(system)}]})
        if prefix:  # the answer starts with it (continue_final_message)
            conv.append({"role": "assistant", "content": [{"type": "text", "text": "".join(prefix)}]})
        return conv

    def generate_inner(self, message, dataset=None) -> str:
        return self.generate_batch_inner([message])[0]

    def generate_batch(self, messages: list, dataset=None) -> list[str]:
        from .base import normalise_message

        return self.generate_batch_inner([normalise_message(m) for m in messages])

    def generate_batch_inner(self, messages: list) -> list[str]:
        import torch

        convs = [self.conversation(m) for m in messages]
        tok = getattr(self.processor, "tokenizer", None)
        if tok is not None:
            tok.padding_side = "left"  # generation appends on the right, so pad on the left
        prefixed = all(c[-1]["role"] == "assistant" for c in convs)
        inputs = self.processor.apply_chat_template(
            convs, add_generation_prompt=not prefixed, continue_final_message=prefixed, tokenize=True,
            return_dict=True, return_tensors="pt",
            processor_kwargs={"padding": True} if len(convs) > 1 else {}).to(self.device)
        with torch.inference_mode():
            out = self.model.generate(**inputs, **self.generation)
        tail = out[:, inputs["input_ids"].shape[1]:]
        return [self.processor.decode(t, skip_special_tokens=True).strip() for t in tail]
