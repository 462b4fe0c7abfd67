"""Tiny offline checkpoints of every VLM architecture TransformersVLM is proven to run, keyed by model_type.

Each builder returns (model, processor): the family's transformers config shrunk to one or two layers,
small hidden sizes and a small vision tower, random weights (seeded), a byte-level BPE tokenizer built
here with the special and image tokens the family's processor needs, the family's image processor with
small images and few tiles, and a chat template that lays out turns and image tokens as the hub
checkpoint's does (trimmed of tool-calling and video branches). Nothing is downloaded.

`TINY_VLMS[model_type].build()`; `save(model_type, folder)` writes a loadable checkpoint.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

SEED = 0
IMAGE_MEAN, IMAGE_STD = [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]


@dataclass(frozen=True)
class TinyVLM:
    model_type: str
    build: Callable  # () -> (model, processor)
    prompt: str | None = None  # the family's prompt builder (vlmeval_steps/prompts), if upstream has one


# ---------------------------------------------------------------- shared pieces
def tokenizer(special: list[str], bos="<s>", eos="</s>", pad="<pad>", unk=None, named: dict | None = None,
              add_bos: bool = False):
    """A byte-level BPE (any text encodes) with the family's special tokens; ~300 ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = ["Question: Which shape is shown? Options: A. circle B. square C. triangle D. star",
              "Please select the correct answer from the options above. Answer with the option's letter.",
              "Hint: a hint. user assistant system image picture describe the colour red green blue"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    specials = list(dict.fromkeys(t for t in [pad, bos, eos, unk, *special] if t))
    bpe.train_from_iterator(corpus * 4, trainers.BpeTrainer(
        vocab_size=256 + 64 + len(specials), show_progress=False, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    if add_bos:
        bpe.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, bpe.token_to_id(bos))])
    kw = dict(bos_token=bos, eos_token=eos, pad_token=pad)
    if unk:
        kw["unk_token"] = unk
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, extra_special_tokens=named or {}, **kw)
    tok.add_bos_token = add_bos
    return tok


def ids(tok, *tokens) -> list[int]:
    return [tok.convert_tokens_to_ids(t) for t in tokens]


def text_cfg(model_type: str, tok, **over) -> dict:
    """A decoder of two layers, hidden 64, 4 heads of 16 (2 key/value heads)."""
    cfg = dict(model_type=model_type, vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
               num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=1024,
               bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
               tie_word_embeddings=False)
    cfg.update(over)
    return cfg


def processor(proc_cls, **parts):
    """The processor; without torchvision, without its (mandatory but image-unused) video processor."""
    from transformers.utils import is_torchvision_available

    from vlmeval_steps.models.transformers_vlm import _no_video_processor_allowed

    if is_torchvision_available() or "video_processor" not in proc_cls.get_attributes():
        return proc_cls(**parts)
    with _no_video_processor_allowed():
        return proc_cls(video_processor=None, **parts)


def seeded(model_cls, cfg, tok):
    import torch

    torch.manual_seed(SEED)
    model = model_cls(cfg).eval()
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.bos_token_id = tok.bos_token_id
    return model


# ---------------------------------------------------------------- chat templates (after the hub checkpoints')
def _content_loop(image: str, text: str = "{{ c['text'] }}") -> str:
    return ("{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
            "{% if c['type'] == 'image' %}" + image + "{% elif c['type'] == 'text' %}" + text +
            "{% endif %}{% endfor %}{% endif %}")


# Qwen2-VL / Qwen2.5-VL: ChatML, a default system turn, each image wrapped in vision start/end
QWEN2_VL_TEMPLATE = (
    "{% for m in messages %}{% if loop.first and m['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ m['role'] }}\n" + _content_loop("<|vision_start|><|image_pad|><|vision_end|>") +
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
# Qwen3-VL: ChatML without a default system turn
QWEN3_VL_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n" +
    _content_loop("<|vision_start|><|image_pad|><|vision_end|>") +
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
QWEN_SPECIAL = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                "<|video_pad|>"]


