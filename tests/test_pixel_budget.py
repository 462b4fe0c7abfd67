"""Qwen-style pixel budgets (min_pixels / max_pixels, upstream's Qwen2VLChat settings) through
TransformersVLM on the tiny qwen2_vl checkpoint: the image token count follows Qwen's smart_resize
for the configured budget, OCRBench alone gets upstream's 10x10-token floor, and batching keeps answers."""
from __future__ import annotations

import math

import pytest
from PIL import Image

from tests.test_tiny_vlms import tiny_vlm_path  # noqa: F401  (the cached tiny checkpoints)
from vlmeval_steps.models.transformers_vlm import TransformersVLM

F = 28  # qwen2_vl: patch 14, merge 2
UPSTREAM = dict(min_pixels=1280 * 28 * 28, max_pixels=16384 * 28 * 28)  # vlmeval/config.py, Qwen2-VL entries


def smart_resize(h: int, w: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """Qwen's formula (qwen_vl_utils): sides multiples of factor, area within [min_pixels, max_pixels]."""
    hb, wb = max(factor, round(h / factor) * factor), max(factor, round(w / factor) * factor)
    if hb * wb > max_pixels:
        beta = math.sqrt(h * w / max_pixels)
        hb = max(factor, math.floor(h / beta / factor) * factor)
        wb = max(factor, math.floor(w / beta / factor) * factor)
    elif hb * wb < min_pixels:
        beta = math.sqrt(min_pixels / (h * w))
        hb, wb = math.ceil(h * beta / factor) * factor, math.ceil(w * beta / factor) * factor
    return hb, wb


def expected_tokens(size: tuple[int, int], min_pixels: int, max_pixels: int) -> int:
    w, h = size
    hb, wb = smart_resize(h, w, F, min_pixels, max_pixels)
    return (hb // F) * (wb // F)  # one token per merged 2x2 patch


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("pixels")
    out = {}
    for name, size in (("small", (60, 40)), ("large", (700, 300))):
        Image.new("RGB", size, (200, 40, 40)).save(folder / f"{name}.png")
        out[name] = str(folder / f"{name}.png")
    return out


def _message(path: str) -> list[dict]:
    return [dict(type="image", value=path), dict(type="text", value="What is shown?")]


def _n_image_tokens(model, path, dataset=None) -> int:
    inputs = model.inputs([_message(path)], dataset)
    return (inputs["input_ids"] == model.model.config.image_token_id).sum().item()


def test_upstream_budgets_set_the_image_token_count(tiny_vlm_path, pictures):  # noqa: F811
    path = str(tiny_vlm_path("qwen2_vl"))
    plain = TransformersVLM(path, device="cpu", dtype="float32", max_new_tokens=3)
    own = plain.processor.image_processor.size
    budget = TransformersVLM(path, device="cpu", dtype="float32", max_new_tokens=3, **UPSTREAM)
    for name in ("small", "large"):
        size = Image.open(pictures[name]).size
        default = expected_tokens(size, own["shortest_edge"], own["longest_edge"])
        assert _n_image_tokens(plain, pictures[name]) == default
        upstream = expected_tokens(size, **UPSTREAM)
        assert upstream >= 1280 > default  # the floor enlarges both pictures
        assert _n_image_tokens(budget, pictures[name]) == upstream
    # a cap: only max_pixels set; the processor's own floor stays
    capped = TransformersVLM(path, device="cpu", dtype="float32", max_new_tokens=3, max_pixels=8 * F * F)
    size = Image.open(pictures["large"]).size
    assert _n_image_tokens(capped, pictures["large"]) == expected_tokens(size, own["shortest_edge"], 8 * F * F) <= 8


def test_the_ocrbench_floor_applies_to_ocrbench_only(tiny_vlm_path, pictures):  # noqa: F811
    path = str(tiny_vlm_path("qwen2_vl"))
    model = TransformersVLM(path, device="cpu", dtype="float32", max_new_tokens=3,
                            min_pixels=4 * F * F, max_pixels=400 * F * F)
    size = Image.open(pictures["small"]).size
    other = expected_tokens(size, 4 * F * F, 400 * F * F)
    ocr = expected_tokens(size, 10 * 10 * F * F, 400 * F * F)  # upstream: min_pixels = 10*10*28*28, max kept
    assert ocr >= 100 > other
    assert _n_image_tokens(model, pictures["small"], "MMBench_DEV_EN") == other
    assert _n_image_tokens(model, pictures["small"]) == other
    assert _n_image_tokens(model, pictures["small"], "OCRBench") == ocr


def test_batch_one_and_four_answer_alike_under_a_budget(tiny_vlm_path, pictures):  # noqa: F811
    path = str(tiny_vlm_path("qwen2_vl"))
    model = TransformersVLM(path, device="cpu", dtype="float32", max_new_tokens=4,
                            min_pixels=6 * F * F, max_pixels=60 * F * F)
    messages = [_message(pictures["small"]), _message(pictures["large"]),
                [dict(type="text", value="Two:"), dict(type="image", value=pictures["large"]),
                 dict(type="image", value=pictures["small"])], _message(pictures["small"])]
    for dataset in ("OCRBench", "MMStar"):
        alone = [model.generate_batch([m], dataset=dataset)[0] for m in messages]
        assert model.generate_batch(messages, dataset=dataset) == alone


def test_pixel_budgets_need_a_pixel_budget_processor(tiny_vlm_path):  # noqa: F811
    with pytest.raises(ValueError, match="min_pixels / max_pixels need an image processor"):
        TransformersVLM(str(tiny_vlm_path("llava")), device="cpu", dtype="float32", min_pixels=1000)


NAME_MODEL = '''
from vlmeval_steps.models import BaseModel


class NameModel(BaseModel):
    def generate_inner(self, message, dataset=None):
        return str(dataset)
'''


def test_the_model_hears_the_benchmark_name_without_the_limit(tmp_path):
    """`OCRBench_limit2` is asked as `OCRBench`, so name-keyed behaviour (the OCRBench pixel floor) holds in
    limited runs too: a real `vlmeval-steps infer` process with a model that answers the name it is given."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "name_model.py").write_text(NAME_MODEL)
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"index": i, "digest": f"d{i}", "message": [
        {"type": "text", "value": f"question {i}"}]}) + "\n" for i in range(2)))
    repo = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(repo)]))
    out = tmp_path / "shard.jsonl"
    subprocess.run([sys.executable, "-m", "vlmeval_steps", "infer", "--prompts", str(prompts), "--model", "m",
                    "--model-spec", json.dumps({"class": "name_model:NameModel"}), "--dataset", "OCRBench_limit2",
                    "--shard", "0", "--num-shards", "1", "--cache-dir", str(tmp_path / "cache"), "--out", str(out)],
                   env=env, check=True, capture_output=True, timeout=120)
    assert {json.loads(line)["prediction"] for line in out.read_text().splitlines()} == {"OCRBench"}
