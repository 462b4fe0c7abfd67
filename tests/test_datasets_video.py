"""Video benchmark classes against upstream (e8e78f05): index tables built from the hub layouts, frame
indices, prompts, answer extraction and ratings, and bad input. Upstream's formulas and strings are
written out here independently of the package's code."""
from __future__ import annotations

import ast
import hashlib
import json
import logging
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import videodata  # noqa: E402

from vlmeval_steps.datasets.registry import build_dataset, dataset_info  # noqa: E402
from vlmeval_steps.datasets.video.base import Clip, FrameSetting  # noqa: E402
from vlmeval_steps.datasets.video.mmbench_video import parse_grade  # noqa: E402
from vlmeval_steps.datasets.video.mvbench import check_ans  # noqa: E402
from vlmeval_steps.datasets.video.videomme import extract_characters_regex  # noqa: E402
from vlmeval_steps.errors import InputError  # noqa: E402

FAIL = "Failed to obtain answer via API."


def make(name, setting=FrameSetting(nframe=8), frames=None, root=None):
    d = build_dataset(dataset_info(name))
    d.setting, d.frames, d.root = setting, frames or {}, (Path(root) if root else None)
    return d


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """The four hub layouts, built once, each with its index written by write_index."""
    out = {}
    for name, build in videodata.LAYOUTS.items():
        root = tmp_path_factory.mktemp(name.replace("-", "_"))
        spec = build(root)
        table = make(name).write_index(root, root / f"{name}.tsv")
        out[name] = dict(root=root, spec=spec, table=table, tsv=root / f"{name}.tsv")
    return out


# ----- prepare: upstream's generate_tsv -------------------------------------------------------------------
def test_mvbench_index_is_upstreams_table(layouts):
    lay = layouts["MVBench"]
    root = lay["root"]
    # unpack: the zip in video/ extracted there, video/data0613/a/b/* moved to video/a/b/
    assert (root / "video/clevrer/video_validation/video_10000.mp4").is_file()
    assert (root / "video/star/Charades_v1_480/AS001.mp4").is_file()
    assert not any((root / "video/data0613").rglob("*.mp4"))
    tsv = pd.read_csv(lay["tsv"], sep="\t")
    assert list(tsv.columns) == ["task_type", "prefix", "data_type", "bound", "start", "end", "video", "question",
                                 "answer", "candidates", "index"]
    # rows in upstream's task order, then file order; index 0..n-1
    assert list(tsv["task_type"]) == ["Action Sequence", "Action Sequence", "Action Antonym", "Fine-grained Action",
                                      "Object Existence", "Episodic Reasoning"]
    assert list(tsv["index"]) == list(range(6))
    assert list(tsv["prefix"])[4] == "video/clevrer/video_validation/"
    assert list(tsv["data_type"]) == ["video"] * 5 + ["frame"]
    assert list(tsv["bound"]) == [True, True, False, False, False, True]
    assert tsv["start"].tolist()[:2] == [0.5, 2.5] and np.isnan(tsv["start"][2])
    assert tsv["candidates"][0] == "['red', 'green', 'blue', 'yellow']"  # a Python list's repr, as upstream
    # the same folder gives the same bytes (what the md5 check compares)
    again = lay["root"] / "again.tsv"
    make("MVBench").write_index(root, again)
    assert hashlib.md5(again.read_bytes()).hexdigest() == hashlib.md5(lay["tsv"].read_bytes()).hexdigest()


def test_upstream_default_judges():
    from vlmeval_steps.judge.llm import upstream_default_judge

    info = dataset_info("MVBench")
    assert upstream_default_judge("MVBench", info.type) == "chatgpt-0125"  # evaluate()'s own default
    assert upstream_default_judge("MVBench_MP4_8frame", "Video-MCQ") == "chatgpt-0125"
    assert upstream_default_judge("Video-MME", "Video-MCQ") == "gpt-4o-mini"
    assert upstream_default_judge("MMBench-Video", "Video-VQA") == "gpt-4-turbo"


def test_mvbench_mp4_videomme_mmbench_video_indexes(layouts):
    mp4 = pd.read_csv(layouts["MVBench_MP4"]["tsv"], sep="\t")
    assert list(mp4.columns) == ["task_type", "prefix", "video", "question", "answer", "candidates", "index"]
    assert list(mp4["prefix"]) == ["star/Charades_v1_480/", "clevrer/video_validation/", "clevrer/video_validation/"]

    root = layouts["Video-MME"]["root"]
    vm = pd.read_csv(layouts["Video-MME"]["tsv"], sep="\t", dtype={"video": str})
    assert list(vm.columns) == ["index", "video", "video_path", "duration", "domain", "candidates", "sub_category",
                                "task_type", "subtitle_path", "question", "answer"]
    assert list(vm["video"]) == ["001", "002", "003"]
    assert list(vm["video_path"]) == ["./video/001.mp4", "./video/002.mp4", "./video/003.mp4"]
    assert list(vm["subtitle_path"]) == ["./subtitle/001.srt", "./subtitle/002.srt", "./subtitle/003.srt"]
    assert vm["candidates"][0] == "['A. red', 'B. green', 'C. blue', 'D. yellow']"
    # the zips unpack flat (base names only) into video/ and subtitle/
    assert sorted(p.name for p in (root / "video").iterdir()) == ["001.mp4", "002.mp4", "003.mp4"]
    assert sorted(p.name for p in (root / "subtitle").iterdir()) == ["001.srt", "002.srt"]

    root = layouts["MMBench-Video"]["root"]
    assert sorted(p.name for p in (root / "video").iterdir()) == ["vid_a.mp4", "vid_b.mp4"]
    # the hub's TSV is the index: copied byte for byte
    assert layouts["MMBench-Video"]["tsv"].read_bytes() == (root / "MMBench-Video.tsv").read_bytes()


