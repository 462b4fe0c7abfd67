"""Video benchmarks through real Snakemake runs: targets named by setting, shared frames, what reruns."""
from __future__ import annotations

import json

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


ONE_SHARD = {"class": "TransformersVLM", "model_path": "resources/models/tiny-llava-demo", "build": "demo_model",
             "device": "cpu", "dtype": "float32", "max_new_tokens": 8, "do_sample": False}


def _video_config(wf, **extra):
    cfg = wf.config()
    cfg.update(datasets=["DemoVideo"], limit=4, custom_models={"TinyLLaVA-Demo": ONE_SHARD}, **extra)
    wf.write_config(cfg)


def test_demo_video_scores_and_a_new_setting_reruns_only_its_frames_and_what_follows(workflow):
    wf = workflow
    _video_config(wf)
    wf.snakemake("results/TinyLLaVA-Demo/DemoVideo_8frame_limit4_acc.csv")
    acc = pd.read_csv(wf.root / "results/TinyLLaVA-Demo/DemoVideo_8frame_limit4_acc.csv")
    assert acc.loc[0, "Overall"] >= 0.75   # four choices: chance is 0.25
    # per-row outcomes, resampled by video: the four questions are about two clips
    rows = pd.read_csv(wf.root / "results/TinyLLaVA-Demo/DemoVideo_8frame_limit4_rows.csv", dtype=str)
    assert len(rows) == 4 and set(rows["unit"]) == {"videos/clip001.mp4", "videos/clip002.mp4"}
    frames = json.loads((wf.root / "resources/frames/DemoVideo/8frame/frames-limit4.json").read_text())
    assert set(frames) == {"clip001", "clip002"} and all(len(r["indices"]) == 8 for r in frames.values())
    prompt = json.loads((wf.root / "resources/prompts/DemoVideo_8frame_limit4/default.jsonl").open().readline())
    assert [m["type"] for m in prompt["message"]] == ["image"] * 8 + ["text"]

    # the default target names the config's setting; nothing is left to do for it
    assert "DemoVideo_8frame_limit4" in " ".join(wf.snakemake("-n").stdout.split())
    assert wf.planned("results/TinyLLaVA-Demo/DemoVideo_8frame_limit4_acc.csv") == {}

    # another setting: its own frames, prompts, answers and score; the download and the model stay
    _video_config(wf, nframe=4)
    planned = wf.planned()
    assert planned.get("frames") == 1 and planned.get("build_video_prompts") == 1
    assert planned.get("score") == 1 and "video_fetch" not in planned and "demo_model" not in planned
    wf.snakemake("results/TinyLLaVA-Demo/DemoVideo_4frame_limit4_acc.csv")
    four = json.loads((wf.root / "resources/frames/DemoVideo/4frame/frames-limit4.json").read_text())
    assert four["clip001"]["indices"] == [int(i * 24 / 5) for i in range(1, 5)]
    # settings live side by side: back to 8 frames, nothing of the first run is redone
    _video_config(wf, nframe=8)
    assert not {"frames", "build_video_prompts", "infer", "merge", "judge", "score"} & set(wf.planned())

    # fps takes precedence over nframe (upstream's order), and the run says so
    _video_config(wf, nframe=8, fps=1)
    proc = wf.snakemake("-n")
    assert "fps takes precedence" in proc.stderr and "DemoVideo_1fps_limit4" in proc.stdout


def test_a_missing_video_stops_frames_naming_row_and_file_and_keeps_the_rest(workflow, tmp_path):
    import shutil

    wf = workflow
    root = tmp_path / "DemoVideoCopy"
    shutil.copytree(wf.root / "demo" / "DemoVideo", root)
    (root / "videos" / "clip002.mp4").unlink()
    _video_config(wf, video_roots={"DemoVideo": str(root)})
    proc = wf.snakemake("results/TinyLLaVA-Demo/DemoVideo_8frame_limit4_acc.csv", check=False)
    assert proc.returncode != 0
    log = (wf.root / "logs/frames/DemoVideo/8frame-limit4.log").read_text()
    assert "DemoVideo: row index=2" in log and "clip002.mp4: file not found" in log
    assert (wf.root / "resources/frames/DemoVideo/8frame/clip001/clip.json").exists()
