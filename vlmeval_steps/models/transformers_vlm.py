"""A local checkpoint through transformers: AutoModelForImageTextToText + AutoProcessor + chat template.

Proven on a tiny offline checkpoint of each architecture in PROVEN_ARCHITECTURES (tests/tiny_vlms.py,
tests/test_tiny_vlms.py). Two things differ between them and are handled without per-family code:
a processor without a chat template (PaliGemma) gets the texts after one image token per image, and
a processor whose mandatory video processor needs torchvision loads without it (images only).
"""
from __future__ import annotations

import contextlib
import inspect
import json
import os
from pathlib import Path

from PIL import Image

from .base import BaseModel

#: config.json model_types run by tests/test_tiny_vlms.py (which checks this list against its table)
PROVEN_ARCHITECTURES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe", "internvl", "llava", "llava_next",
                        "llava_onevision", "idefics3", "smolvlm", "gemma3", "paligemma", "mllama")
#: never the network: a model_path is a folder or a hub id already in the local cache (HF_HUB_OFFLINE is
#: read when huggingface_hub is imported, which may have happened before this adapter sets it)
LOCAL = {"local_files_only": True}
#: upstream's Qwen2VLChat / Qwen3VLChat: OCRBench images get at least this many merged patches (10 x 10)
#: whatever min_pixels is set, so small text crops are enlarged
DATASET_MIN_TOKENS = {"OCRBench": 10 * 10}
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


def load_processor(model_path: str, trust_remote_code: bool = False):
    """AutoProcessor; without torchvision, the same processor with no video processor (images only).

    transformers makes a video processor mandatory for Qwen2-VL, Qwen2.5-VL, Qwen3-VL, InternVL,
    LLaVA-OneVision and SmolVLM, and its video processors need torchvision, which image benchmarks
    never use: so a machine without torchvision still runs them on images.
    """
    from transformers import AutoProcessor
    from transformers.utils import is_torchvision_available

    try:
        return AutoProcessor.from_pretrained(model_path, trust_remote_code=trust_remote_code, **LOCAL)
    except (ImportError, OSError) as err:  # the video processor: needs torchvision, or its config is absent
        if is_torchvision_available():
            raise
        try:
            return images_only_processor(model_path, trust_remote_code)
        except Exception:
            raise err from None


def _json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


class NoVideoProcessor:
    """In place of a video processor that needs torchvision: image inputs never call it."""
    num_frames = fps = None  # read by SmolVLM's apply_chat_template even for images

    def __call__(self, *args, **kwargs):
        raise ImportError("videos need torchvision (pip install torchvision)")


@contextlib.contextmanager
def no_video_processor_allowed():
    from transformers.processing_utils import ProcessorMixin

    check = ProcessorMixin.check_argument_for_proper_class

    def lenient(self, name, argument):
        if name == "video_processor" and (argument is None or isinstance(argument, NoVideoProcessor)):
            return None
        return check(self, name, argument)

    ProcessorMixin.check_argument_for_proper_class = lenient
    try:
        yield
    finally:
        ProcessorMixin.check_argument_for_proper_class = check


def images_only_processor(model_path: str, trust_remote_code: bool):
    import transformers
    from transformers import AutoImageProcessor, AutoTokenizer

    folder = Path(model_path)
    if not folder.is_dir():  # a hub id: its copy in the local cache
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(model_path, local_files_only=True))
    settings = _json(folder / "processor_config.json")
    # where checkpoints name their processor: transformers 5's processor_config.json, older ones'
    # preprocessor_config.json (Qwen2-VL on the hub), or the tokenizer's config
    name = next((n for n in (_json(folder / f).get("processor_class") for f in (
        "processor_config.json", "preprocessor_config.json", "tokenizer_config.json")) if n), None)
    cls = getattr(transformers, name or "", None)
    if cls is None or "video_processor" not in cls.get_attributes():
        raise ImportError(f"{model_path}: no processor with a video processor to leave out ({name})")
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code, **LOCAL)
    template = folder / "chat_template.jinja"
    chat_template = (template.read_text() if template.is_file()
                     else _json(folder / "chat_template.json").get("chat_template") or tokenizer.chat_template)
    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {k: v for k, v in settings.items() if k in accepted and k not in ("image_processor", "tokenizer")}
    image_processor = AutoImageProcessor.from_pretrained(folder, trust_remote_code=trust_remote_code, **LOCAL)
    with no_video_processor_allowed():
        return cls(image_processor=image_processor, tokenizer=tokenizer, video_processor=NoVideoProcessor(),
                   chat_template=chat_template, **kwargs)


def pixel_budget_factor(processor) -> int | None:
    """The side in pixels of one merged patch (28 for Qwen2/2.5-VL, 32 for Qwen3-VL) where the image
    processor sizes images by a pixel budget (size = shortest_edge / longest_edge in pixels); else None."""
    ip = getattr(processor, "image_processor", None)
    size = getattr(ip, "size", None) or {}
    patch, merge = getattr(ip, "patch_size", None), getattr(ip, "merge_size", None)
    if not (patch and merge and "shortest_edge" in size and "longest_edge" in size):
        return None
    return patch * merge