def test_clips(layouts):
    mv = make("MVBench")
    clips = mv.clips(layouts["MVBench"]["table"])
    by_key = {c.key: c for c in clips}
    # two windows of one video are two clips; the frame folder is a clip of kind 'frames'
    assert by_key["video/star/Charades_v1_480/AS001.mp4@0.5-2.0"] == Clip(
        "video/star/Charades_v1_480/AS001.mp4@0.5-2.0", "video/star/Charades_v1_480/AS001.mp4", 0.5, 2.0)
    assert by_key["video/tvqa/frames_fps3_hq/castle_s01e01_seg01_clip_00@0.5-3.5"].kind == "frames"
    assert by_key["video/Moments_in_Time_Raw/videos/fga_1.gif"].start is None
    assert len(clips) == 6
    vm = make("Video-MME")
    assert [(c.key, c.video) for c in vm.clips(layouts["Video-MME"]["table"])] == [
        ("001", "video/001.mp4"), ("002", "video/002.mp4"), ("003", "video/003.mp4")]
    mmbv = make("MMBench-Video")
    assert [c.video for c in mmbv.clips(layouts["MMBench-Video"]["table"])] == ["video/vid_a.mp4", "video/vid_b.mp4"]


# ----- frame indices: upstream's formulas, transcribed ----------------------------------------------------
def up_base_nframe(n_frames, nframe):  # VideoBaseDataset.save_video_frames / VideoMME
    step_size = n_frames / (nframe + 1)
    return [int(i * step_size) for i in range(1, nframe + 1)]


def up_base_fps(n_frames, video_fps, fps):
    total_duration = n_frames / video_fps
    required_frames = int(total_duration * fps)
    step_size = video_fps / fps
    return [int(i * step_size) for i in range(required_frames)]


def up_mvbench_get_index(bound, fps, max_frame, num_segments, first_idx=0):
    if bound:
        start, end = bound[0], bound[1]
    else:
        start, end = -100000, 100000
    start_idx = max(first_idx, round(start * fps))
    end_idx = min(round(end * fps), max_frame)
    seg_size = float(end_idx - start_idx) / num_segments
    return [int(start_idx + (seg_size / 2) + np.round(seg_size * idx)) for idx in range(num_segments)]


def up_mp4_by_frame(max_frame, num_segments):
    seg_size = float(max_frame) / num_segments
    return [int((seg_size / 2) + np.round(seg_size * idx)) for idx in range(num_segments)]


VIDEOS = [(5, 25.0), (16, 8.0), (241, 29.97), (5400, 29.97), (108000, 30.0)]  # short to long (1 h)


@pytest.mark.parametrize("name", ["Video-MME", "MMBench-Video"])
@pytest.mark.parametrize("n_frames,video_fps", VIDEOS)
def test_base_frame_indices(name, n_frames, video_fps):
    clip = Clip("v", "video/v.mp4")
    got8 = make(name, FrameSetting(nframe=8)).frame_indices(clip, n_frames, video_fps)
    assert got8 == up_base_nframe(n_frames, 8)
    assert len(got8) == 8 and all(0 <= i < n_frames for i in got8)
    got1 = make(name, FrameSetting(fps=1)).frame_indices(clip, n_frames, video_fps)
    assert got1 == up_base_fps(n_frames, video_fps, 1)
    assert make(name, FrameSetting(fps=0.5)).frame_indices(clip, n_frames, video_fps) == up_base_fps(
        n_frames, video_fps, 0.5)


@pytest.mark.parametrize("n_frames,video_fps", VIDEOS)
@pytest.mark.parametrize("bound", [None, (0.5, 2.0), (1.0, 1e6), (0.0, 0.3)])
def test_mvbench_frame_indices(n_frames, video_fps, bound):
    mv = make("MVBench", FrameSetting(nframe=8))
    clip = Clip("k", "video/x.mp4", *(bound or (None, None)))
    assert mv.frame_indices(clip, n_frames, video_fps) == up_mvbench_get_index(bound, video_fps, n_frames - 1, 8)
    # a frame folder: max_frame = its entry count, 3 fps, indices from 1 (files 00001.jpg ...)
    folder = Clip("k", "video/tvqa/f", *(bound or (None, None)), kind="frames")
    got = mv.frame_indices(folder, n_frames, 0.0)  # a folder has no rate: 3 fps whatever the decoder says
    assert got == up_mvbench_get_index(bound, 3, n_frames, 8, first_idx=1)
    assert mv.folder_frame_name(got[0]) == f"{got[0]:05d}.jpg"


