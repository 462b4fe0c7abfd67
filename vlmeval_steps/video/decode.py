"""Decode chosen frames of a video with PyAV, counting and indexing frames as upstream's decord does.

decord (upstream's reader) counts a video's frames by demuxing every packet of its video stream and
sorting their presentation timestamps: frame i is the i-th packet in presentation order, and
`get_avg_fps()` is the stream's average frame rate. PyAV's `stream.frames` is the container's header
count instead (0 for many files, and not always the packet count), and seeking lands on key frames, so
neither is used: `probe` demuxes as decord does, and `read` decodes the stream once, front to back,
keeping the frames whose timestamps are the wanted ones. A frame folder (MVBench's tvqa clips) is
read as upstream reads it: its files counted, frame i being `{i:05d}.jpg`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image


class VideoError(Exception):
    """A video that cannot be read (missing, corrupt, cut short, no video stream)."""


@dataclass
class Probe:
    n_frames: int          # decord's len(vr)
    fps: float             # decord's get_avg_fps()
    pts: list              # presentation timestamps in order (stream time base); None for a frame folder
    time_base: float = 0.0
    start: float = 0.0     # the stream's start time, in seconds
    keys: list = None      # timestamps of key frames (where decoding may start after a seek)

    def timestamp(self, index: int) -> float:
        """Seconds from the stream's start to frame `index` (decord's get_frame_timestamp start)."""
        if self.pts is None:
            return index / self.fps if self.fps else 0.0
        return round(self.pts[index] * self.time_base - self.start, 6)


def _open(path: Path):
    import av

    if not path.exists():
        raise VideoError(f"{path}: file not found")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise VideoError(f"{path}: cannot be opened as a video ({exc})") from None
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path}: has no video stream")
    return container


def probe(path: str | Path, folder_fps: float = 3.0) -> Probe:
    """A video file as decord sees it; a frame folder as upstream's read_frame does (its entries counted,
    at the benchmark's folder rate)."""
    path = Path(path)
    if path.is_dir():
        return Probe(n_frames=len(os.listdir(path)), fps=float(folder_fps), pts=None)
    import av

    container = _open(path)
    try:
        stream = container.streams.video[0]
        pts, keys = [], []
        try:
            for packet in container.demux(stream):
                if packet.size == 0 and packet.pts is None:
                    continue  # the demuxer's end-of-stream marker, not a frame
                pts.append(packet.pts if packet.pts is not None else packet.dts)
                if packet.is_keyframe and pts[-1] is not None:
                    keys.append(pts[-1])
        except av.error.FFmpegError as exc:
            raise VideoError(f"{path}: corrupt or cut short while reading its packets ({exc})") from None
        if any(p is None for p in pts):  # no timestamps at all: packet order is presentation order
            pts, keys = list(range(len(pts))), []
        pts.sort()
        keys.sort()
        rate = stream.average_rate
        tb = float(stream.time_base) if stream.time_base else 0.0
        start = (stream.start_time or 0) * tb
        return Probe(n_frames=len(pts), fps=float(rate) if rate else 0.0, pts=pts, time_base=tb, start=start,
                     keys=keys)
    finally:
        container.close()


def read(path: str | Path, indices: list[int], info: Probe | None = None,
         folder_name=lambda i: f"{i:05d}.jpg") -> dict[int, Image.Image]:
    """{index: RGB image} for the wanted frame indices (each decoded once, however often it is wanted).
    In a frame folder, frame i is the file folder_name(i) (upstream: 1-based, 00001.jpg)."""
    path = Path(path)
    info = info or probe(path)
    wanted = sorted(set(int(i) for i in indices))
    if info.pts is None:
        out = {}
        for i in wanted:
            f = path / folder_name(i)
            if not f.exists():
                raise VideoError(f"{f}: frame {i} of the folder is missing ({info.n_frames} files there)")
            try:
                with Image.open(f) as im:
                    out[i] = im.convert("RGB")
            except OSError as exc:
                raise VideoError(f"{f}: cannot be read as an image ({exc})") from None
        return out
    bad = [i for i in wanted if not 0 <= i < info.n_frames]
    if bad:
        raise VideoError(f"{path}: frame indices {bad[:5]} are outside its {info.n_frames} frames")
    by_pts = {info.pts[i]: i for i in wanted}
    out: dict[int, Image.Image] = {}
    import av

    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            if info.keys and len(info.keys) > 1:
                _by_seeking(container, stream, info, by_pts, out)
            if len(out) < len(by_pts):  # no key frames to seek to, or a seek that landed wrong: front to back
                if out:
                    container.seek(0, stream=stream, backward=True)
                _front_to_back(container, stream, info, {p: i for p, i in by_pts.items() if i not in out}, out)
        except av.error.FFmpegError as exc:
            missing = sorted(set(by_pts.values()) - set(out))
            raise VideoError(f"{path}: corrupt or cut short: decoding failed before frame(s) {missing[:5]} "
                             f"({exc})") from None
    finally:
        container.close()
    missing = sorted(set(by_pts.values()) - set(out))
    if missing:
        raise VideoError(f"{path}: frame(s) {missing[:5]} of {info.n_frames} could not be decoded "
                         "(the file is corrupt or cut short)")
    return {i: out[i] for i in wanted}


def _front_to_back(container, stream, info: Probe, by_pts: dict, out: dict) -> None:
    position = 0  # frames seen, for frames without timestamps
    last = max(by_pts)
    for frame in container.decode(stream):
        key = frame.pts if frame.pts is not None else (info.pts[position] if position < info.n_frames else None)
        position += 1
        if key in by_pts:
            out[by_pts[key]] = _upright(frame)
            if all(i in out for i in by_pts.values()):
                return
        if key is not None and key > last:
            return


def _by_seeking(container, stream, info: Probe, by_pts: dict, out: dict) -> None:
    """Wanted frames grouped by the key frame before them: a seek to each group's key frame, then decoding
    forward to its frames, matched by timestamp as decord matches them (never by counting after a seek).
    A group that follows on from the frames just decoded is reached by decoding on, without a seek."""
    from bisect import bisect_right

    groups: dict = {}
    for p in sorted(by_pts):
        groups.setdefault(info.keys[max(0, bisect_right(info.keys, p) - 1)], []).append(p)
    frames, decoded_to = None, None
    for key, targets in groups.items():
        if frames is None or decoded_to is None or decoded_to < key:
            container.seek(key, stream=stream, backward=True)
            frames = container.decode(stream)
        wanted, last = set(targets), targets[-1]
        for frame in frames:
            if frame.pts is None:
                return  # no timestamps to match by: the caller decodes front to back
            decoded_to = frame.pts
            if frame.pts in wanted:
                out[by_pts[frame.pts]] = _upright(frame)
                wanted.discard(frame.pts)
            if not wanted or frame.pts >= last:
                break


def _upright(frame) -> Image.Image:
    """The frame as decord gives it: turned by the stream's display rotation (phone videos), a multiple of 90."""
    image = frame.to_image()
    turn = round(getattr(frame, "rotation", 0) or 0) % 360
    return image.rotate(turn, expand=True) if turn in (90, 180, 270) else image
