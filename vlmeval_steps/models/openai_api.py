"""OpenAIAPI: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, LMDeploy, Ollama,
transformers serve, ms-swift, SiliconFlow, ...), upstream's OpenAIWrapper / GPT4V.

Requests are what upstream sends: an optional system message, then one user message whose
content keeps the message's order, images as base64 JPEG data URLs re-encoded as upstream does
(RGB, thumbnail to `img_size` when > 0, JPEG quality 75, small images upscaled to a minimum
edge), `detail` = `img_detail`. The key is read from an environment variable (`key_env`,
default OPENAI_API_KEY) or a file (`key_file`) and is never logged: error texts are scrubbed of
it before they reach a log or the cache.
"""
from __future__ import annotations

import base64
import email.utils
import io
import logging
import os
import re
import time

from ..errors import InputError
from .api_base import APIConfigError, BaseAPI

log = logging.getLogger(__name__)

OFFICIAL_BASE = "https://api.openai.com/v1"
CHAT_SUFFIX = "/chat/completions"
# reasoning models take max_completion_tokens and reject temperature (as upstream's wrapper)
REASONING_MODEL = re.compile(r"(?:^|[^a-z0-9])o[134](?:$|[^a-z0-9])|gpt-5", re.IGNORECASE)
# keys some configs carry that are not request parameters (EvalScope's CustomAPIModel entries)
IGNORED_KEYS = ("video_llm", "verbose_log")


def normalise_base(api_base: str | None) -> str:
    """A base URL for the client. Accepts upstream's full '.../v1/chat/completions' too."""
    base = (api_base or os.environ.get("OPENAI_API_BASE") or "").strip()
    if not base or base.upper() == "OFFICIAL":
        return OFFICIAL_BASE
    base = base.rstrip("/")
    if base.endswith(CHAT_SUFFIX):
        base = base[: -len(CHAT_SUFFIX)]
    if not re.match(r"^https?://", base):
        raise InputError(f"api_base {base!r} is not an http(s) URL; give e.g. http://127.0.0.1:8000/v1.")
    return base


def resolve_key(key_env: str | None, key_file: str | None, base: str, who: str, key: str | None = None) -> str:
    """The API key: an explicit key, else the file `key_file`, else the env var `key_env`.

    Local servers (vLLM, Ollama, transformers serve) ignore the key, so only the official
    endpoint insists on one; elsewhere a missing key becomes the placeholder 'EMPTY'.
    """
    if key:
        return str(key).strip()
    if key_file:
        try:
            value = open(os.path.expanduser(key_file), encoding="utf-8").read().strip()
        except OSError as exc:
            raise InputError(f"{who}: cannot read key_file {key_file!r} ({exc.strerror}).") from None
        if not value:
            raise InputError(f"{who}: key_file {key_file!r} is empty.")
        return value
    env = key_env or "OPENAI_API_KEY"
    value = os.environ.get(env, "").strip()
    if value:
        return value
    if base == OFFICIAL_BASE:
        raise InputError(f"{who}: no API key. Set the environment variable {env}"
                         f"{'' if key_env else ' (or name another one with key_env)'}, or give key_file, "
                         "in the model's entry; or point api_base at your own server.")
    return "EMPTY"


def _resize(img, factor: float):
    w, h = img.size
    return img.resize((int(w * factor), int(h * factor)))