def test_mvbench_bound_example():
    # worked by hand: 40 frames at 8 fps, window 0.5 s - 2.0 s -> frames 4..16, 8 segments of 1.5
    mv = make("MVBench", FrameSetting(nframe=8))
    assert mv.frame_indices(Clip("k", "v.mp4", 0.5, 2.0), 40, 8.0) == [4, 6, 7, 8, 10, 12, 13, 14]
    with pytest.raises(InputError, match="MVBench does not support fps setting, please transfer to MVBench_MP4"):
        make("MVBench", FrameSetting(fps=1)).frame_indices(Clip("k", "v.mp4"), 40, 8.0)


@pytest.mark.parametrize("n_frames,video_fps", VIDEOS)
def test_mvbench_mp4_frame_indices(n_frames, video_fps):
    clip = Clip("k", "a/b.mp4")
    assert make("MVBench_MP4", FrameSetting(nframe=8)).frame_indices(clip, n_frames, video_fps) == \
        up_mp4_by_frame(n_frames - 1, 8)
    assert make("MVBench_MP4", FrameSetting(fps=1)).frame_indices(clip, n_frames, video_fps) == \
        up_base_fps(n_frames, video_fps, 1)


# ----- prompts ---------------------------------------------------------------------------------------------
MV_SYS = ("Carefully watch the video and pay attention to the cause and sequence of events, the detail and movement "
          "of objects, and the action and pose of persons. Based on your observations, select the best option that "
          "accurately addresses the question.\n")


def frames_for(keys, n=3):
    return {k: dict(paths=[f"/f/{k}/frame-{i}-of-{n}.jpg" for i in range(1, n + 1)], indices=list(range(n)),
                    video_fps=8.0) for k in keys}


def test_mvbench_prompt(layouts):
    lay = layouts["MVBench"]
    line = lay["table"].to_dict("records")[1]
    key = "video/star/Charades_v1_480/AS001.mp4@2.5-4.5"
    mv = make("MVBench", frames=frames_for([key]), root=lay["root"])
    question = ("Question: What colour is the square?\nOptions:\n(A) green\n(B) blue\n(C) yellow\n(D) red")
    assert mv.build_prompt(line) == [
        dict(type="text", value=MV_SYS, role="system"),
        *[dict(type="image", value=f"/f/{key}/frame-{i}-of-3.jpg") for i in (1, 2, 3)],
        dict(type="text", value=question),
        dict(type="text", value="\nOnly give the best option."),
        dict(type="text", value="Best option:(", role="assistant"),
    ]
    # video_llm: upstream's processed file for a window (a subclip written beside the video)
    mv.setting = FrameSetting(nframe=8, video_llm=True)
    msg = mv.build_prompt(line)
    assert msg[1] == dict(type="video",
                          value=str(lay["root"] / "video/star/Charades_v1_480/AS001_processed_2.5-4.5.mp4"))
    conv = mv.llm_video(lay["table"].to_dict("records")[5])  # the frame folder: made into an mp4 at 3 fps
    assert conv["path"] == "video/tvqa/frames_fps3_hq/castle_s01e01_seg01_clip_00_processed_0.5-3.5.mp4"
    assert (conv["convert"], conv["start"], conv["end"], conv["fps"]) == ("frames_mp4", 0.5, 3.5, 3)


def test_mvbench_video_llm_files(layouts, tmp_path):
    """video_llm: the gif, the frame folder and each time window become mp4 files (upstream: moviepy)."""
    import av

    from vlmeval_steps.datasets.video.mvbench import write_llm_video

    lay = layouts["MVBench"]
    mv = make("MVBench", FrameSetting(nframe=8, video_llm=True), root=lay["root"])
    specs = mv.llm_conversions(lay["table"])
    # a webm becomes an mp4; a gif is handed over as it is (upstream's data_type is 'video' for every task but
    # TVQA's frame folders, and only .webm files are converted)
    assert [s["path"] for s in specs] == [
        "video/ssv2_video/77.mp4",
        "video/star/Charades_v1_480/AS001_processed_0.5-2.0.mp4",
        "video/star/Charades_v1_480/AS001_processed_2.5-4.5.mp4",
        "video/tvqa/frames_fps3_hq/castle_s01e01_seg01_clip_00_processed_0.5-3.5.mp4"]
    counts = {}
    for spec in specs:
        out = write_llm_video(spec, lay["root"], tmp_path)
        with av.open(str(out)) as c:
            counts[spec["path"].rsplit("/", 1)[1]] = sum(1 for _ in c.decode(video=0))
    # AS001 at 8 fps: 0.5 s <= t < 2.0 s and 2.5 s <= t < 4.5 s; the folder at 3 fps: 0.5 s <= i/3 < 3.5 s (i = 2..10)
    assert counts == {"77.mp4": 20, "AS001_processed_0.5-2.0.mp4": 12, "AS001_processed_2.5-4.5.mp4": 16,
                      "castle_s01e01_seg01_clip_00_processed_0.5-3.5.mp4": 9}
    mv.llm_root = tmp_path
    line = lay["table"].to_dict("records")[0]
    assert mv.build_prompt(line)[1] == dict(
        type="video", value=str(tmp_path / "video/star/Charades_v1_480/AS001_processed_0.5-2.0.mp4"))
    for line in lay["table"].to_dict("records")[3:5]:  # the gif and a plain mp4: the source itself
        assert mv.build_prompt(line)[1] == dict(type="video", value=str(lay["root"] / line["prefix"] / line["video"]))


