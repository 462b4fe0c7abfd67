"""Frame settings from the config and the names they give outputs ({dataset}_8frame, _1fps, _subs).

A video benchmark's name in targets carries its setting as upstream's result names do:
results/M/MVBench_8frame_acc.csv is MVBench sampled at 8 frames, Video-MME_1fps_subs is Video-MME at
1 fps with subtitles. So settings live side by side and a target says which one it is.
"""
from __future__ import annotations

import logging

from ..datasets.video.base import FrameSetting
from ..errors import InputError
from ..names import split_setting as parse_setting

log = logging.getLogger(__name__)

DEFAULT_NFRAME = 8   # EvalScope's defaults (seeds): nframe 8, fps -1
DEFAULT_FPS = -1


def precedence_note(nframe: int, fps: float) -> str:
    return (f"nframe={nframe} and fps={fps:g} are both set: fps takes precedence, as in upstream's "
            f"save_video_frames (fps > 0 samples by the video's duration); nframe is ignored. "
            "Set fps: -1 to sample a fixed number of frames.")


def make_setting(nframe=DEFAULT_NFRAME, fps=DEFAULT_FPS, use_subtitle=False, video_llm=False,
                 warn: bool = True) -> FrameSetting:
    nframe = int(nframe if nframe is not None else DEFAULT_NFRAME)
    fps = float(fps if fps is not None else DEFAULT_FPS)
    if nframe < 0:
        raise InputError(f"nframe must be 0 or more, got {nframe}.")
    if fps > 0 and nframe > 0:
        if warn:
            log.warning(precedence_note(nframe, fps))
        nframe = 0
    return FrameSetting(nframe=nframe, fps=fps if fps > 0 else -1, use_subtitle=bool(use_subtitle),
                        video_llm=bool(video_llm))


def config_setting(config: dict, warn: bool = False) -> FrameSetting:
    """The config's nframe / fps / use_subtitle / video_llm (EvalScope's keys and defaults)."""
    return make_setting(config.get("nframe"), config.get("fps"), config.get("use_subtitle", False),
                        config.get("video_llm", False), warn=warn)


def named(dataset: str, setting: FrameSetting) -> str:
    """The name outputs use: upstream's {dataset}_{nframe}frame / _{fps}fps, then _subs."""
    return dataset + setting.dataset_suffix()


def split_setting(name: str, video_names, video_llm: bool = False) -> tuple[str, FrameSetting] | None:
    """'MVBench_8frame' -> ('MVBench', FrameSetting(nframe=8)); None when `name` is no video benchmark.
    A bare name ('MVBench') means no frames: the video file itself (upstream's nframe=0, fps=-1)."""
    names = set(video_names)
    if name in names:
        return name, FrameSetting(video_llm=video_llm)
    parsed = parse_setting(name)
    if parsed is None or parsed[0] not in names:
        return None
    base, nframe, fps, subs = parsed
    return base, FrameSetting(nframe=nframe, fps=fps, use_subtitle=subs, video_llm=video_llm)

