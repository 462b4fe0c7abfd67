"""Every architecture in tests/tiny_vlms.py runs through TransformersVLM: its chat template and image
tokens, one and several images, batch 1 and 4 answering alike, dtype and device, and its family's
prompt builder on an MCQ row. The tiny checkpoints are built once and cached (like the demo model)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.benchdata import info, write_benchmark
from tests.tiny_vlms import TINY_VLMS, save
from vlmeval_steps.datasets.images import extract_images
from vlmeval_steps.datasets.registry import build_dataset
from vlmeval_steps.datasets.tsv import read_meta
from vlmeval_steps.models.transformers_vlm import PROVEN_ARCHITECTURES, TransformersVLM
from vlmeval_steps.prompts import build_messages, prompt_id_for

HERE = Path(__file__).resolve().parent
ARCHITECTURES = sorted(TINY_VLMS)
TILED_ONLY_ALONE = {"llava_onevision"}  # one image is tiled (anyres), each of several is not: fewer tokens


def _cache_key() -> str:
    import hashlib

    import transformers

    h = hashlib.sha256((HERE / "tiny_vlms.py").read_bytes())
    h.update(transformers.__version__.encode())
    return h.hexdigest()[:12]


@pytest.fixture(scope="session")
def tiny_vlm_path():
    """model_type -> a saved tiny checkpoint, built on first use and kept in the test cache folder
    ($VLMEVAL_STEPS_TEST_CACHE, default ~/.cache/vlmeval-steps-tests) until tiny_vlms.py changes."""
    from filelock import FileLock

    cache = Path(os.environ.get("VLMEVAL_STEPS_TEST_CACHE", Path.home() / ".cache" / "vlmeval-steps-tests"))
    root = cache / f"tiny-vlms-{_cache_key()}"
    root.mkdir(parents=True, exist_ok=True)

    def path(model_type: str) -> Path:
        out = root / model_type
        with FileLock(str(out) + ".lock"):  # parallel test sessions build it once
            if not (out / "config.json").exists():
                tmp = out.with_name(out.name + ".tmp")
                shutil.rmtree(tmp, ignore_errors=True)
                save(model_type, tmp)
                tmp.rename(out)
        return out

    return path


def test_the_adapter_names_exactly_the_architectures_tested_here():
    assert sorted(PROVEN_ARCHITECTURES) == ARCHITECTURES


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> list[str]:
    """Two PNGs of other sizes and aspect ratios (tiling and resizing both happen)."""
    folder = tmp_path_factory.mktemp("images")
    paths = []
    for name, size, colour in (("wide", (60, 40), (220, 30, 30)), ("tall", (30, 70), (30, 30, 220))):
        Image.new("RGB", size, colour).save(folder / f"{name}.png")
        paths.append(str(folder / f"{name}.png"))
    return paths


def _messages(images):
    wide, tall = images
    text = lambda v: dict(type="text", value=v)  # noqa: E731
    image = lambda v: dict(type="image", value=v)  # noqa: E731
    return [[image(wide), text("Which colour is the shape?")],
            [text("Compare the two pictures."), image(wide), image(tall)],
            [image(tall), text("Question: Which shape is shown?\nOptions:\nA. circle\nB. square\nAnswer with the "
                               "option's letter.")],
            [image(tall), text("Hi")]]


def _image_token_id(model) -> int:
    cfg = model.config
    token = getattr(cfg, "image_token_id", None)
    return token if token is not None else cfg.image_token_index


@pytest.mark.parametrize("model_type", ARCHITECTURES)
def test_the_architecture_runs_through_transformers_vlm(model_type, tiny_vlm_path, images):
    import torch

    path = tiny_vlm_path(model_type)
    model = TransformersVLM(str(path), device="cpu", dtype="float32", max_new_tokens=5)
    assert model.model.config.model_type == model_type
    messages = _messages(images)

    # the chat template opens the model's turn; the prompt text and the image tokens are in the input
    one, two = (model.inputs([m]) for m in messages[:2])
    rendered = model.processor.tokenizer.decode(one["input_ids"][0])
    assert "Which colour is the shape?" in rendered
    if TINY_VLMS[model_type].reply is not None:
        assert rendered.endswith(TINY_VLMS[model_type].reply), rendered[-80:]
    image_token = _image_token_id(model.model)
    n_one, n_two = ((x["input_ids"] == image_token).sum().item() for x in (one, two))
    assert n_one > 0 and n_two > 0, (n_one, n_two)
    if model_type not in TILED_ONLY_ALONE:
        assert n_one < n_two, (n_one, n_two)  # several images: each adds its tokens
    assert one["pixel_values"].numel() > 0

    # batch size 4 (left-padded, prompts of other lengths and image counts) answers as batch size 1
    alone = [model.generate_batch([m])[0] for m in messages]
    assert model.generate_batch(messages) == alone
    assert any(alone), alone  # an answer of some text, not only end-of-sequence

    # bfloat16 weights, device "auto" (the CPU here)
    half = TransformersVLM(str(path), device="auto", dtype="bfloat16", max_new_tokens=5)
    assert half.model.dtype == torch.bfloat16
    assert half.model.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert all(isinstance(a, str) for a in half.generate_batch(messages[:2]))


@pytest.fixture(scope="module")
def mcq_row(tmp_path_factory):
    """An MMStar-style MCQ row, its image dumped as the build_prompts step does."""
    tmp = tmp_path_factory.mktemp("mcq")
    tsv = write_benchmark(tmp / "MMStar.tsv", [dict(index=1, hint="A hint.", question="Which shape?", A="circle",
                                                     B="square", answer="A", category="c", l2_category="l")])
    meta = read_meta(tsv)
    dataset = build_dataset(info("MMStar"), images=extract_images(tsv, meta, tmp / "img"))
    return dataset, meta.iloc[0].to_dict()


@pytest.mark.parametrize("model_type", ARCHITECTURES)
def test_the_family_prompt_builder_feeds_the_model(model_type, tiny_vlm_path, mcq_row):
    dataset, line = mcq_row
    builder = TINY_VLMS[model_type].prompt
    message = build_messages(prompt_id_for(builder, dataset.dataset_name, dataset.TYPE), dataset, line)
    kinds = [item["type"] for item in message]
    # Qwen puts the image first, InternVL the text first (each as upstream's build_prompt)
    assert kinds == {"qwen2_vl": ["image", "text"], "internvl": ["text", "image"]}.get(builder, kinds)
    model = TransformersVLM(str(tiny_vlm_path(model_type)), device="cpu", dtype="float32", max_new_tokens=3)
    rendered = model.processor.tokenizer.decode(model.inputs([message])["input_ids"][0])
    assert "Which shape?" in rendered and "square" in rendered
    assert isinstance(model.generate(message, dataset=dataset.dataset_name), str)


def test_a_hub_layout_checkpoint_loads_without_torchvision(tiny_vlm_path, images, tmp_path):
    """Qwen2-VL as the hub has it (preprocessor_config.json naming the processor, chat_template.json, no
    processor_config.json) loads with an images-only processor when torchvision is missing."""
    import json

    from transformers.utils import is_torchvision_available

    if is_torchvision_available():
        pytest.skip("torchvision is installed: AutoProcessor loads the video processor itself")
    ours = tiny_vlm_path("qwen2_vl")
    hub = tmp_path / "Qwen2-VL-tiny"
    shutil.copytree(ours, hub)
    settings = json.loads((hub / "processor_config.json").read_text())
    (hub / "processor_config.json").unlink()
    (hub / "preprocessor_config.json").write_text(json.dumps(
        dict(settings["image_processor"], processor_class="Qwen2VLProcessor")))
    (hub / "chat_template.json").write_text(json.dumps({"chat_template": (hub / "chat_template.jinja").read_text()}))
    (hub / "chat_template.jinja").unlink()
    message = _messages(images)[1]
    answers = [TransformersVLM(str(p), device="cpu", dtype="float32", max_new_tokens=5).generate_batch([message])
               for p in (ours, hub)]
    assert answers[0] == answers[1]
    with pytest.raises(ImportError, match="torchvision"):
        TransformersVLM(str(hub), device="cpu", max_new_tokens=5).processor.video_processor()


# One user turn (an image, then "What is shown in this image?") as each family's hub chat template renders it
# (transformers' own processor tests hold these prompts for the hub checkpoints)
Q = "What is shown in this image?"
HUB_PROMPTS = {
    "qwen2_vl": f"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                f"<|vision_start|><|image_pad|><|vision_end|>{Q}<|im_end|>\n<|im_start|>assistant\n",
    "qwen3_vl": f"<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>{Q}<|im_end|>\n<|im_start|>assistant\n",
    "internvl": f"<|im_start|>user\n<IMG_CONTEXT>\n{Q}<|im_end|>\n<|im_start|>assistant\n",
    "llava": f"USER: <image>\n{Q} ASSISTANT:",
    "llava_onevision": f"<|im_start|>user <image>\n{Q}<|im_end|><|im_start|>assistant\n",
    "idefics3": f"<|im_start|>User:<image>{Q}<end_of_utterance>\nAssistant:",
    "gemma3": f"<bos><start_of_turn>user\n<start_of_image>{Q}<end_of_turn>\n<start_of_turn>model\n",
    "mllama": f"<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n<|image|>{Q}<|eot_id|>"
              f"<|start_header_id|>assistant<|end_header_id|>\n\n",
}
HUB_PROMPTS.update(qwen2_5_vl=HUB_PROMPTS["qwen2_vl"], llava_next=HUB_PROMPTS["llava"], smolvlm=HUB_PROMPTS["idefics3"])


@pytest.mark.parametrize("model_type", sorted(HUB_PROMPTS))
def test_the_chat_template_renders_the_hub_checkpoint_prompt(model_type, tiny_vlm_path):
    from vlmeval_steps.models.transformers_vlm import load_processor

    processor = load_processor(str(tiny_vlm_path(model_type)))
    conversation = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": Q}]}]
    assert processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False) == \
        HUB_PROMPTS[model_type]
