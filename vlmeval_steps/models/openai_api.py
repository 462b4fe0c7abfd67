"""OpenAIAPI: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, LMDeploy, Ollama,
transformers serve, ms-swift, SiliconFlow, ...), upstream's OpenAIWrapper / GPT4V.

Requests are byte for byte what upstream's wrapper sends (vlmeval/api/gpt.py at e8e78f05): the
payload `model, messages[, n], temperature, <extra keys>, max_tokens` serialised with `json.dumps`
defaults; an optional system message, then one user message whose content keeps the message's
order, images as base64 JPEG data URLs re-encoded as upstream does (image_payload.py),
`detail` = `img_detail`; a message without images is one text part, its texts joined by newlines.

The path is built for throughput: each image is encoded once per content and size (a cache
shared by every model, shard and rerun), the body is serialised once per request (retries resend
the same bytes), and requests run as coroutines on one event loop (aio.py) over httpx2 (the
openai package's own HTTP stack), one keep-alive connection per lane so no request scans a pool.
Failures become the openai package's exception types (RateLimitError, APITimeoutError, ...) and
then the same verdicts as before: what is retried, what fails a sample, what stops the job.

The key is read from an environment variable (`key_env`, default OPENAI_API_KEY) or a file
(`key_file`) and is never logged: error texts are scrubbed of it before they reach a log or the
cache.
"""
from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import re
import secrets
import ssl
import time
import urllib.request

from ..errors import InputError
from . import aio, http11
from .api_base import APIConfigError, BaseAPI
from .base import normalise_input
from .image_payload import encode_image, shared_images  # noqa: F401 - encode_image is part of the API

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


# stands for an image in the serialised body until its base64 is spliced in (random: no text has it)
_MARKER = f"@vlmeval-steps-image-{secrets.token_hex(8)}@"
_SSL: ssl.SSLContext | None = None  # loading the CA bundle costs ~30 ms: once per process


def _ssl_context() -> ssl.SSLContext:
    global _SSL
    if _SSL is None:
        _SSL = ssl.create_default_context()
    return _SSL


def _status_error(resp):
    """The openai package's exception for an HTTP error response (as its own client raises)."""
    import openai

    status = resp.status_code
    cls = {400: openai.BadRequestError, 401: openai.AuthenticationError, 403: openai.PermissionDeniedError,
           404: openai.NotFoundError, 409: openai.ConflictError, 422: openai.UnprocessableEntityError,
           429: openai.RateLimitError}.get(status)
    if cls is None:
        cls = openai.InternalServerError if status >= 500 else openai.APIStatusError
    try:
        body = json.loads(resp.content)
    except ValueError:
        body = None
    return cls(f"Error code: {status} - {body if body is not None else resp.text}", response=resp, body=body)


def _connection_error(exc, url: str):
    """openai's APITimeoutError / APIConnectionError for a transport failure, caused by it."""
    import httpx2
    import openai

    try:
        request = exc.request
    except (AttributeError, RuntimeError):
        request = httpx2.Request("POST", url)
    err = (openai.APITimeoutError(request=request)
           if isinstance(exc, (httpx2.TimeoutException, asyncio.TimeoutError, TimeoutError))
           else openai.APIConnectionError(request=request))
    err.__cause__ = exc
    return err


class _Lanes:
    """Idle HTTP clients of one connection each. A request takes one and gives it back; a lane is
    made when none is idle, so there are as many as the most requests ever in flight. (httpx's
    pool scans all its connections per request: 128 in one pool cost more than the request.)
    Used only on the API loop, so no lock."""

    def __init__(self, make):
        self.make = make
        self.idle: list = []
        self.all: list = []

    def take(self):
        if self.idle:
            return self.idle.pop()
        client = self.make()
        self.all.append(client)
        return client

    def give(self, client) -> None:
        self.idle.append(client)

    async def aclose(self) -> None:
        clients, self.all, self.idle = self.all, [], []
        await asyncio.gather(*(_aclose(c) for c in clients), return_exceptions=True)


async def _aclose(client) -> None:
    if isinstance(client, http11.Connection):
        client.close()
    else:
        await client.aclose()


