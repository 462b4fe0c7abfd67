"""Frame extraction throughput: the frames stage (vlmeval_steps.video.extract) on generated videos.

    python perf/bench_frames.py                      # 12 videos, 640x360, 30 fps, 20 s
    python perf/bench_frames.py -n 40 --seconds 60 --size 1280x720 --settings 8frame 32frame 1fps

Videos are H.264 (libx264, a key frame every --gop frames, default 250 as x264's; B-frames) with moving
content, written once to a temp folder. Each setting runs in a fresh child process on an empty
output folder, so its peak RSS (ru_maxrss) is the stage's own. Reported per setting: wall time,
videos/s, frames written/s, video frames/s (the videos' length in frames over the wall time: the
stage seeks to the key frame before each wanted frame and decodes on from there, so it decodes
fewer than that when key frames are frequent), peak RSS. A second run of the same setting reuses
the frames (per-clip records) and is reported as "reuse".
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_videos(folder: Path, n: int, size: tuple[int, int], fps: int, seconds: int, gop: int = 250) -> None:
    import av
    import numpy as np

    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    for v in range(n):
        with av.open(str(folder / f"v{v:03d}.mp4"), "w") as c:
            s = c.add_stream("libx264", rate=fps)
            s.width, s.height, s.pix_fmt = w, h, "yuv420p"
            s.options = {"preset": "ultrafast", "g": str(gop), "bf": "2"}
            for t in range(fps * seconds):
                img = np.zeros((h, w, 3), dtype=np.uint8)
                img[..., 0] = (xx + 3 * t + 17 * v) % 256
                img[..., 1] = (yy + 2 * t) % 256
                img[..., 2] = ((xx // 32 + yy // 32 + t // 10) % 2) * 200
                for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    c.mux(p)
            for p in s.encode():
                c.mux(p)


def child(root: str, out: str, setting: str) -> None:
    import pandas as pd

    from vlmeval_steps.datasets.registry import REGISTERED
    from vlmeval_steps.video import decode, extract
    from vlmeval_steps.video.benchmark import build
    from vlmeval_steps.video.settings import make_setting

    s = make_setting(nframe=int(setting[:-5]), fps=-1) if setting.endswith("frame") else \
        make_setting(nframe=0, fps=float(setting[:-3]))
    dataset = build(REGISTERED["DemoVideo"], s, root=root)
    dataset.video_file = lambda v: f"{v}.mp4"
    videos = sorted(p.stem for p in Path(root).glob("*.mp4"))
    data = pd.DataFrame([dict(index=i, video=v, question="q", A="a", B="b") for i, v in enumerate(videos)])
    t0 = time.perf_counter()
    records = extract.run(dataset, data, root, Path(out) / s.frames_id / "frames-all.json")
    wall = time.perf_counter() - t0
    written = sum(len(r["indices"]) for r in records.values())
    decoded = sum(max(r["indices"]) + 1 for r in records.values())
    n_frames = sum(r["n_frames"] for r in records.values())
    print(json.dumps(dict(wall=wall, videos=len(records), written=written, decoded=decoded, n_frames=n_frames,
                          rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))


def run_child(root, out, setting) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", root, out, setting], capture_output=True, text=True,
                          check=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=12, help="videos")
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--gop", type=int, default=250, help="frames between key frames")
    ap.add_argument("--settings", nargs="+", default=["8frame", "1fps"])
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(*args.child)
    size = tuple(int(x) for x in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        videos, out = Path(tmp) / "videos", Path(tmp) / "frames"
        videos.mkdir()
        t0 = time.perf_counter()
        make_videos(videos, args.n, size, args.fps, args.seconds, args.gop)
        mb = sum(p.stat().st_size for p in videos.glob("*.mp4")) / 2**20
        print(f"{args.n} videos {args.size} {args.fps} fps {args.seconds} s (H.264, gop {args.gop}, {mb:.1f} MB) made in "
              f"{time.perf_counter() - t0:.1f} s; decoder: PyAV {__import__('av').__version__}")
        print(f"{'setting':<10} {'run':<6} {'wall s':>7} {'videos/s':>9} {'frames/s':>9} {'video fr/s':>10} "
              f"{'peak RSS MB':>12}")
        for setting in args.settings:
            for run in ("cold", "reuse"):
                r = run_child(str(videos), str(out), setting)
                print(f"{setting:<10} {run:<6} {r['wall']:>7.2f} {r['videos'] / r['wall']:>9.2f} "
                      f"{r['written'] / r['wall']:>9.1f} {r['n_frames'] / r['wall']:>10.0f} "
                      f"{r['rss_mb']:>12.0f}")


if __name__ == "__main__":
    main()