class TransformersVLM(BaseModel):
    INTERLEAVE = True
    allowed_types = ["text", "image", "video"]  # video: for processors that take it (video_content.py)
    EXTRA_SETTINGS = GENERATION_KEYS  # what **generation may hold (checked before a run: names_check.py)

    def __init__(self, model_path: str, device: str = "auto", dtype: str = "auto", system_prompt: str | None = None,
                 trust_remote_code: bool = False, max_new_tokens: int = 512, do_sample: bool = False,
                 min_pixels: int | None = None, max_pixels: int | None = None, **generation):
        import torch
        from transformers import AutoModelForImageTextToText

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.device = resolve_device(device)
        torch_dtype = dtype if dtype == "auto" else getattr(torch, dtype)
        self.processor = load_processor(model_path, trust_remote_code)
        self.model = AutoModelForImageTextToText.from_pretrained(
            model_path, dtype=torch_dtype, trust_remote_code=trust_remote_code, **LOCAL).to(self.device).eval()
        unknown = set(generation) - set(GENERATION_KEYS)
        if unknown:
            raise ValueError(f"TransformersVLM: unknown generation settings {sorted(unknown)}; "
                             f"known: {['max_new_tokens', 'do_sample', *GENERATION_KEYS[2:]]}")
        self.generation = dict(max_new_tokens=max_new_tokens, do_sample=do_sample, **generation)
        if not do_sample:  # greedy: drop sampling knobs so transformers does not warn about them
            for k in ("temperature", "top_p", "top_k"):
                self.generation.pop(k, None)
        self.system_prompt = system_prompt
        self.min_pixels, self.max_pixels = min_pixels, max_pixels
        self.pixel_factor = pixel_budget_factor(self.processor)  # None: not a Qwen-style pixel budget
        if (min_pixels or max_pixels) and self.pixel_factor is None:
            raise ValueError(f"TransformersVLM {model_path}: min_pixels / max_pixels need an image processor "
                             "that sizes images by a pixel budget (Qwen2-VL, Qwen2.5-VL, Qwen3-VL); "
                             "remove them from this model's settings")

    def image_size(self, dataset: str | None) -> dict | None:
        """The image processor's `size` for this dataset (upstream's budgets), or None for its own."""
        if self.pixel_factor is None:
            return None
        size = {}
        if self.min_pixels is not None:
            size["shortest_edge"] = self.min_pixels
        if self.max_pixels is not None:
            size["longest_edge"] = self.max_pixels
        if dataset in DATASET_MIN_TOKENS:
            size["shortest_edge"] = DATASET_MIN_TOKENS[dataset] * self.pixel_factor ** 2
        if not size:
            return None
        own = self.processor.image_processor.size
        return {"shortest_edge": size.get("shortest_edge", own["shortest_edge"]),
                "longest_edge": size.get("longest_edge", own["longest_edge"])}

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

    def inputs(self, messages: list, dataset: str | None = None):
        """The processor's tensors for a batch of messages, on the model's device."""
        tok = getattr(self.processor, "tokenizer", None)
        if tok is not None:
            tok.padding_side = "left"  # generation appends on the right, so pad on the left
        kwargs = {"padding": True} if len(messages) > 1 else {}
        size = self.image_size(dataset)
        if size is not None:
            kwargs["size"] = size  # the image processor's pixel budget for this dataset
        if getattr(self.processor, "chat_template", None) is None:
            # no chat template (PaliGemma): an image token per image, then the texts; the processor expands them
            images = [[load_image(i["value"]) for i in m if i["type"] == "image"] for m in messages]
            token = getattr(self.processor, "image_token", "<image>")
            texts = [token * len(im) + "\n".join(([self.system_prompt] if self.system_prompt else [])
                                                   + [i["value"] for i in m if i["type"] == "text"])
                     for m, im in zip(messages, images)]
            return self.processor(text=texts, images=images if any(images) else None, return_tensors="pt",
                                  **kwargs).to(self.device)
        convs = [self.conversation(m) for m in messages]
        prefixed = all(c[-1]["role"] == "assistant" for c in convs)  # the answer's start is given (MVBench)
        return self.processor.apply_chat_template(
            convs, add_generation_prompt=not prefixed, continue_final_message=prefixed, tokenize=True,
            return_dict=True, return_tensors="pt", processor_kwargs=kwargs).to(self.device)

    def generate_inner(self, message, dataset=None) -> str:
        return self.generate_batch_inner([message], dataset)[0]

    def generate_batch(self, messages: list, dataset=None) -> list[str]:
        from .base import normalise_message

        return self.generate_batch_inner([normalise_message(m) for m in messages], dataset)

    def generate_batch_inner(self, messages: list, dataset: str | None = None) -> list[str]:
        import torch

        inputs = self.inputs(messages, dataset)
        with torch.inference_mode():
            out = self.model.generate(**inputs, **self.generation)
        tail = out[:, inputs["input_ids"].shape[1]:]
        return [self.processor.decode(t, skip_special_tokens=True).strip() for t in tail]