def test_mvbench_mp4_prompt(layouts):
    lay = layouts["MVBench_MP4"]
    line = lay["table"].to_dict("records")[0]
    mv = make("MVBench_MP4", FrameSetting(fps=1, video_llm=True), root=lay["root"])
    msg = mv.build_prompt(line)
    assert msg[0] == dict(type="text", value=MV_SYS, role="system")
    assert msg[1] == dict(type="video", value=str(lay["root"] / "star/Charades_v1_480/AS001.mp4"))
    assert msg[2]["value"] == "Question: What colour is the square?\nOptions:\n(A) red\n(B) green\n(C) blue\n(D) yellow"


VM_NOSUB = ("\nThese are the frames of a video. Select the best answer to the following multiple-choice question "
            "based on the video. Respond with only the letter (A, B, C, or D) of the correct option.\n")


def vm_sub(subs):
    return ("\nThese are the frames of a video. This video's subtitles are listed below:\n" + subs +
            "\nSelect the best answer to the following multiple-choice question based on the video. "
            "Respond with only the letter (A, B, C, or D) of the correct option.\n")


def test_videomme_prompt(layouts):
    lay = layouts["Video-MME"]
    line = lay["table"].to_dict("records")[0]
    vm = make("Video-MME", frames=frames_for(["001"]), root=lay["root"])
    question = "Question: What colour is the square?\nA. red\nB. green\nC. blue\nD. yellow\nAnswer: "
    assert vm.build_prompt(line) == [dict(type="text", value=""),
                                     *[dict(type="image", value=f"/f/001/frame-{i}-of-3.jpg") for i in (1, 2, 3)],
                                     dict(type="text", value=VM_NOSUB), dict(type="text", value=question)]
    vm.setting = FrameSetting(nframe=8, video_llm=True)
    assert vm.build_prompt(line)[1] == dict(type="video", value=str(lay["root"] / "video/001.mp4"))


def test_videomme_subtitles(layouts, caplog):
    lay = layouts["Video-MME"]
    rows = lay["table"].to_dict("records")
    # 001 at 8 fps: frame 2 = 250 ms (first line), 8 = 1000 ms (on a boundary: no line, since upstream needs
    # start < t < end), 10 = 1250 ms (second line, '\N' as a space), 30 = 3750 ms (none)
    frames = {"001": dict(paths=["/f/a.jpg"] * 4, indices=[2, 8, 10, 30], video_fps=8.0),
              "002": dict(paths=["/f/b.jpg"] * 3, indices=[8, 36, 40], video_fps=8.0),
              "003": dict(paths=["/f/c.jpg"], indices=[1], video_fps=8.0)}
    vm = make("Video-MME", FrameSetting(nframe=8, use_subtitle=True), frames=frames, root=lay["root"])
    assert vm.build_prompt(rows[0])[-2]["value"] == vm_sub("A red square appears.\nIt moves to the right.")
    # 002: 1000 ms in 'Blue, moving.'; 4500 ms and 5000 ms in a blank line (left out)
    assert vm.build_prompt(rows[1])[-2]["value"] == vm_sub("Blue, moving.")
    # 003 has no subtitle file: upstream's empty list, and a warning naming the row and file
    with caplog.at_level(logging.WARNING):
        assert vm.build_prompt(rows[2])[-2]["value"] == vm_sub("")
    assert "row index=2" in caplog.text and "003.srt" in caplog.text
    # subtitles with video_llm still use the frames' indices (upstream decodes them for this)
    vm.setting = FrameSetting(nframe=8, use_subtitle=True, video_llm=True)
    assert vm.build_prompt(rows[0])[-2]["value"] == vm_sub("A red square appears.\nIt moves to the right.")


def test_mmbench_video_prompt(layouts):
    lay = layouts["MMBench-Video"]
    line = lay["table"].to_dict("records")[1]
    mm = make("MMBench-Video", frames=frames_for(["vid_a"], n=8), root=lay["root"])
    msg = mm.build_prompt(line)
    assert msg[0] == dict(type="text", value=(
        "\nYou will be provided with 8 separate frames uniformly sampled from a video, the frames are provided in "
        "chronological order of the video.\nPlease analyze these images and provide the answer to the question "
        "about the video content.\nPlease directly reply with your response to the only question.\n"))
    assert [m["type"] for m in msg] == ["text"] + ["image"] * 8 + ["text"]
    assert msg[-1] == dict(type="text", value="Question: Which way does the square move?\nAnswer: ")
    mm.setting = FrameSetting(video_llm=True)
    assert mm.build_prompt(line) == [dict(type="text", value="Which way does the square move?"),
                                     dict(type="video", value=str(lay["root"] / "video/vid_a.mp4"))]


