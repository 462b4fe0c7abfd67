"""The grammar of dataset names in file names and targets: the only place that parses them.

    MVBench_8frame_limit5  =  MVBench  +  _8frame (a video benchmark's frame setting)  +  _limit5 (a trial run)

A frame setting is `_{N}frame` or `_{F}fps`, optionally followed by `_subs` (Video-MME's subtitles); a limit is
`_limit{N}` with N >= 1 and always comes last. Python code uses the functions; the .smk files build their
wildcard constraints from the patterns.
"""
from __future__ import annotations

import re

#: a trial run's suffix (`--limit N`): the first N rows
LIMIT_PATTERN = r"_limit[1-9][0-9]*"
#: a video benchmark's frame setting (possibly empty): _8frame, _1fps, _0.5fps, each optionally + _subs
SETTING_PATTERN = r"(?:_[1-9][0-9]*frame|_[0-9]+(?:\.[0-9]+)?fps)?(?:_subs)?"

_LIMIT = re.compile(r"^(?P<base>.+)_limit(?P<limit>[1-9][0-9]*)$")
_SETTING = re.compile(r"^(?P<base>.+?)(?:_(?P<nframe>[1-9]\d*)frame|_(?P<fps>\d+(?:\.\d+)?)fps)?(?P<subs>_subs)?$")


def split_limit(dataset: str) -> tuple[str, int | None]:
    """'MMStar_limit20' -> ('MMStar', 20); 'MMStar' -> ('MMStar', None)."""
    m = _LIMIT.match(dataset)
    return (m["base"], int(m["limit"])) if m else (dataset, None)


def with_limit(dataset: str, limit: int | None) -> str:
    return f"{dataset}_limit{limit}" if limit else dataset


def is_trial(dataset: str) -> bool:
    """A `--limit` run's name (scored on its first rows only: not comparable with the full benchmark)."""
    return split_limit(dataset)[1] is not None


def split_setting(name: str) -> tuple[str, int, float, bool] | None:
    """'Video-MME_1fps_subs' -> ('Video-MME', 0, 1.0, True); None when the name carries no setting.

    Syntax only: whether the base is a video benchmark is the caller's question."""
    m = _SETTING.match(name)
    if not m or not (m["nframe"] or m["fps"] or m["subs"]):
        return None
    return m["base"], int(m["nframe"] or 0), float(m["fps"]) if m["fps"] else -1.0, bool(m["subs"])


def wildcard(alternatives: str, video: bool = False, limit: bool = True) -> str:
    """A Snakemake wildcard constraint: one of `alternatives` (a regex), with a setting if video, then a limit."""
    return f"(?:{alternatives})" + (SETTING_PATTERN if video else "") + (f"(?:{LIMIT_PATTERN})?" if limit else "")
