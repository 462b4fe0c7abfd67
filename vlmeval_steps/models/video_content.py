"""What a video benchmark's message adds for chat-template models: roles on items and video files.

Upstream's video benchmarks put `role` on single items: MVBench opens with a system text and ends
with an assistant prefix ('Best option:('); an item of type `video` is the video file itself (video_llm).
"""
from __future__ import annotations


def split_roles(message: list[dict]) -> tuple[list[str], list[dict], list[str]]:
    """(system texts, user items, assistant prefix texts) of a message of {type, value[, role]} items."""
    system, user, prefix = [], [], []
    for item in message:
        role = item.get("role", "user")
        if role == "system" and item["type"] == "text":
            system.append(item["value"])
        elif role == "assistant" and item["type"] == "text":
            prefix.append(item["value"])
        else:
            user.append(item)
    return system, user, prefix


def video_part(path: str, processor) -> dict:
    """A chat-template video entry, for processors that take video (others get frames: video_llm off)."""
    if getattr(processor, "video_processor", None) is None:
        raise ValueError(f"this model's processor ({type(processor).__name__}) takes no video: evaluate it on frames "
                         "(video_llm: false in the config, with nframe or fps set).")
    return {"type": "video", "path": path}


VIDEO_MIME = {".mp4": "video/mp4", ".avi": "video/avi", ".mkv": "video/x-matroska", ".mov": "video/quicktime",
              ".webm": "video/webm", ".flv": "video/x-flv"}


def video_data_url(path: str) -> str:
    """Upstream's video_url for an API: the file as a base64 data URL (mp4 unless the suffix says otherwise)."""
    import base64
    from pathlib import Path

    if path.startswith(("data:", "http://", "https://", "file://")):
        return path
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"data:{VIDEO_MIME.get(Path(path).suffix.lower(), 'video/mp4')};base64,{data}"


def api_system_prompt(own: str | None, inputs: list[dict]) -> tuple[str | None, list[dict]]:
    """Upstream's BaseAPI.preprocess_message_with_role: system items become the system prompt (each text
    followed by a newline, after the model's own); every other item loses its role (an assistant prefix is
    sent as user text, as upstream sends it)."""
    if not any("role" in item for item in inputs):
        return own, inputs
    system = "".join(item["value"] + "\n" for item in inputs if item.get("role") == "system")
    rest = [{k: v for k, v in item.items() if k != "role"} for item in inputs if item.get("role") != "system"]
    if not system:
        return own, rest
    if own is None:
        return system, rest
    return (own if system in own else own + "\n" + system), rest