# ----- scoring ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pred,gt,expected", [
    ("A", "(A) red", True),
    ("(A) red", "(A) red", True),
    ("A) red", "(A) red", True),          # the model continues 'Best option:('
    ("a.", "(A) red", True),
    ("(", "(A) red", True),               # any substring of '(a)' counts
    ("", "(A) red", True),                # so does an empty prediction
    ("  B", "(A) red", False),
    ("Answer: (A)", "(A) red", False),    # only the first word is looked at
    ("(A)bc", "(A) red", True),           # '(a)' is inside the first word
    ("red", "(A) red", False),            # the option's text alone is not the option
    ("D", "(@) purple", False),           # an answer not among the candidates is '(@)'
])
def test_check_ans(pred, gt, expected):
    assert check_ans(pred, gt) is expected


@pytest.mark.parametrize("s,expected", [
    ("C", "C"),
    ("The answer is B.", "B"),
    ("The best answer is (D)", "D"),
    ("Answer: A", "A"),
    ("The best option is D", "D"),              # prefix not removed ('is' fused with the next in upstream's list)
    ("Best option: C", "B"),                    # 'Best option:' is not removed either: its 'B' is found first
    ("I think it's a cat", ""),
    ("Apple", "A"),                             # capital letters of words count
    (FAIL, "A"),                                # 'API' -> 'A'
    ("one two three four five six seven eight nine ten eleven", ""),
    ("one two three four five six seven eight nine ten eleven D", "D"),
    ("", ""),
])
def test_extract_characters_regex(s, expected):
    assert extract_characters_regex(s) == expected


def _preds(table, predictions):
    df = table.copy()
    df["prediction"] = predictions
    return df


def test_mvbench_extract_and_rating(layouts):
    table = pd.read_csv(layouts["MVBench"]["tsv"], sep="\t")
    mv = make("MVBench")
    # rows: answer (A) red / (D) red / (C) blue / (A) green / (A) blue / (A) yellow
    data = _preds(table, ["A", "Best option: (D) red", "C", "The answer is green", FAIL, "nan"])  # str(NaN)
    ext = mv.extract(data)
    assert [r["extracted"] for r in ext] == [1, 1, 1, 1, -1, None]
    assert [r["method"] for r in ext] == ["rule", "rule", "rule", "rule", "none", "none"]
    data2 = _preds(table, ["C", "B", "A", "zebra", "D) red", "  "])  # '  ' strips to '' -> right
    ext2 = mv.extract(data2)
    assert [r["extracted"] for r in ext2] == [0, 0, 0, 0, 0, 1]
    assert ext2[3]["method"] == "none"  # no rule, no judge: 'Z'
    tables = mv.score(data, pd.DataFrame(ext))
    # upstream's rating counts a truthy score: the failed row (-1) and the missing one (NaN) count as correct
    assert tables["rating.json"]["overall"] == [6, 6, "100.00%"]
    assert tables["rating.json"]["Action Sequence"] == [2, 2, "100.00%"]
    t2 = mv.score(data2, pd.DataFrame(ext2))
    assert t2["rating.json"]["overall"] == [1, 6, "16.67%"]
    acc = t2["acc"].set_index("Category")
    assert acc.loc["overall", "acc"] == 16.67 and acc.loc["Episodic Reasoning", "correct"] == 1
    assert list(t2["score.xlsx"]["score"]) == [0, 0, 0, 0, 0, 1]


def test_videomme_extract_and_rating(layouts):
    table = pd.read_csv(layouts["Video-MME"]["tsv"], sep="\t", dtype={"video": str})
    vm = make("Video-MME")
    # answers A, B, D
    data = _preds(table, ["A", FAIL, "it is the green one, I am quite sure about that colour here"])
    ext = vm.extract(data)
    assert [r["extracted"] for r in ext] == ["A", "A", "Z"]
    tables = vm.score(data, pd.DataFrame(ext))
    r = tables["rating.json"]
    assert r["overall"]["overall"] == "0.333" and r["short"]["overall"] == "1.000" and r["medium"]["overall"] == "0.000"
    assert r["short"]["domain"]["Knowledge"] == "1.000" and r["short"]["domain"]["Multilingual"] == "nan"
    assert r["long"]["task_type"]["Object Recognition"] == "0.000"
    acc = tables["acc"].set_index("split")
    assert acc.loc["overall", "acc"] == pytest.approx(0.333)
    # an unknown category names the row and the value
    bad = data.copy()
    bad.loc[1, "domain"] = "Cooking"
    with pytest.raises(InputError, match=r"row index=1: domain 'Cooking'"):
        vm.score(bad, pd.DataFrame(ext))


@pytest.mark.parametrize("reply,expected", [
    ("3", 3), ("0", 0), (" 2", 2), ("2\n", 2), ("4", 4), ("-1", -1), ("1_0", 10),
    ("2.0", -1), ("two", -1), ("Score: 2", -1), ("True", -1), ("1+1", -1), ("", -1), (None, -1),
])
def test_mmbench_video_grade(reply, expected):
    assert parse_grade(reply) == expected


