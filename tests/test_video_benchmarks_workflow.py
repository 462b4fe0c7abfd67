"""The four video benchmarks end to end through Snakemake, from local folders in their hub layouts
(tests/videodata.py), with the demo model: index, frames, prompts, answers, scores."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from videodata import LAYOUTS

pytestmark = pytest.mark.slow
MODEL = "TinyLLaVA-Demo"


def test_four_layouts_through_the_workflow(workflow, tmp_path):
    wf = workflow
    roots = {}
    for name, make in LAYOUTS.items():
        roots[name] = str(tmp_path / "hub" / name)
        make(tmp_path / "hub" / name)
    cfg = wf.config()
    one_shard = dict(class_="TransformersVLM", model_path="resources/models/tiny-llava-demo", build="demo_model",
                     device="cpu", dtype="float32", max_new_tokens=8, do_sample=False)
    cfg.update(datasets=["MVBench", "MVBench_MP4", "Video-MME"], use_subtitle=True, video_roots=roots,
               custom_models={MODEL: {k.rstrip("_"): v for k, v in one_shard.items()}})  # one infer job each
    wf.write_config(cfg)
    # the configured pairs: Video-MME alone gets _subs (the others have no subtitles)
    from vlmeval_steps.config import all_pairs

    assert [d for _, d in all_pairs(cfg)] == ["MVBench_8frame", "MVBench_MP4_8frame", "Video-MME_8frame_subs"]
    wf.snakemake(*[f"results/{MODEL}/{d}_acc.csv" for _, d in all_pairs(cfg)],
                 f"results/{MODEL}/MMBench-Video_8frame.xlsx")
    for name in ("MVBench_8frame", "MVBench_MP4_8frame", "Video-MME_8frame_subs"):
        acc = pd.read_csv(wf.root / f"results/{MODEL}/{name}_acc.csv")
        preds = pd.read_csv(wf.root / f"results/{MODEL}/{name}.tsv", sep="\t")
        assert len(acc) and preds["prediction"].notna().all(), name
    # MVBench: upstream's system turn and answer prefix; frames per time window
    first = json.loads((wf.root / "resources/prompts/MVBench_8frame/default.jsonl").open().readline())["message"]
    assert first[0].get("role") == "system" and first[-1] == {"type": "text", "value": "Best option:(",
                                                              "role": "assistant"}
    frames = json.loads((wf.root / "resources/frames/MVBench/8frame/frames-all.json").read_text())
    assert any("@" in k for k in frames) and all(len(r["paths"]) == 8 for r in frames.values())
    # Video-MME with subtitles: the subtitle text is in the prompt
    vm = [json.loads(l)["message"] for l in (wf.root / "resources/prompts/Video-MME_8frame_subs/default.jsonl").open()]
    assert any("subtitles" in m["value"] for msg in vm for m in msg if m["type"] == "text")
    # MMBench-Video: inference ran; scoring without an LLM judge stops and says so
    proc = wf.snakemake(f"results/{MODEL}/MMBench-Video_8frame_acc.csv", check=False)
    assert proc.returncode != 0
    assert "LLM judge" in (wf.root / f"logs/judge/{MODEL}/MMBench-Video_8frame.exact_matching.log").read_text()
