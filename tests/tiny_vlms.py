"""Tiny offline checkpoints of every VLM architecture TransformersVLM is proven to run, keyed by model_type.

Each builder returns (model, processor): the family's transformers config shrunk to one or two layers,
small hidden sizes and a small vision tower, random weights (seeded), a byte-level BPE tokenizer built
here with the special and image tokens the family's processor needs, the family's image processor with
small images and few tiles (normalised as the family's checkpoints are), and the family's chat
template (the hub checkpoint's, as transformers' own tests copy it; Qwen3-VL's and Llama-3.2-Vision's
without their tool-calling parts). Nothing is downloaded.

`TINY_VLMS[model_type].build()`; `save(model_type, folder)` writes a loadable checkpoint.

Not here: mistral3 and llava with a Pixtral vision tower (PixtralProcessor requires torchvision in
transformers 5.24, which this project does not install), phi4_multimodal (transformers has no
image-text-to-text class for it) and phi3_v (remote code only).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

SEED = 0


@dataclass(frozen=True)
class TinyVLM:
    model_type: str
    build: Callable  # () -> (model, processor)
    reply: str | None  # how the chat template opens the model's turn (None: no chat template)
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

    from vlmeval_steps.models.transformers_vlm import NoVideoProcessor, no_video_processor_allowed

    if is_torchvision_available() or "video_processor" not in proc_cls.get_attributes():
        return proc_cls(**parts)
    with no_video_processor_allowed():
        return proc_cls(video_processor=NoVideoProcessor(), **parts)


def seeded(model_cls, cfg, tok, seed=SEED):
    import torch

    torch.manual_seed(seed)
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


# Qwen2-VL / Qwen2.5-VL-*-Instruct's own: ChatML, a default system turn, each image in vision start/end
QWEN2_VL_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "<|im_end|>\n{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in "
    "content or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}"
    "Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == "
    "'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video "
    "{{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}"
    "{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}"
    "<|im_start|>assistant\n{% endif %}")
# Qwen3-VL: ChatML without a default system turn (its hub template, without the tool-calling and thinking parts)
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
                                     patch_size=patch, merge_size=2)
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
LLAVA_TEMPLATE = (  # llava-hf/llava-1.5-*-hf and llava-v1.6-vicuna: "USER: <image>\n... ASSISTANT:", images first
    "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}{% endif %}"
    "{# Render all images first #}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
    "{{ '<image>\n' }}{% endfor %}{# Render all text next #}{% if message['role'] != 'assistant' %}{% for content in "
    "message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}{% endfor %}{% else %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{% generation %}"
    "{{ content['text'] + ' '}}{% endgeneration %}{% endfor %}{% endif %}{% endfor %}{% if add_generation_prompt %}"
    "{{ 'ASSISTANT:' }}{% endif %}")


def llava():
    from transformers import CLIPImageProcessorPil, LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor

    tok = tokenizer(["<image>"], unk="<unk>", named={"image_token": "<image>"}, add_bos=True)
    image = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    proc = LlavaProcessor(image_processor=image, tokenizer=tok, patch_size=8, vision_feature_select_strategy="default",
                          num_additional_image_tokens=1, chat_template=LLAVA_TEMPLATE)
    cfg = LlavaConfig(
        vision_config=dict(model_type="clip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=2, image_size=32, patch_size=8, projection_dim=32),
        text_config=text_cfg("llama", tok), image_token_id=ids(tok, "<image>")[0], image_seq_length=16,
        vision_feature_layer=-2, vision_feature_select_strategy="default")
    return seeded(LlavaForConditionalGeneration, cfg, tok), proc


def qwen2_5_vl():
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor

    tok, proc = _qwen_processor(Qwen2_5_VLProcessor, QWEN2_VL_TEMPLATE)
    cfg = Qwen2_5_VLConfig(
        text_config=text_cfg("qwen2_5_vl_text", tok, rope_parameters=dict(
            rope_type="default", rope_theta=10000.0, mrope_section=[2, 3, 3])),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=56,
                           fullatt_block_indexes=[1]),
        **_qwen_ids(tok))
    return seeded(Qwen2_5_VLForConditionalGeneration, cfg, tok), proc


def qwen3_vl():
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLProcessor

    tok, proc = _qwen_processor(Qwen3VLProcessor, QWEN3_VL_TEMPLATE, patch=16)
    cfg = Qwen3VLConfig(
        text_config=text_cfg("qwen3_vl_text", tok, rope_parameters=dict(
            rope_type="default", rope_theta=10000.0, mrope_section=[2, 3, 3], mrope_interleaved=True)),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                           patch_size=16, spatial_merge_size=2, temporal_patch_size=2, num_position_embeddings=64,
                           deepstack_visual_indexes=[0]),
        **_qwen_ids(tok))
    return seeded(Qwen3VLForConditionalGeneration, cfg, tok), proc


def qwen3_vl_moe():
    from transformers import Qwen3VLMoeConfig, Qwen3VLMoeForConditionalGeneration, Qwen3VLProcessor

    tok, proc = _qwen_processor(Qwen3VLProcessor, QWEN3_VL_TEMPLATE, patch=16)
    cfg = Qwen3VLMoeConfig(  # Qwen3-VL with mixture-of-experts MLPs: 4 experts, 2 per token
        text_config=text_cfg("qwen3_vl_moe_text", tok, moe_intermediate_size=32, num_local_experts=4,
                             num_experts_per_tok=2, decoder_sparse_step=1, rope_parameters=dict(
                                 rope_type="default", rope_theta=10000.0, mrope_section=[2, 3, 3],
                                 mrope_interleaved=True)),
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                           patch_size=16, spatial_merge_size=2, temporal_patch_size=2, num_position_embeddings=64,
                           deepstack_visual_indexes=[0]),
        **_qwen_ids(tok))
    return seeded(Qwen3VLMoeForConditionalGeneration, cfg, tok), proc


# ---------------------------------------------------------------- InternVL2 / 2.5 / 3 (-hf)
INTERNVL_TEMPLATE = (  # OpenGVLab/InternVL*-hf (transformers' conversion script): ChatML, an image a line
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n'}}{% if message['content'] is string %}"
    "{{ message['content'] }}{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' %}"
    "{{ '<IMG_CONTEXT>\n' }}{% elif content['type'] == 'video' %}{{ '<video>\n' }}{% elif content['type'] == 'text' %}"
    "{{ content['text'] }}{% endif %}{% endfor %}{% endif %}{{'<|im_end|>\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{'<|im_start|>assistant\n' }}{% endif %}")


def internvl():
    from transformers import (GotOcr2ImageProcessorPil, InternVLConfig, InternVLForConditionalGeneration,
                              InternVLProcessor)

    tok = tokenizer(["<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>", "<video>"], bos=None,
                    eos="<|im_end|>", pad="<|endoftext|>",
                    named={"start_image_token": "<img>", "end_image_token": "</img>",
                           "context_image_token": "<IMG_CONTEXT>", "video_token": "<video>"})
    # 32 px tiles of 8 px patches, pixel-shuffled by 0.5: 4 tokens a tile; up to 2 tiles plus the thumbnail
    image = GotOcr2ImageProcessorPil(size={"height": 32, "width": 32}, crop_to_patches=True, min_patches=1,
                                     max_patches=2, image_mean=[0.485, 0.456, 0.406],  # ImageNet's, as InternVL
                                     image_std=[0.229, 0.224, 0.225])
    proc = processor(InternVLProcessor, image_processor=image, tokenizer=tok, image_seq_length=4,
                     chat_template=INTERNVL_TEMPLATE)
    cfg = InternVLConfig(
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                           image_size=[32, 32], patch_size=[8, 8]),
        text_config=text_cfg("qwen2", tok), image_token_id=ids(tok, "<IMG_CONTEXT>")[0], downsample_ratio=0.5,
        image_seq_length=4, tie_word_embeddings=False)  # tied, a random model repeats the prompt's last "\n"
    return seeded(InternVLForConditionalGeneration, cfg, tok), proc


# ---------------------------------------------------------------- LLaVA-NeXT, LLaVA-OneVision
LLAVA_NEXT_TEMPLATE = LLAVA_TEMPLATE  # llava-hf/llava-v1.6-vicuna-*-hf
CLIP_32 = dict(model_type="clip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=1,
               num_attention_heads=2, image_size=32, patch_size=8, projection_dim=32)
SIGLIP_32 = dict(model_type="siglip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                 num_attention_heads=2, image_size=32, patch_size=8)
GRID = [[32, 64], [64, 32], [64, 64]]  # anyres: at most 2x2 tiles of 32 px


def llava_next():
    from transformers import (LlavaNextConfig, LlavaNextForConditionalGeneration, LlavaNextImageProcessorPil,
                              LlavaNextProcessor)

    tok = tokenizer(["<image>"], unk="<unk>", named={"image_token": "<image>"}, add_bos=True)
    image = LlavaNextImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32},
                                       image_grid_pinpoints=GRID)
    proc = LlavaNextProcessor(image_processor=image, tokenizer=tok, patch_size=8,
                              vision_feature_select_strategy="default", num_additional_image_tokens=1,
                              chat_template=LLAVA_NEXT_TEMPLATE)
    cfg = LlavaNextConfig(vision_config=CLIP_32, text_config=text_cfg("mistral", tok),
                          image_token_id=ids(tok, "<image>")[0], image_grid_pinpoints=GRID, image_seq_length=16,
                          vision_feature_layer=-1, vision_feature_select_strategy="default")
    return seeded(LlavaNextForConditionalGeneration, cfg, tok), proc


ONEVISION_TEMPLATE = (  # llava-hf/llava-onevision-qwen2-*-ov-hf: every image before the text of its turn
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + ' '}}{# Render all images first #}{% for content "
    "in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>' }}{% endfor %}{# Render all video "
    "then #}{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>' }}{% endfor %}"
    "{# Render all text next #}{% if message['role'] != 'assistant' %}{% for content in message['content'] | "
    "selectattr('type', 'equalto', 'text') %}{{ '\n' + content['text'] }}{% endfor %}{% else %}{% for content in "
    "message['content'] | selectattr('type', 'equalto', 'text') %}{% generation %}{{ '\n' + content['text'] }}"
    "{% endgeneration %}{% endfor %}{% endif %}{{'<|im_end|>'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}")


def llava_onevision():
    from transformers import (LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration,
                              LlavaOnevisionImageProcessorPil, LlavaOnevisionProcessor)

    tok = tokenizer(["<|im_start|>", "<|im_end|>", "<image>", "<video>"], bos=None, eos="<|im_end|>",
                    pad="<|endoftext|>", named={"image_token": "<image>", "video_token": "<video>"})
    image = LlavaOnevisionImageProcessorPil(size={"height": 32, "width": 32}, image_grid_pinpoints=GRID)
    proc = processor(LlavaOnevisionProcessor, image_processor=image, tokenizer=tok, num_image_tokens=16,
                     vision_feature_select_strategy="full", chat_template=ONEVISION_TEMPLATE)
    cfg = LlavaOnevisionConfig(vision_config=SIGLIP_32, text_config=text_cfg("qwen2", tok),
                               image_token_id=ids(tok, "<image>")[0], video_token_id=ids(tok, "<video>")[0],
                               image_grid_pinpoints=GRID, vision_feature_layer=-1,
                               vision_feature_select_strategy="full")
    return seeded(LlavaOnevisionForConditionalGeneration, cfg, tok), proc


# ---------------------------------------------------------------- Idefics3, SmolVLM / SmolVLM2
IDEFICS3_TEMPLATE = (  # HuggingFaceM4/Idefics3-8B-Llama3 and HuggingFaceTB/SmolVLM(2)-*-Instruct
    "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}{% if message['content'][0]['type'] == "
    "'image' %}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' %}"
    "{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}")
IDEFICS_SPECIAL = ["<|im_start|>", "<end_of_utterance>", "<fake_token_around_image>", "<image>", "<global-img>"]


def _idefics3_parts(image_cls):
    tok = tokenizer(IDEFICS_SPECIAL, bos="<|im_start|>", eos="<end_of_utterance>", pad="<|endoftext|>",
                    named={"image_token": "<image>", "fake_image_token": "<fake_token_around_image>",
                           "global_image_token": "<global-img>", "end_of_utterance_token": "<end_of_utterance>"})
    # images resized to a 64 px long side, split into 32 px tiles plus a 32 px global view
    image = image_cls(size={"longest_edge": 64}, max_image_size={"longest_edge": 32}, do_image_splitting=True)
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=32,
                  patch_size=8)
    return tok, image, vision


def idefics3():
    from transformers import (Idefics3Config, Idefics3ForConditionalGeneration, Idefics3ImageProcessorPil,
                              Idefics3Processor)

    tok, image, vision = _idefics3_parts(Idefics3ImageProcessorPil)
    proc = Idefics3Processor(image_processor=image, tokenizer=tok, image_seq_len=4, chat_template=IDEFICS3_TEMPLATE)
    cfg = Idefics3Config(vision_config=vision, text_config=text_cfg("llama", tok), scale_factor=2,
                         image_token_id=ids(tok, "<image>")[0])
    return seeded(Idefics3ForConditionalGeneration, cfg, tok), proc


def smolvlm():
    from transformers import SmolVLMConfig, SmolVLMForConditionalGeneration, SmolVLMImageProcessorPil, SmolVLMProcessor

    tok, image, vision = _idefics3_parts(SmolVLMImageProcessorPil)
    proc = processor(SmolVLMProcessor, image_processor=image, tokenizer=tok, image_seq_len=4,
                     chat_template=IDEFICS3_TEMPLATE)
    cfg = SmolVLMConfig(vision_config=vision, text_config=text_cfg("llama", tok), scale_factor=2,
                        image_token_id=ids(tok, "<image>")[0])
    return seeded(SmolVLMForConditionalGeneration, cfg, tok), proc


# ---------------------------------------------------------------- Gemma 3, PaliGemma 2
GEMMA3_TEMPLATE = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
"""  # google/gemma-3-*-it: the assistant is "model", a system turn joins the first user turn