def test_mmbench_video_needs_a_judge_and_rates(layouts):
    table = pd.read_csv(layouts["MMBench-Video"]["tsv"], sep="\t")
    mm = make("MMBench-Video")
    assert mm.JUDGE_REQUIRED
    data = _preds(table, ["red", "right", "blue"])
    with pytest.raises(InputError, match="MMBench-Video can only be scored by an LLM judge"):
        mm.extract(data)
    ext = pd.DataFrame([dict(index=0, extracted=3, log="3"), dict(index=1, extracted=-1, log="?"),
                        dict(index=2, extracted=2, log="2")])
    tables = mm.score(data, ext)
    r = tables["{judge}_rating.json"]
    # row 1 (-1) counts as 0 in 'all' and is left out of 'valid'
    assert r["fine_all"]["Attribute Recognition"] == "2.50" and r["fine_all"]["Human Motion"] == "0.00"
    assert r["fine_valid"]["Human Motion"] == "nan"
    assert r["coarse_all"]["Overall"] == "1.67" and r["coarse_valid"]["Overall"] == "2.50"
    assert r["coarse_all"]["TR"] == "2.00" and r["coarse_all"]["CP"] == "nan"
    assert list(tables["{judge}_score.xlsx"]["score"]) == [3, -1, 2]


def test_mmbench_video_judge_on_a_served_model(layouts, openai_server, monkeypatch):
    """The judge path end to end against a real OpenAI-compatible server: upstream's prompt, one request
    per answered row, the reply read as a grade."""
    from vlmeval_steps.datasets.video.mmbench_video import JUDGE_SYSTEM_PROMPT
    from vlmeval_steps.judge.llm import LLMJudge

    monkeypatch.delenv("LOCAL_LLM", raising=False)
    table = pd.read_csv(layouts["MMBench-Video"]["tsv"], sep="\t")
    data = _preds(table, ["red", "nan", "blue"])  # read_predictions' str(NaN)
    before = openai_server.requests_served()
    with LLMJudge({"model": openai_server.model, "api_base": openai_server.base_url, "max_tokens": 4}) as judge:
        ext = make("MMBench-Video").extract(data, judge=judge)
        assert judge.client.system_prompt == JUDGE_SYSTEM_PROMPT
    assert openai_server.requests_served() - before == 2  # the row without a prediction is not sent
    assert [r["method"] for r in ext] == ["judge", "none", "judge"]
    assert all(r["extracted"] == parse_grade(r["log"]) for r in ext if r["method"] == "judge")
    assert ext[1]["extracted"] == -1


# ----- bad input -------------------------------------------------------------------------------------------
def test_missing_files_are_named(tmp_path):
    root = tmp_path / "mv"
    videodata.mvbench_layout(root)
    (root / "video/Moments_in_Time_Raw/videos/fga_1.gif").unlink()
    with pytest.raises(InputError, match=r"MVBench: .*fine_grained_action.json item 0 .*fga_1.gif does not exist"):
        make("MVBench").prepare(root)
    videodata.write_gif(root / "video/Moments_in_Time_Raw/videos/fga_1.gif", "green")
    make("MVBench").prepare(root)
    (root / "json/state_change.json").unlink()
    with pytest.raises(InputError, match=r"task 'State Change' has no index file .*state_change.json"):
        make("MVBench").prepare(root)

    root = tmp_path / "vm"
    videodata.videomme_layout(root)
    make("Video-MME").prepare(root)
    (root / "video/002.mp4").unlink()
    with pytest.raises(InputError, match=r"Video-MME: row index=1: video .*002.mp4 does not exist"):
        make("Video-MME").prepare(root)

    root = tmp_path / "vm2"
    videodata.videomme_layout(root)
    df = pd.read_parquet(root / "videomme/test-00000-of-00001.parquet").drop(columns=["duration"])
    df.to_parquet(root / "videomme/test-00000-of-00001.parquet")
    with pytest.raises(InputError, match=r"test-00000-of-00001.parquet: missing column\(s\) \['duration'\] for "
                                         r"benchmark Video-MME"):
        make("Video-MME").prepare(root)

    root = tmp_path / "mp4"
    videodata.mvbench_mp4_layout(root)
    (root / "clevrer/video_validation/video_10001.mp4").unlink()
    with pytest.raises(InputError, match=r"task 'Moving Count' item 0: video .*video_10001.mp4 does not exist"):
        make("MVBench_MP4").prepare(root)

    root = tmp_path / "mmbv"
    videodata.mmbench_video_layout(root)
    tsv = pd.read_csv(root / "MMBench-Video.tsv", sep="\t").drop(columns=["dimensions"])
    tsv.to_csv(root / "MMBench-Video.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match=r"MMBench-Video.tsv: missing column\(s\) \['dimensions'\] for benchmark "
                                         r"MMBench-Video"):
        make("MMBench-Video").prepare(root)


