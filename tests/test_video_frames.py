"""The frames stage on real videos: decord's frame counting, upstream's index formulas, bad input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from vlmeval_steps.datasets.registry import REGISTERED
from vlmeval_steps.errors import InputError
from vlmeval_steps.video import decode, extract
from vlmeval_steps.video.benchmark import build
from vlmeval_steps.video.demo_clips import write_video
from vlmeval_steps.video.settings import make_setting, named, split_setting


def gray_clip(n: int, size: int = 32) -> list[Image.Image]:
    """Frame t is a flat gray of level 4*t: which frame was decoded can be read off its pixels."""
    return [Image.new("RGB", (size, size), (4 * t % 256,) * 3) for t in range(n)]


def level(im: Image.Image) -> float:
    return im.convert("L").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    write_video(root / "short.mp4", gray_clip(24), fps=8)    # 3 s
    write_video(root / "long.mp4", gray_clip(60), fps=2)     # 30 s: B-frames, reordered packets
    write_video(root / "tiny.mp4", gray_clip(5), fps=5)      # fewer frames than nframe
    return root


def test_frame_count_and_fps_as_decord_reads_them(videos):
    for name, n, fps in (("short", 24, 8.0), ("long", 60, 2.0), ("tiny", 5, 5.0)):
        info = decode.probe(videos / f"{name}.mp4")
        assert (info.n_frames, info.fps) == (n, fps)
        assert info.pts == sorted(info.pts) and len(set(info.pts)) == n


def test_decoded_frames_are_the_indexed_ones_in_presentation_order(videos):
    wanted = [0, 7, 8, 30, 31, 59, 7]
    frames = decode.read(videos / "long.mp4", wanted)
    assert sorted(frames) == sorted(set(wanted))
    for i, im in frames.items():
        assert abs(level(im) - 4 * i) < 3, (i, level(im))


def _formula_nframe(n, nframe):
    step = n / (nframe + 1)
    return [int(i * step) for i in range(1, nframe + 1)]


def _formula_fps(n, video_fps, fps):
    return [int(i * video_fps / fps) for i in range(int(n / video_fps * fps))]


@pytest.mark.parametrize("setting, video, expected", [
    (dict(nframe=8), "short", _formula_nframe(24, 8)),
    (dict(nframe=8), "long", _formula_nframe(60, 8)),
    (dict(nframe=0, fps=1), "short", _formula_fps(24, 8.0, 1)),
    (dict(nframe=0, fps=1), "long", _formula_fps(60, 2.0, 1)),
])
def test_frames_json_records_upstreams_indices_timestamps_and_names(tmp_path, videos, setting, video, expected):
    s = make_setting(**setting)
    dataset = build(REGISTERED["DemoVideo"], s, root=videos)
    dataset.video_file = lambda v: f"{v}.mp4"
    data = __import__("pandas").DataFrame([dict(index=0, video=video, question="q", A="a", B="b")])
    out = tmp_path / "frames" / s.frames_id / "frames-all.json"
    extract.run(dataset, data, videos, out)
    record = json.loads(out.read_text())[video]
    assert record["indices"] == expected
    info = decode.probe(videos / f"{video}.mp4")
    assert record["timestamps"] == [round(i / info.fps, 6) for i in expected]
    n = len(expected)
    names = [f"frame-{k}-of-{n}.jpg" if s.fps <= 0 else f"frame-{k}-of-{n}-1fps.jpg" for k in range(1, n + 1)]
    assert [Path(p).name for p in record["paths"]] == names
    for i, p in zip(expected, record["paths"]):
        assert abs(level(Image.open(p)) - 4 * i) < 3


def test_setting_names_and_precedence(caplog):
    s = make_setting(nframe=8, fps=0.5)
    assert s.nframe == 0 and "fps takes precedence" in caplog.text
    assert named("Video-MME", make_setting(fps=1, nframe=0, use_subtitle=True)) == "Video-MME_1fps_subs"
    assert named("MVBench", make_setting(nframe=8)) == "MVBench_8frame"
    assert split_setting("MVBench_16frame", ["MVBench"]) == ("MVBench", make_setting(nframe=16))
    assert split_setting("Video-MME_0.5fps_subs", ["Video-MME"])[1] == make_setting(nframe=0, fps=0.5,
                                                                                   use_subtitle=True)
    assert split_setting("MMStar_8frame", ["MVBench"]) is None


def _demo_rows(videos):
    import pandas as pd

    return pd.DataFrame([dict(index=i, video=v, question="q", A="a", B="b")
                         for i, v in enumerate(["long", "short", "tiny", "cut", "gone"])])


def test_bad_videos_name_benchmark_row_and_file_and_keep_the_good_frames(tmp_path, videos, caplog):
    root = tmp_path / "root"
    root.mkdir()
    for name in ("long", "short", "tiny"):
        (root / f"{name}.mp4").write_bytes((videos / f"{name}.mp4").read_bytes())
    data = (videos / "long.mp4").read_bytes()
    (root / "cut.mp4").write_bytes(data[: len(data) // 3])   # truncated
    dataset = build(REGISTERED["DemoVideo"], make_setting(nframe=8), root=root)
    dataset.video_file = lambda v: f"{v}.mp4"
    out = tmp_path / "frames" / "8frame" / "frames-all.json"
    with pytest.raises(InputError) as err:
        extract.run(dataset, _demo_rows(videos), root, out)
    text = str(err.value)
    assert "DemoVideo: row index=3" in text and "cut.mp4" in text
    assert "DemoVideo: row index=4" in text and "gone.mp4: file not found" in text
    assert "2 of 5 clips" in text
    assert not out.exists()
    # the good clips' frames are on disk with their records: a rerun decodes only what was missing
    for name in ("long", "short", "tiny"):
        assert (out.parent / name / "clip.json").exists()
    # the short video: frames repeat as upstream's formula makes them repeat, with a warning naming it
    tiny = json.loads((out.parent / "tiny" / "clip.json").read_text())
    assert tiny["indices"] == _formula_nframe(5, 8) and "row index=2" in caplog.text and "tiny.mp4" in caplog.text
    (root / "cut.mp4").unlink()
    (root / "gone.mp4").write_bytes(data)
    (root / "cut.mp4").write_bytes(data)
    before = (out.parent / "long" / "clip.json").stat().st_mtime_ns
    extract.run(dataset, _demo_rows(videos), root, out)
    assert (out.parent / "long" / "clip.json").stat().st_mtime_ns == before   # reused, not decoded again
    assert set(json.loads(out.read_text())) == {"long", "short", "tiny", "cut", "gone"}


def test_not_a_video_is_named(tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    with pytest.raises(decode.VideoError, match="x.mp4"):
        decode.probe(bad)


def test_sparse_frames_by_seeking_to_key_frames_are_the_indexed_ones(tmp_path):
    import av

    path = tmp_path / "gop.mp4"
    with av.open(str(path), "w") as c:   # a key frame every 6 frames, B-frames between: seeks are taken
        s = c.add_stream("libx264", rate=10)
        s.width = s.height = 32
        s.pix_fmt = "yuv420p"
        s.options = {"g": "6", "keyint_min": "6", "bf": "2", "threads": "1"}
        for im in gray_clip(60):
            for p in s.encode(av.VideoFrame.from_image(im)):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    info = decode.probe(path)
    assert info.n_frames == 60 and len(info.keys) >= 5
    wanted = [1, 13, 14, 29, 40, 41, 59]
    frames = decode.read(path, wanted, info)
    assert {i: round(level(im) / 4) for i, im in frames.items()} == {i: i for i in wanted}


def test_video_llm_prompts_carry_the_video_file_and_no_frames(tmp_path):
    from vlmeval_steps.video import prompts, source

    repo = Path(__file__).resolve().parent.parent
    root = tmp_path / "DemoVideo"
    __import__("shutil").copytree(repo / "demo" / "DemoVideo", root)
    info = REGISTERED["DemoVideo"]
    tsv = source.run("DemoVideo", build(info), info.url, info.md5, str(root), repo, tmp_path / "lmu",
                     tmp_path / "data.tsv", tmp_path / "root.txt")
    # the committed clips give upstream-style index bytes with the registered md5: reused on the next run
    assert source.md5_of(tsv) == build(info).INDEX_MD5
    out = tmp_path / "p" / "DemoVideo_8frame" / "default.jsonl"
    prompts.run(info, make_setting(nframe=8, video_llm=True), tmp_path / "data.tsv", tmp_path / "root.txt", None, out,
                limit=2)
    rows = [json.loads(line) for line in out.open()]
    assert [m["type"] for m in rows[0]["message"]] == ["video", "text"]
    assert Path(rows[0]["message"][0]["value"]) == root / "videos" / "clip001.mp4"


def test_a_rotated_video_is_turned_upright_as_decord_turns_it(tmp_path):
    import av

    im = Image.new("RGB", (32, 16), (0, 0, 0))
    im.paste((255, 0, 0), (0, 0, 8, 16))   # a red band on the left
    path = tmp_path / "phone.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=5)
        s.width, s.height, s.pix_fmt = 32, 16, "yuv420p"
        s.set_display_rotation(90)          # shown turned 90 degrees counter-clockwise
        for _ in range(3):
            for p in s.encode(av.VideoFrame.from_image(im)):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    frame = decode.read(path, [1])[1]
    assert frame.size == (16, 32)
    assert frame.getpixel((8, 28))[0] > 200 and frame.getpixel((8, 3))[0] < 60   # the band is now at the bottom