# ---------------------------------------------------------------- Qwen2-VL, Qwen2.5-VL, Qwen3-VL
def _qwen_processor(proc_cls, template, patch=14):
    from transformers import Qwen2VLImageProcessorPil

    tok = tokenizer(QWEN_SPECIAL, bos=None, eos="<|im_end|>", pad="<|endoftext|>",
                    named={"image_token": "<|image_pad|>", "video_token": "<|video_pad|>",
                           "vision_bos_token": "<|vision_start|>", "vision_eos_token": "<|vision_end|>"})
    side = patch * 2  # one merged token is 2x2 patches: images become 2x2 to 4x4 merged tokens
    image = Qwen2VLImageProcessorPil(size={"shortest_edge": (2 * side) ** 2, "longest_edge": (4 * side) ** 2},
                                     patch_size=patch, merge_size=2, image_mean=IMAGE_MEAN, image_std=IMAGE_STD)
    return tok, processor(proc_cls, image_processor=image, tokenizer=tok, chat_template=template)


def _qwen_ids(tok) -> dict:
    image, video, start, end = ids(tok, "<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>")
    return dict(image_token_id=image, video_token_id=video, vision_start_token_id=start, vision_end_token_id=end)


def qwen2_vl():
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLProcessor

    tok, proc = _qwen_processor(Qwen2VLProcessor, QWEN2_VL_TEMPLATE)
    cfg = Qwen2VLConfig(
        text_config=text_cfg("qwen2_vl_text", tok, rope_parameters=dict(
            rope_type="default", rope_theta=10000.0, mrope_section=[2, 3, 3])),
        vision_config=dict(depth=1, embed_dim=32, hidden_size=64, num_heads=2, mlp_ratio=2, patch_size=14,
                           spatial_merge_size=2, temporal_patch_size=2),
        **_qwen_ids(tok))
    return seeded(Qwen2VLForConditionalGeneration, cfg, tok), proc


# ---------------------------------------------------------------- LLaVA-1.5
LLAVA_TEMPLATE = (  # llava-hf/llava-1.5: "USER: <image>\n... ASSISTANT:"
    "{% for m in messages %}{% if m['role'] != 'system' %}{{ m['role'].upper() + ': ' }}{% endif %}" +
    _content_loop("<image>\n", "{{ c['text'] + ' ' }}") +
    "{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}")


def llava():
    from transformers import CLIPImageProcessorPil, LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor

    tok = tokenizer(["<image>"], unk="<unk>", named={"image_token": "<image>"}, add_bos=True)
    image = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32},
                                  image_mean=IMAGE_MEAN, image_std=IMAGE_STD)
    proc = LlavaProcessor(image_processor=image, tokenizer=tok, patch_size=8, vision_feature_select_strategy="default",
                          num_additional_image_tokens=1, chat_template=LLAVA_TEMPLATE)
    cfg = LlavaConfig(
        vision_config=dict(model_type="clip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=2, image_size=32, patch_size=8, projection_dim=32),
        text_config=text_cfg("llama", tok), image_token_id=ids(tok, "<image>")[0], image_seq_length=16,
        vision_feature_layer=-2, vision_feature_select_strategy="default")
    return seeded(LlavaForConditionalGeneration, cfg, tok), proc


TINY_VLMS: dict[str, TinyVLM] = {t.model_type: t for t in [
    TinyVLM("qwen2_vl", qwen2_vl, prompt="qwen2_vl"),
    TinyVLM("llava", llava),
]}


class _NoVideoProcessor(dict):
    """Stands in for a missing video processor while a processor is saved (written as {}, then dropped)."""
    _auto_class = None


def save(model_type: str, out) -> None:
    import json
    from pathlib import Path

    model, proc = TINY_VLMS[model_type].build()
    model.save_pretrained(out)
    if getattr(proc, "video_processor", False) is None:
        proc.video_processor = _NoVideoProcessor()
        proc.save_pretrained(out)
        settings = Path(out) / "processor_config.json"
        saved = json.loads(settings.read_text())
        saved.pop("video_processor", None)
        settings.write_text(json.dumps(saved, indent=2))
    else:
        proc.save_pretrained(out)