def test_rows_without_frames_or_with_bad_cells(layouts):
    rows = layouts["Video-MME"]["table"].to_dict("records")
    with pytest.raises(InputError, match=r"Video-MME: row index=0 has no extracted frames \(clip '001'\)"):
        make("Video-MME").build_prompt(rows[0])
    line = dict(layouts["MVBench_MP4"]["table"].to_dict("records")[0], candidates="not a list")
    with pytest.raises(InputError, match=r"row index=0: 'candidates' is not a list"):
        make("MVBench_MP4", frames=frames_for(["star/Charades_v1_480/AS001.mp4"])).build_prompt(line)


def test_pickles_with_code_are_refused(tmp_path):
    class Boom:
        def __reduce__(self):
            return (print, ("should never run",))

    root = tmp_path / "mmbv"
    videodata.mmbench_video_layout(root)
    with open(root / "video_pkl/part_2.pkl", "wb") as fh:
        pickle.dump({"vid_c": Boom()}, fh)
    with pytest.raises(InputError, match=r"part_2.pkl: not a pickle of video bytes"):
        make("MMBench-Video").prepare(root)
    assert not (root / "video").exists()  # all or nothing


def test_per_row_outcomes_match_the_headline(layouts):
    table = pd.read_csv(layouts["MVBench"]["tsv"], sep="\t")
    mv = make("MVBench")
    data = _preds(table, ["A", "C", "C", FAIL, "B", np.nan])
    tables = mv.score(data, pd.DataFrame(mv.extract(data)))
    out = mv.outcomes(tables)
    assert tables["acc"].set_index("Category").loc["overall", "acc"] == 66.67
    assert out.rows["score"].mean() * 100 == pytest.approx(66.67, abs=0.01)
    # the options the prompt letters, for the report's example rows
    first = table.to_dict("records")[0]
    assert out.rows["options"][0] == "\n".join(f"{'ABCDE'[i]}. {c}" for i, c in enumerate(ast.literal_eval(first["candidates"])))

    table = pd.read_csv(layouts["Video-MME"]["tsv"], sep="\t", dtype={"video": str})
    vm = make("Video-MME")
    data = _preds(table, ["A", "C", "D"])
    tables = vm.score(data, pd.DataFrame(vm.extract(data)))
    out = vm.outcomes(tables)
    assert out.rows["score"].mean() == pytest.approx(tables["acc"].set_index("split").loc["overall", "acc"], abs=1e-3)
    assert list(out.rows["duration"]) == ["short", "medium", "long"]
    assert out.rows["options"][0].startswith("A. ")


def _statistic(out, name):
    """The bootstrap statistic on the data as they are, through the files the summary reads."""
    import tempfile

    from vlmeval_steps.stats.bootstrap import design_of, estimate
    from vlmeval_steps.stats.outcomes import read, write

    with tempfile.TemporaryDirectory() as tmp:
        write(out, Path(tmp) / "r.csv", Path(tmp) / "r.json")
        out = read(Path(tmp) / "r.csv")
        return estimate(out, resamples=20, name=name), design_of(out)


def test_video_benchmarks_resample_videos(layouts):
    """Several questions about one video are drawn together: the video is the unit of resampling."""
    table = pd.read_csv(layouts["Video-MME"]["tsv"], sep="\t", dtype={"video": str})
    vm = make("Video-MME")
    tables = vm.score(_preds(table, ["A", "C", "D"]), pd.DataFrame(vm.extract(_preds(table, ["A", "C", "D"]))))
    est, design = _statistic(vm.outcomes(tables), "Video-MME")
    assert est.unit_name == "video" and design.n_units == table["video"].nunique()
    assert est.value == pytest.approx(100 * tables["acc"].set_index("split").loc["overall", "acc"], abs=0.1)

    table = pd.read_csv(layouts["MVBench"]["tsv"], sep="\t")
    mv = make("MVBench")
    data = _preds(table, ["A", "C", "C", FAIL, "B", np.nan])
    tables = mv.score(data, pd.DataFrame(mv.extract(data)))
    est, design = _statistic(mv.outcomes(tables), "MVBench")
    assert est.unit_name == "video" and design.n_units == len({f"{p}{v}" for p, v in zip(table["prefix"], table["video"])})
    assert est.value == pytest.approx(tables["acc"].set_index("Category").loc["overall", "acc"], abs=0.01)


def test_demo_video_has_outcomes_by_video():
    from vlmeval_steps.report.metrics import main_score

    dv = make("DemoVideo")
    table = dv.prepare(Path(__file__).resolve().parent.parent / "demo" / "DemoVideo")
    data = _preds(table, [a if i % 3 else "A" for i, a in enumerate(table["answer"])])
    tables = dv.score(data, pd.DataFrame(dv.extract(data)))
    out = dv.outcomes(tables)
    assert out is not None and len(out.rows) == len(table)  # one line per question ...
    est, design = _statistic(out, "DemoVideo")
    assert est.unit_name == "video" and design.n_units == table["video"].nunique() < len(table)  # ... drawn by video
    headline = main_score(tables["acc"].astype(str), "DemoVideo", "MCQ")
    assert est.value == pytest.approx(headline.value, rel=1e-9) and est.low <= est.value <= est.high
    assert out.rows["options"][0].startswith("A. ")


