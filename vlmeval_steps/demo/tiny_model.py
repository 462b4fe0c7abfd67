"""A tiny LLaVA-style model (CLIP-ViT + Llama), built and trained offline with a fixed seed.

It learns to name the colour or the shape in the demo's images when asked in upstream's MCQ
prompt format, so the demo scores well above chance only if the pixels really reach it.
Training images are drawn with seeds the benchmark never uses.
"""
from __future__ import annotations

import logging
import os
import random
import sys

from .shapes import COLORS, HINT, SHAPES, draw, sample_question

log = logging.getLogger(__name__)

IMG, PATCH = 64, 16  # 64x64 px -> 16 patches -> 16 image tokens
TRAIN_SEED = 0
#: what makes training bit-identical on every x86-64 machine (with the same torch): one thread (a
#: reduction split over threads adds in another order), MKL's conditional numerical reproducibility
#: (the same code path on every CPU), ATen and oneDNN kernels pinned to AVX2 (an AVX-512 machine would
#: otherwise sum in wider vectors). Read when torch starts, so they are set before it is imported.
REPRODUCIBLE_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MKL_CBWR": "COMPATIBLE",
                    "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "PYTHONHASHSEED": "0"}
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ '<|' + m['role'] + '|>' }}"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<image>{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}</s>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def _prompt(question: str, options: dict, hint: str | None) -> str:
    from ..datasets.mcq import mcq_prompt_text

    return mcq_prompt_text(dict(question=question, hint=hint, **options))


def build(out: str):
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (CLIPImageProcessorPil, LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor,
                              PreTrainedTokenizerFast)

    rng = random.Random(TRAIN_SEED)
    corpus = []
    for _ in range(200):
        kind = rng.choice(["color", "shape"])
        truth = rng.choice(list(COLORS) if kind == "color" else SHAPES)
        q, opts, _ = sample_question(kind, truth, rng)
        corpus.append(_prompt(q, opts, HINT if rng.random() < 0.3 else None) + " " + truth)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=400, show_progress=False,
        special_tokens=["<pad>", "<s>", "</s>", "<image>", "<|user|>", "<|assistant|>", "<|system|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                  extra_special_tokens={"image_token": "<image>"})
    proc = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(size={"shortest_edge": IMG}, crop_size={"height": IMG, "width": IMG}),
        tokenizer=tok, patch_size=PATCH, vision_feature_select_strategy="full", num_additional_image_tokens=1,
        chat_template=CHAT_TEMPLATE)
    cfg = LlavaConfig(
        vision_config=dict(model_type="clip_vision_model", hidden_size=64, intermediate_size=128, num_hidden_layers=4,
                           num_attention_heads=4, image_size=IMG, patch_size=PATCH, projection_dim=64),
        text_config=dict(model_type="llama", vocab_size=len(tok), hidden_size=96, intermediate_size=192,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id),
        image_token_index=tok.convert_tokens_to_ids("<image>"), image_seq_length=(IMG // PATCH) ** 2 + 1,
        vision_feature_layer=-1, vision_feature_select_strategy="full")
    torch.manual_seed(TRAIN_SEED)
    model = LlavaForConditionalGeneration(cfg).eval()
    model.generation_config.pad_token_id = tok.pad_token_id
    return model, proc


def _example(rng: random.Random):
    shape, color = rng.choice(SHAPES), rng.choice(list(COLORS))
    kind = rng.choice(["color", "shape"])
    truth = color if kind == "color" else shape
    q, opts, _ = sample_question(kind, truth, rng)
    text = _prompt(q, opts, HINT if rng.random() < 0.3 else None)
    user = [{"role": "user", "content": [{"type": "image", "image": draw(shape, color, rng)},
                                         {"type": "text", "text": text}]}]
    return user, truth


def pretrain_vision(model, proc, steps: int = 500, batch: int = 32, lr: float = 1e-3, seed: int = TRAIN_SEED):
    """Stage 1, like CLIP pre-training in miniature: the vision tower learns shape and colour
    from labelled images, so stage 2 only has to connect it to the language model."""
    import torch

    rng = random.Random(seed + 2)
    vision = model.model.vision_tower
    hidden = vision.config.hidden_size
    heads = torch.nn.ModuleDict({"shape": torch.nn.Linear(hidden, len(SHAPES)),
                                 "color": torch.nn.Linear(hidden, len(COLORS))})
    opt = torch.optim.AdamW(list(vision.parameters()) + list(heads.parameters()), lr=lr)
    colors = list(COLORS)
    vision.train()
    for step in range(steps):
        ys = [rng.randrange(len(SHAPES)) for _ in range(batch)]
        yc = [rng.randrange(len(colors)) for _ in range(batch)]
        images = [draw(SHAPES[s], colors[c], rng) for s, c in zip(ys, yc)]
        pooled = vision(pixel_values=proc.image_processor(images, return_tensors="pt")["pixel_values"]).pooler_output
        loss = (torch.nn.functional.cross_entropy(heads["shape"](pooled), torch.tensor(ys))
                + torch.nn.functional.cross_entropy(heads["color"](pooled), torch.tensor(yc)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            log.info("vision pre-training step %d/%d loss %.4f", step + 1, steps, loss.item())


def train(model, proc, steps: int = 600, batch: int = 16, lr: float = 3e-3, seed: int = TRAIN_SEED):
    import torch

    rng = random.Random(seed + 1)  # the benchmark uses seed 2024; training never sees its images
    torch.manual_seed(seed)
    proc.tokenizer.padding_side = "right"  # the label mask below assumes the prompt starts at 0
    # the vision tower stays frozen, as in LLaVA's instruction tuning
    model.model.vision_tower.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    model.train()
    for step in range(steps):
        examples = [_example(rng) for _ in range(batch)]
        convs = [u + [{"role": "assistant", "content": [{"type": "text", "text": t}]}] for u, t in examples]
        b = proc.apply_chat_template(convs, tokenize=True, return_dict=True, return_tensors="pt",
                                     processor_kwargs={"padding": True})
        labels = b["input_ids"].clone()
        for i, (u, _) in enumerate(examples):  # loss on the answer tokens (+ </s>) only
            n_prompt = proc.apply_chat_template(u, add_generation_prompt=True, tokenize=True, return_dict=True,
                                                return_tensors="pt")["input_ids"].shape[1]
            labels[i, :n_prompt] = -100
        labels[b["attention_mask"] == 0] = -100
        loss = model(**b, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0 or step == steps - 1:
            log.info("train step %d/%d loss %.4f", step + 1, steps, loss.item())
    model.eval()
    return model


def reproducible_torch():
    """torch, set up so that training gives the same bits on any machine (REPRODUCIBLE_ENV)."""
    if "torch" in sys.modules and any(os.environ.get(k) != v for k, v in REPRODUCIBLE_ENV.items()):
        log.warning("torch was imported before the demo model's settings were made: the weights may differ "
                    "in their last bits from another machine's. Train with `vlmeval-steps demo-model`.")
    os.environ.update(REPRODUCIBLE_ENV)
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.backends.mkldnn.enabled = False  # convolutions through MKL's reproducible path instead
    random.seed(TRAIN_SEED)
    torch.manual_seed(TRAIN_SEED)
    return torch


def build_and_train(out: str, steps: int = 600) -> None:
    reproducible_torch()
    model, proc = build(out)
    pretrain_vision(model, proc)
    train(model, proc, steps=steps)
    model.save_pretrained(out)
    proc.save_pretrained(out)
