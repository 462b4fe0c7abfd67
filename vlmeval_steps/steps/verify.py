"""verify: check a downloaded TSV's md5, then rename it into the data root (no copy).

A mismatch stops the run with the file, the expected and the actual md5, and keeps the bad
file aside for inspection; nothing is re-downloaded behind the user's back.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from ..errors import InputError
from ..fileio import md5_of

log = logging.getLogger(__name__)


def run(src: str | Path, out: str | Path, md5: str | None) -> str:
    src, out = Path(src), Path(out)
    actual = md5_of(src)
    if md5 and actual != md5:
        rejected = src.parent / "rejected" / f"{out.stem}.{actual}{out.suffix}"
        rejected.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, rejected)
        raise InputError(f"{out.name}: md5 mismatch: expected {md5}, got {actual}. The downloaded file was kept "
                         f"at {rejected}. If the upstream TSV changed on purpose, update the md5 in the config "
                         "(scores from different TSV versions are not comparable).")
    if not md5:
        log.warning("%s: no md5 configured; recording the actual md5 %s", out.name, actual)
    os.replace(src, out)
    log.info("%s verified (md5 %s)", out, actual)
    return actual
