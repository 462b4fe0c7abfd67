"""Images as upstream sends them to an API (base64 JPEG), each encoded once.

`encode_image` follows upstream's `encode_image_to_base64` step for step (vlmeval/smp/vlm.py at
e8e78f05), so the bytes a server receives are upstream's: RGBA/P/LA converted to RGB,
`thumbnail((img_size, img_size))` on the freshly opened image (Pillow may then decode a JPEG at a
reduced scale, as upstream does), JPEG at Pillow's default quality 75, an image whose short side
is under VLMEVAL_MIN_IMAGE_EDGE (100) scaled up to it, and one whose base64 exceeds
VLMEVAL_MAX_IMAGE_SIZE shrunk by upstream's factor steps until it fits.

`EncodedImages` keeps each encoding under a key of the image's content (sha256 of its bytes), the
size setting and those two limits: in memory for the process and on disk in a folder that every
model, shard, rerun and work dir of the user shares, so an image is re-encoded once, ever. `detail`
does not change the bytes, so it is not part of the key. Files are written beside and renamed:
a reader never sees half of one, and two writers of the same image write the same bytes.
"""
from __future__ import annotations

import base64
import collections
import hashlib
import io
import logging
import os
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

ENCODING_VERSION = 1      # bump when encode_image's output changes, so old entries are not reused
JPEG_MODES = ("1", "L", "RGB", "RGBX", "CMYK", "YCbCr")  # what Pillow's JPEG writer accepts
MEMORY_BUDGET = 256 * 2**20  # characters of base64 kept in memory per process


def _limits() -> tuple[int, int]:
    min_edge = int(float(os.environ.get("VLMEVAL_MIN_IMAGE_EDGE", 100)))
    max_size = int(float(os.environ.get("VLMEVAL_MAX_IMAGE_SIZE", 1e9)))
    return min_edge, max_size


def _resize(img, factor: float):
    w, h = img.size
    return img.resize((int(w * factor), int(h * factor)))


def _jpeg_b64(img) -> str:
    buf = io.BytesIO()
    img.save(buf, format="JPEG")  # Pillow's default quality, 75, as upstream
    return base64.b64encode(buf.getvalue()).decode("ascii")


def encode_image(path: str, img_size: int = -1) -> str:
    """Base64 JPEG of the image at `path`, byte for byte what upstream's encoder makes."""
    from PIL import Image

    min_edge, max_size = _limits()
    with Image.open(path) as img:
        if img.mode in ("RGBA", "P", "LA"):
            img = img.convert("RGB")
        elif img.mode not in JPEG_MODES:  # 16-bit, float, PA...: upstream's save would fail here
            img = img.convert("RGB")
        if img_size and img_size > 0:
            img.thumbnail((img_size, img_size))  # before any load: JPEG draft decoding, as upstream
        data = _jpeg_b64(img)
        if min(img.size) < min_edge:  # tiny images are rejected or mis-read by some servers
            data = _jpeg_b64(_resize(img, min_edge / min(img.size)))
        factor = min(1, (max_size / len(data)) ** 0.5)
        while len(data) > max_size:  # shrink the (un-upscaled) image until the payload fits
            data = _jpeg_b64(_resize(img, factor))
            factor *= min(1, (max_size / len(data)) ** 0.5)
    return data


def default_directory() -> Path:
    """$VLMEVAL_STEPS_IMAGE_CACHE, else ~/.cache/vlmeval-steps/api-images (XDG_CACHE_HOME honoured)."""
    env = os.environ.get("VLMEVAL_STEPS_IMAGE_CACHE", "").strip()
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "vlmeval-steps" / "api-images"


class EncodedImages:
    """Encoded images by content: memory first, then the shared folder, then `encode_image`."""

    def __init__(self, directory: str | Path | None = None, memory_budget: int = MEMORY_BUDGET):
        self.directory = Path(directory) if directory else default_directory()
        self.memory_budget = memory_budget
        self._memory: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._memory_size = 0
        self._digests: dict[tuple, str] = {}  # (path, size, mtime) -> sha256 of the file
        self._lock = threading.Lock()
        self._pending: dict[str, threading.Lock] = {}
        self._disk_ok = True
        self.stats = dict(memory=0, disk=0, encoded=0)

    # ----- keys ---------------------------------------------------------------------------
    def key(self, path: str, img_size: int) -> str:
        st = os.stat(path)
        memo = (path, st.st_size, st.st_mtime_ns)
        digest = self._digests.get(memo)
        if digest is None:
            with open(path, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            self._digests[memo] = digest
        min_edge, max_size = _limits()
        size = int(img_size) if img_size and img_size > 0 else -1
        return f"{digest}-s{size}-e{min_edge}-m{max_size}-v{ENCODING_VERSION}"

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.b64"

    # ----- lookups --------------------------------------------------------------------------
    def cached(self, path: str, img_size: int) -> str | None:
        """The encoding if this process already holds it (no file read beyond a stat)."""
        key = self.key(path, img_size)
        with self._lock:
            data = self._memory.get(key)
            if data is not None:
                self._memory.move_to_end(key)
                self.stats["memory"] += 1
        return data

    def get(self, path: str, img_size: int) -> str:
        key = self.key(path, img_size)
        with self._lock:
            data = self._memory.get(key)
            if data is not None:
                self.stats["memory"] += 1
                return data
            gate = self._pending.setdefault(key, threading.Lock())
        with gate:  # requests for one image that arrive together: the first encodes, the rest wait for it
            with self._lock:
                data = self._memory.get(key)
            if data is not None:
                self.stats["memory"] += 1
                return data
            data = self._load_or_encode(key, path, img_size)
        with self._lock:
            self._pending.pop(key, None)
        return data

    def _load_or_encode(self, key: str, path: str, img_size: int) -> str:
        data = self._read(key)
        if data is None:
            data = encode_image(path, img_size)
            self.stats["encoded"] += 1
            self._write(key, data)
        else:
            self.stats["disk"] += 1
        self._remember(key, data)
        return data

    def _remember(self, key: str, data: str) -> None:
        with self._lock:
            if key in self._memory:
                return
            self._memory[key] = data
            self._memory_size += len(data)
            while self._memory_size > self.memory_budget and len(self._memory) > 1:
                _, old = self._memory.popitem(last=False)
                self._memory_size -= len(old)

    def _read(self, key: str) -> str | None:
        try:
            data = self._file(key).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            return None
        return data or None

    def _write(self, key: str, data: str) -> None:
        if not self._disk_ok:
            return
        path = self._file(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:  # a read-only or full disk only costs re-encoding, never a failure
            self._disk_ok = False
            log.warning("cannot write encoded images to %s (%s); they are kept in memory only", self.directory, exc)


_shared: EncodedImages | None = None
_shared_lock = threading.Lock()


def shared_images() -> EncodedImages:
    """The process's one store (every model and judge in it shares the memory budget)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.directory != default_directory():
            _shared = EncodedImages()
        return _shared