def test_mmbench_video_has_outcomes_by_video(layouts):
    from vlmeval_steps.report.metrics import main_score

    table = pd.read_csv(layouts["MMBench-Video"]["tsv"], sep="\t")
    mm = make("MMBench-Video")
    data = _preds(table, ["red", "right", "blue"])
    ext = pd.DataFrame([dict(index=0, extracted=3, log="3"), dict(index=1, extracted=-1, log="?"),
                        dict(index=2, extracted=2, log="2")])
    tables = mm.score(data, ext)
    out = mm.outcomes(tables)
    est, design = _statistic(out, "MMBench-Video")
    assert est.unit_name == "video" and design.n_units == table["video"].nunique()
    # the leaderboard's Overall 'all' (-1 counts as 0), which the table rounds to 2 decimals
    headline = main_score(tables["acc"].astype(str), "MMBench-Video", "Video-VQA")
    assert headline.value == 1.67 and est.value == pytest.approx(5 / 3)
    # per coarse dimension, as the table's rows (TR: 2.00; CP: no question)
    from vlmeval_steps.stats.bootstrap import estimate

    assert estimate(out, resamples=5, mask=out.subset("dimension", "TR"), name="x").value == pytest.approx(2.0)
    assert "CP" not in out.categories("dimension")
    assert list(out.rows["correct"]) == [1, 0, 1] and out.spec.binary is None


def test_headline_scores(layouts, tmp_path):
    """The summary's main metric read from each _acc.csv as the score stage writes it."""
    from vlmeval_steps.report.metrics import main_score

    def headline(name, tables, dtype):
        path = tmp_path / f"{name}_acc.csv"
        tables["acc"].to_csv(path, index=False)
        return main_score(pd.read_csv(path, dtype=str), name, dtype)

    table = pd.read_csv(layouts["MVBench"]["tsv"], sep="\t")
    mv = make("MVBench")
    data = _preds(table, ["A", "C", "A", "D", "B", "E"])
    s = headline("MVBench_8frame", mv.score(data, pd.DataFrame(mv.extract(data))), "Video-MCQ")
    assert s.value == pytest.approx(16.67) and s.categories["Action Sequence"] == 50.0

    table = pd.read_csv(layouts["Video-MME"]["tsv"], sep="\t", dtype={"video": str})
    vm = make("Video-MME")
    data = _preds(table, ["A", "B", "C"])
    s = headline("Video-MME_8frame_subs", vm.score(data, pd.DataFrame(vm.extract(data))), "Video-MCQ")
    assert s.value == pytest.approx(66.7)

    table = pd.read_csv(layouts["MMBench-Video"]["tsv"], sep="\t")
    ext = pd.DataFrame([dict(index=i, extracted=g, log="") for i, g in enumerate([3, 1, 2])])
    s = headline("MMBench_Video_8frame_nopack", make("MMBench-Video").score(_preds(table, ["a", "b", "c"]), ext), "Video-VQA")
    assert s.value == pytest.approx(2.0)


def test_bad_index_entries_and_archives_are_named(tmp_path):
    root = tmp_path / "mp4"
    videodata.mvbench_mp4_layout(root)
    index = json.loads((root / "test.json").read_text())
    del index["meta"]["Object Existence"][0]["answer"]
    (root / "test.json").write_text(json.dumps(index))
    with pytest.raises(InputError, match=r"MVBench_MP4: .*test.json task 'Object Existence' item 0 lacks \['answer'\]"):
        make("MVBench_MP4").prepare(root)

    root = tmp_path / "mv"
    videodata.mvbench_layout(root)
    (root / "video/clevrer.zip").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(InputError, match=r"MVBench: .*clevrer.zip is not a readable zip"):
        make("MVBench").prepare(root)

    root = tmp_path / "vm"
    videodata.videomme_layout(root)
    (root / "videos_chunked_02.zip").write_bytes(b"not a zip")
    with pytest.raises(InputError, match=r"videos_chunked_02.zip: not a readable zip"):
        make("Video-MME").prepare(root)
    assert not (root / "video").exists()  # all or nothing: a rerun unpacks again


def test_answer_readers_take_any_text():
    """Model and judge replies are arbitrary text: the readers never raise, and return what they may."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=150, deadline=None)
    @given(st.text(), st.text(min_size=1))
    def check(reply, answer):
        assert isinstance(check_ans(reply, f"(A) {answer}"), bool)
        assert extract_characters_regex(reply) in ("", "A", "B", "C", "D")
        assert isinstance(parse_grade(reply), int)

    check()
    assert parse_grade("9" * 5000) == -1  # beyond Python's int-from-text limit


def test_videomme_options_from_the_question_lines():
    """extract_option reads options only from the question's later lines ('A. text'); the index has none there."""
    vm = make("Video-MME")
    rows = pd.DataFrame([dict(index=0, question="Colour?\nA. red\nB. blue", prediction="it is blue", answer="B"),
                         dict(index=1, question="Colour?", prediction="it is blue", answer="B")])
    ext = vm.extract(rows)
    assert [r["extracted"] for r in ext] == ["B", "Z"]