class OpenAIAPI(BaseAPI):
    is_api = True
    INTERLEAVE = True

    def __init__(self, model: str | None = None, api_base: str | None = None, key_env: str | None = None,
                 key_file: str | None = None, key: str | None = None, temperature: float = 0,
                 max_tokens: int = 2048, img_size: int = -1, img_detail: str = "low",
                 system_prompt: str | None = None, timeout: float = 300, retry: int = 5, wait: float = 1,
                 verbose: bool = False, **kwargs):
        model = model or kwargs.pop("type", None)  # EvalScope's CustomAPIModel names it `type`
        if not model:
            raise InputError("OpenAIAPI: `model` (the served model id) is required.")
        for k in IGNORED_KEYS:
            kwargs.pop(k, None)
        super().__init__(retry=retry, wait=wait, system_prompt=system_prompt, verbose=verbose, **kwargs)
        self.model = str(model)
        self.base = normalise_base(api_base)
        self.url = self.base + CHAT_SUFFIX
        self._key = resolve_key(key_env, key_file, self.base, f"model {self.model!r}", key)
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.img_size = int(img_size)
        self.img_detail = img_detail
        self.timeout = float(timeout)
        self.images = shared_images()
        self._headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self._key}"}
        self._lanes = _Lanes(self._new_lane)
        # reading proxies from the environment costs ~1 ms per client: only when one is set
        self._trust_env = bool({"http", "https", "all"} & set(urllib.request.getproxies()))
        if not self._trust_env:  # no proxy: our own thin HTTP/1.1 client (http11.py)
            target = http11.Target(self.url, self._headers, _ssl_context() if self.url.startswith("https:") else None)
            self._lanes = _Lanes(lambda: http11.Connection(target))
        if not verbose:  # one INFO line per request from the HTTP stack drowns the progress bar
            for name in ("httpx", "httpx2", "openai"):
                logging.getLogger(name).setLevel(logging.WARNING)
        log.info("OpenAIAPI %s at %s", self.model, self.base)  # never the key

    def _new_lane(self):
        import httpx2

        # one connection per lane; we retry ourselves (with Retry-After and jitter), httpx must not
        return httpx2.AsyncClient(headers=self._headers, timeout=self.timeout,
                                  limits=httpx2.Limits(max_connections=1, max_keepalive_connections=1),
                                  verify=_ssl_context(),  # shared: httpx loads the CA bundle per client
                                  trust_env=self._trust_env)

    # ----- request building -------------------------------------------------------------
    def _image_url(self, value: str, encoded: dict | None = None) -> str:
        if value.startswith(("data:", "http://", "https://")):
            return value
        data = encoded.get(value) if encoded else None
        return "data:image/jpeg;base64," + (data if data is not None else self.images.get(value, self.img_size))

    def prepare_content(self, inputs: list[dict], encoded: dict | None = None, image_url=None) -> list[dict]:
        """Upstream's content: interleaved text/image parts, or one text part without images."""
        if not any(item["type"] in ("image", "video") for item in inputs):
            return [{"type": "text", "text": "\n".join(item["value"] for item in inputs if item["type"] == "text")}]
        image_url = image_url or (lambda value: self._image_url(value, encoded))
        content = []
        for item in inputs:
            if item["type"] == "text":
                if item["value"]:
                    content.append({"type": "text", "text": item["value"]})
            elif item["type"] == "image":
                content.append({"type": "image_url", "image_url": {"url": image_url(item["value"]),
                                                                   "detail": self.img_detail}})
            elif item["type"] == "video":  # video_llm: upstream's video message (LMDeployAPI's video_url)
                from .video_content import video_data_url

                content.append({"type": "video_url", "video_url": {"url": video_data_url(item["value"])}})
        return content

    def payload(self, inputs: list[dict], encoded: dict | None = None, image_url=None, **kwargs) -> dict:
        """The request as upstream's OpenAIWrapper.generate_inner builds it, key order included."""
        kwargs.pop("dataset", None)
        kwargs.pop("stream", None)  # answers are read whole
        messages = []
        from .multiturn import is_dialog
        from .video_content import api_system_prompt

        if is_dialog(inputs):  # a conversation (chat_inner): each turn with its own role
            if self.system_prompt is not None:
                messages.append({"role": "system", "content": self.system_prompt})
            for turn in inputs:
                messages.append({"role": turn["role"], "content": self.prepare_content(turn["content"], encoded,
                                                                                       image_url)})
        else:
            system, inputs = api_system_prompt(self.system_prompt, inputs)  # a video benchmark's system items
            if system is not None:
                messages.append({"role": "system", "content": system})
            messages.append({"role": "user", "content": self.prepare_content(inputs, encoded, image_url)})
        temperature = kwargs.pop("temperature", self.temperature)
        max_tokens = kwargs.pop("max_tokens", self.max_tokens)
        body = {"model": self.model, "messages": messages}
        if "openai.com" in self.base:  # upstream sends n=1 only to OpenAI itself
            body["n"] = 1
        body["temperature"] = temperature
        body.update(kwargs)  # anything else (top_p, seed, ...) as given
        if REASONING_MODEL.search(self.model):
            body.pop("temperature")
            body["max_completion_tokens"] = max_tokens
        else:
            body["max_tokens"] = max_tokens
        if "gemini" in self.model:  # upstream's quirk for Gemini behind an OpenAI-compatible URL
            body.pop("max_tokens", None)
            body.pop("n", None)
            body["reasoning_effort"] = "high"
        return body

    def body(self, inputs: list[dict], encoded: dict | None = None, **kwargs) -> bytes:
        """The request's bytes: `json.dumps` with its defaults, as upstream's `requests.post(data=...)`.

        Base64 needs no JSON escaping, so each encoded image is spliced into the serialised text
        instead of being scanned by the encoder (most of the body's bytes): the same bytes, faster."""
        images: list[str] = []

        def placeholder(value: str) -> str:
            if value.startswith(("data:", "http://", "https://")):
                return value  # a user's URL may need escaping: serialised as is
            images.append(value)
            return f"{_MARKER}{len(images) - 1}{_MARKER}"

        text = json.dumps(self.payload(inputs, image_url=placeholder, **kwargs))
        if not images:
            return text.encode("ascii")
        pieces = text.split(_MARKER)  # text, index, text, index, ..., text
        out = []
        for i, piece in enumerate(pieces):
            if i % 2:
                value = images[int(piece)]
                data = encoded.get(value) if encoded else None
                out.append(b"data:image/jpeg;base64,")
                out.append((data if data is not None else self.images.get(value, self.img_size)).encode("ascii"))
            else:
                out.append(piece.encode("ascii"))
        return b"".join(out)

    async def abody(self, inputs: list[dict], **kwargs) -> bytes:
        """`body`, with images not yet in memory read or encoded off the loop."""
        encoded = {}
        items = [i for turn in inputs for i in turn["content"]] if inputs and "role" in inputs[0] else inputs
        for item in items:
            value = item["value"]
            if item["type"] != "image" or value.startswith(("data:", "http://", "https://")):
                continue
            data = self.images.cached(value, self.img_size)
            if data is None:
                data = await asyncio.get_running_loop().run_in_executor(None, self.images.get, value, self.img_size)
            encoded[value] = data
        return self.body(inputs, encoded, **kwargs)

    # ----- the call -----------------------------------------------------------------------
    def redact(self, text) -> str:
        text = str(text)
        if self._key and len(self._key) >= 4 and self._key != "EMPTY":
            text = text.replace(self._key, "***")
        return text

    def generate(self, message, **kwargs):
        """(answer, ok, info), run on the API loop (callers in threads share its connections)."""
        return aio.run(self.agenerate(message, **kwargs))

    def generate_inner(self, inputs, **kwargs):
        return aio.run(self.agenerate_inner(inputs, **kwargs))

    async def agenerate(self, message, **kwargs):
        """The retry loop around one body, serialised once: every attempt sends the same bytes."""
        message = normalise_input(message)
        try:
            body = await self.abody(message, **{**self.default_kwargs, **kwargs})
        except (OSError, ValueError) as exc:  # a missing or unreadable image: no retry can fix it
            return self.fail_msg, False, dict(error=self.redact(f"cannot build the request: {exc}"), retryable=False)
        return await super().agenerate(message, _body=body, **kwargs)

    # ----- multi-turn (upstream's BaseAPI.chat / chat_inner with OpenAIWrapper's role-tagged inputs) -----
    def chat_inner(self, messages, **kwargs):
        """(ret_code, answer, info) for the conversation so far, sent as one request of role-tagged
        messages (user turns with their images, the model's own earlier answers as assistant turns)."""
        kwargs.pop("dataset", None)
        return aio.run(self._achat(messages, retry=False, **kwargs))

    def chat(self, messages, dataset=None, **kwargs):
        """(answer, ok, info): chat_inner inside the retry loop of `generate`. As upstream's chat_inner, a
        conversation whose request cannot be built (an unreadable image) drops its oldest turns, up to
        the next user turn, and tries again."""
        return aio.run(self._achat(messages, retry=True, **kwargs))

    async def _achat(self, messages, retry: bool, **kwargs):
        dialog = normalise_input(list(messages))
        if not dialog or "role" not in dialog[0] or dialog[-1]["role"] != "user":
            raise ValueError("chat takes a conversation of {'role', 'content'} turns ending with a user turn")
        kwargs = {**self.default_kwargs, **kwargs}
        error = None
        while dialog:
            try:
                body = await self.abody(dialog, **kwargs)
            except (OSError, ValueError) as exc:
                error = exc
                dialog = dialog[1:]
                while dialog and dialog[0]["role"] != "user":
                    dialog = dialog[1:]
                continue
            if retry:
                return await BaseAPI.agenerate(self, dialog, _body=body, **kwargs)
            return await self.agenerate_inner(dialog, _body=body, **kwargs)
        answer = self.fail_msg + ": " + "Failed with all possible conversation turns."
        info = dict(error=self.redact(f"cannot build the request: {error}"), retryable=False)
        return (answer, False, info) if retry else (-1, answer, info)

    async def agenerate_inner(self, inputs, _body: bytes | None = None, **kwargs):
        import httpx2

        body = _body if _body is not None else await self.abody(inputs, **kwargs)
        lane = self._lanes.take()
        try:
            if isinstance(lane, http11.Connection):
                if hasattr(asyncio, "timeout"):  # Python 3.11+: no extra task per request
                    async with asyncio.timeout(self.timeout):
                        reply = await lane.post(body)
                else:
                    reply = await asyncio.wait_for(lane.post(body), self.timeout)
                status, content = reply.status, reply.content
            else:  # httpx2, through the proxy the environment names
                resp = await lane.post(self.url, content=body)
                status, content = resp.status_code, resp.content
        except (httpx2.TransportError, http11.HTTPError, OSError, asyncio.TimeoutError) as exc:
            # timeouts, refused and dropped connections: as the openai client reports them
            if isinstance(lane, http11.Connection):
                lane.close()
            err = _connection_error(exc, self.url)
            return -1, self.fail_msg, dict(error=self.redact(f"{type(err).__name__}: {err} "
                                                            f"({type(exc).__name__}: {exc})"), retryable=True)
        finally:
            self._lanes.give(lane)
        if not 200 <= status < 300:
            if isinstance(lane, http11.Connection):
                resp = httpx2.Response(status, headers=list(reply.headers.items()), content=content,
                                       request=httpx2.Request("POST", self.url))
            return status, self.fail_msg, self._status_failure(_status_error(resp))
        try:
            data = json.loads(content)
            choice = data["choices"][0]
            answer = (choice["message"]["content"] or "").strip()
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            return -1, self.fail_msg, dict(error=self.redact(f"malformed response: {exc!r}"), retryable=True)
        info = dict(finish_reason=choice.get("finish_reason"))
        usage = data.get("usage")
        if isinstance(usage, dict):
            info["usage"] = {k: int(usage.get(k) or 0) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
        if not answer:
            return -1, self.fail_msg, dict(info, error="empty answer", retryable=True)
        return 0, answer, info

    def close(self) -> None:
        """Close this model's connections (a process that ends closes them anyway)."""
        if self._lanes.all and not aio.in_loop_thread():
            aio.run(self._lanes.aclose())

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
        return dict(error=f"HTTP {status}: {body}", status=status, error_type=type(exc).__name__,
                    retryable=retryable, retry_after=retry_after_seconds(headers))


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