def encode_image(path: str, img_size: int = -1) -> str:
    """Base64 JPEG of the image at `path`, re-encoded as upstream's encode_image_to_base64."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()  # decoded pixels outlive the file; no copy needed
        img = im.convert("RGB") if im.mode not in ("RGB", "L") else im
    if img_size and img_size > 0:
        img.thumbnail((img_size, img_size))
    min_edge = int(float(os.environ.get("VLMEVAL_MIN_IMAGE_EDGE", 100)))
    max_size = int(float(os.environ.get("VLMEVAL_MAX_IMAGE_SIZE", 1e9)))
    if min(img.size) < min_edge:  # tiny images are rejected or mis-read by some servers
        img = _resize(img, min_edge / min(img.size))
    data = _jpeg_b64(img)
    factor = 1.0
    while len(data) > max_size:  # shrink until the payload fits the server's limit
        factor *= 0.7
        data = _jpeg_b64(_resize(img, factor))
    return data


def _jpeg_b64(img) -> str:
    buf = io.BytesIO()
    img.save(buf, format="JPEG")  # Pillow's default quality, 75, as upstream
    return base64.b64encode(buf.getvalue()).decode("ascii")


def retry_after_seconds(headers) -> float | None:
    """Retry-After as seconds (it may also be an HTTP date); retry-after-ms as OpenAI sends it."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class OpenAIAPI(BaseAPI):
    is_api = True
    INTERLEAVE = True

    def __init__(self, model: str | None = None, api_base: str | None = None, key_env: str | None = None,
                 key_file: str | None = None, key: str | None = None, temperature: float = 0,
                 max_tokens: int = 2048, img_size: int = -1, img_detail: str = "low",
                 system_prompt: str | None = None, timeout: float = 300, retry: int = 5, wait: float = 1,
                 verbose: bool = False, **kwargs):
        import openai

        model = model or kwargs.pop("type", None)  # EvalScope's CustomAPIModel names it `type`
        if not model:
            raise InputError("OpenAIAPI: `model` (the served model id) is required.")
        for k in IGNORED_KEYS:
            kwargs.pop(k, None)
        super().__init__(retry=retry, wait=wait, system_prompt=system_prompt, verbose=verbose, **kwargs)
        self.model = str(model)
        self.base = normalise_base(api_base)
        self._key = resolve_key(key_env, key_file, self.base, f"model {self.model!r}", key)
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.img_size = int(img_size)
        self.img_detail = img_detail
        self.timeout = float(timeout)
        # we retry ourselves (with Retry-After and jitter); the client must not retry as well
        self.client = openai.OpenAI(base_url=self.base, api_key=self._key, timeout=self.timeout, max_retries=0)
        if not verbose:  # one INFO line per request from the HTTP stack drowns the progress bar
            for name in ("httpx", "httpx2", "openai"):
                logging.getLogger(name).setLevel(logging.WARNING)
        log.info("OpenAIAPI %s at %s", self.model, self.base)  # never the key

    # ----- request building -------------------------------------------------------------
    def prepare_content(self, inputs: list[dict]):
        """Upstream's content: interleaved text/image parts, or one text when there is no image."""
        if not any(item["type"] == "image" for item in inputs):
            return "\n".join(item["value"] for item in inputs if item["type"] == "text")
        content = []
        for item in inputs:
            if item["type"] == "text":
                if item["value"]:
                    content.append({"type": "text", "text": item["value"]})
            elif item["type"] == "image":
                url = item["value"]
                if not url.startswith(("data:", "http://", "https://")):
                    url = "data:image/jpeg;base64," + encode_image(url, self.img_size)
                content.append({"type": "image_url", "image_url": {"url": url, "detail": self.img_detail}})
        return content

    def payload(self, inputs: list[dict], **kwargs) -> dict:
        kwargs.pop("dataset", None)
        messages = []
        if self.system_prompt:
            messages.append({"role": "system", "content": self.system_prompt})
        messages.append({"role": "user", "content": self.prepare_content(inputs)})
        temperature = kwargs.pop("temperature", self.temperature)
        max_tokens = kwargs.pop("max_tokens", self.max_tokens)
        body = {"model": self.model, "messages": messages}
        if REASONING_MODEL.search(self.model):
            body["max_completion_tokens"] = max_tokens
        else:
            body["temperature"] = temperature
            body["max_tokens"] = max_tokens
        if kwargs:  # anything else (top_p, seed, ...) goes in the body as given
            body["extra_body"] = kwargs
        return body

    # ----- the call -----------------------------------------------------------------------
    def redact(self, text) -> str:
        text = str(text)
        if self._key and len(self._key) >= 4 and self._key != "EMPTY":
            text = text.replace(self._key, "***")
        return text

    def generate_inner(self, inputs, **kwargs):
        import openai

        body = self.payload(inputs, **kwargs)
        try:
            resp = self.client.chat.completions.create(**body)
        except openai.APIStatusError as exc:
            return exc.status_code, self.fail_msg, self._status_failure(exc)
        except openai.APIConnectionError as exc:  # timeouts, refused and dropped connections
            cause = f" ({type(exc.__cause__).__name__}: {exc.__cause__})" if exc.__cause__ else ""
            return -1, self.fail_msg, dict(error=self.redact(f"{type(exc).__name__}: {exc}{cause}"), retryable=True)
        except (openai.APIResponseValidationError, ValueError) as exc:  # a malformed body
            return -1, self.fail_msg, dict(error=self.redact(f"malformed response: {exc}"), retryable=True)
        try:
            choice = resp.choices[0]
            answer = (choice.message.content or "").strip()
        except (AttributeError, IndexError, TypeError) as exc:
            return -1, self.fail_msg, dict(error=self.redact(f"malformed response: {exc!r}"), retryable=True)
        info = dict(finish_reason=getattr(choice, "finish_reason", None))
        usage = getattr(resp, "usage", None)
        if usage is not None:
            info["usage"] = {k: int(getattr(usage, k, 0) or 0)
                             for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
        if not answer:
            return -1, self.fail_msg, dict(info, error="empty answer", retryable=True)
        return 0, answer, info

    def _status_failure(self, exc) -> dict:
        status = exc.status_code
        body = self.redact(_error_text(exc))[:500]
        if status in (401, 403):
            raise APIConfigError(f"{self.base} refused the key for model {self.model!r} (HTTP {status}: {body}). "
                                 "Check the key's environment variable (key_env) or key_file.")
        if status == 404:
            raise APIConfigError(f"{self.base}: HTTP 404 for model {self.model!r} ({body}). Check api_base (a base "
                                 "URL such as http://host:port/v1) and that the server serves this model id.")
        retryable = status in (408, 409, 429) or status >= 500
        headers = getattr(getattr(exc, "response", None), "headers", None)
        return dict(error=f"HTTP {status}: {body}", status=status, retryable=retryable,
                    retry_after=retry_after_seconds(headers))


def _error_text(exc) -> str:
    """The server's own explanation (the response body), which the client's message leaves out."""
    try:
        text = exc.response.text
    except Exception:  # a streamed or closed response has no text to show
        text = ""
    return text.strip() or str(getattr(exc, "message", "") or exc)


class GPT4V(OpenAIAPI):
    """Upstream's name for the same wrapper; `dataset` is ignored, as upstream."""


class CustomAPIModel(OpenAIAPI):
    """EvalScope's name for an OpenAI-compatible endpoint (`type` = the served model id)."""