def gemma3():
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3ImageProcessorPil, Gemma3Processor

    tok = tokenizer(["<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>", "<image_soft_token>"],
                    bos="<bos>", eos="<end_of_turn>",
                    named={"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>",
                           "image_token": "<image_soft_token>"})
    image = Gemma3ImageProcessorPil(size={"height": 32, "width": 32})
    proc = Gemma3Processor(image_processor=image, tokenizer=tok, image_seq_length=4, chat_template=GEMMA3_TEMPLATE)
    boi, eoi, soft = ids(tok, "<start_of_image>", "<end_of_image>", "<image_soft_token>")
    cfg = Gemma3Config(text_config=text_cfg("gemma3_text", tok, sliding_window=16, layer_types=[
                           "sliding_attention", "full_attention"]),
                       vision_config=SIGLIP_32, mm_tokens_per_image=4, boi_token_index=boi, eoi_token_index=eoi,
                       image_token_index=soft)
    return seeded(Gemma3ForConditionalGeneration, cfg, tok), proc


def paligemma():
    from transformers import (PaliGemmaConfig, PaliGemmaForConditionalGeneration, PaliGemmaProcessor,
                              SiglipImageProcessorPil)

    tok = tokenizer(["<image>"], bos="<bos>", eos="<eos>", named={"image_token": "<image>"})
    image = SiglipImageProcessorPil(size={"height": 32, "width": 32})
    image.image_seq_length = 16  # (32 / 8) ** 2 patches, each one image token
    proc = PaliGemmaProcessor(image_processor=image, tokenizer=tok)  # no chat template: PaliGemma has none
    cfg = PaliGemmaConfig(vision_config=dict(SIGLIP_32, projection_dim=64), text_config=text_cfg("gemma2", tok),
                          image_token_index=ids(tok, "<image>")[0], projection_dim=64)
    return seeded(PaliGemmaForConditionalGeneration, cfg, tok), proc


