"""DemoVideo: the offline demo's video benchmark (vlmeval_steps/video/demo_clips.py), multiple choice.

Frames first, then upstream's MCQ prompt text; answers extracted and scored as ImageMCQDataset does.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ...scoring import mcq as mcq_scoring
from ...stats.outcomes import Outcomes
from ..mcq import ImageMCQDataset, mcq_prompt_text
from .base import VideoBaseDataset


class DemoVideo(VideoBaseDataset, ImageMCQDataset):
    TYPE = "MCQ"
    REQUIRED_COLUMNS = ("index", "question", "video", "A", "B")
    INDEX_MD5 = "f904878454d61d091853d1c723d4a26d"   # of the index prepare() writes for demo/DemoVideo

    def prepare(self, root: Path) -> pd.DataFrame:
        rows = json.loads((Path(root) / "questions.json").read_text())
        return pd.DataFrame([dict(index=i, video=r["video"], question=r["question"], **r["options"],
                                  answer=r["answer"], category=r["category"]) for i, r in enumerate(rows)])

    def video_file(self, video: str) -> str:
        return f"videos/{video}.mp4"

    def build_prompt(self, line) -> list[dict]:
        if self.setting.video_llm or self.setting.frames_id == "video":
            msgs = [dict(type="video", value=str(self.root / self.video_file(str(line["video"]))))]
        else:
            msgs = [dict(type="image", value=p) for p in self.frame_paths(line)]
        msgs.append(dict(type="text", value=mcq_prompt_text(line)))
        return msgs

    def outcomes(self, tables: dict) -> Outcomes:
        # several questions share one video: the video is the unit of resampling
        return mcq_scoring.outcomes(tables, self.dataset_name, self.video_units(tables["result"]), "video")