# ---------------------------------------------------------------- Llama-3.2-Vision
MLLAMA_TEMPLATE = (  # Llama-3.2-Vision, as transformers' tests copy it (without the hub's tool-calling preamble)
    "{% for message in messages %}{% if loop.index0 == 0 %}{{ bos_token }}{% endif %}{{ '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\n\n' }}{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' %}{{ '<|image|>' }}"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}{{ '<|eot_id|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")


def mllama():
    from transformers import MllamaConfig, MllamaForConditionalGeneration, MllamaImageProcessorPil, MllamaProcessor

    tok = tokenizer(["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|image|>", "<|python_tag|>"],
                    bos="<|begin_of_text|>", eos="<|eot_id|>", pad="<|finetune_right_pad_id|>",
                    named={"image_token": "<|image|>"})
    image = MllamaImageProcessorPil(size={"height": 28, "width": 28}, max_image_tiles=2)
    proc = MllamaProcessor(image_processor=image, tokenizer=tok, chat_template=MLLAMA_TEMPLATE)
    cfg = MllamaConfig(
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_global_layers=1,
                           attention_heads=2, image_size=28, patch_size=14, max_num_tiles=2,
                           intermediate_layers_indices=[0], vision_output_dim=64,
                           supported_aspect_ratios=[[1, 1], [1, 2], [2, 1]]),
        text_config=text_cfg("mllama_text_model", tok, cross_attention_layers=[1], rope_scaling=None),
        image_token_index=ids(tok, "<|image|>")[0])
    return seeded(MllamaForConditionalGeneration, cfg, tok), proc


TINY_VLMS: dict[str, TinyVLM] = {t.model_type: t for t in [
    TinyVLM("qwen2_vl", qwen2_vl, "<|im_start|>assistant\n", prompt="qwen2_vl"),
    TinyVLM("qwen2_5_vl", qwen2_5_vl, "<|im_start|>assistant\n", prompt="qwen2_vl"),
    TinyVLM("qwen3_vl", qwen3_vl, "<|im_start|>assistant\n", prompt="qwen2_vl"),
    TinyVLM("qwen3_vl_moe", qwen3_vl_moe, "<|im_start|>assistant\n", prompt="qwen2_vl"),
    TinyVLM("internvl", internvl, "<|im_start|>assistant\n", prompt="internvl"),
    TinyVLM("llava", llava, "ASSISTANT:"),
    TinyVLM("llava_next", llava_next, "ASSISTANT:"),
    TinyVLM("llava_onevision", llava_onevision, "<|im_start|>assistant\n"),
    TinyVLM("idefics3", idefics3, "Assistant:"),
    TinyVLM("smolvlm", smolvlm, "Assistant:"),
    TinyVLM("gemma3", gemma3, "<start_of_turn>model\n"),
    TinyVLM("paligemma", paligemma, None),
    TinyVLM("mllama", mllama, "<|start_header_id|>assistant<|end_header_id|>\n\n"),
]}


class _NoVideoProcessor(dict):
    """Stands in for a missing video processor while a processor is saved (written as {}, then dropped)."""
    _auto_class = None


def save(model_type: str, out) -> None:
    import json
    from pathlib import Path

    model, proc = TINY_VLMS[model_type].build()
    model.save_pretrained(out)
    if type(getattr(proc, "video_processor", None)).__name__ == "NoVideoProcessor":
        proc.video_processor = _NoVideoProcessor()
        proc.save_pretrained(out)
        settings = Path(out) / "processor_config.json"
        saved = json.loads(settings.read_text())
        saved.pop("video_processor", None)
        settings.write_text(json.dumps(saved, indent=2))
    else:
        proc.save_pretrained(out)
