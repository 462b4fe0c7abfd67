"""A minimal HTTP/1.1 client for one thing: POST a JSON body to a chat-completions URL, read the
reply. Used when no proxy is configured (otherwise the requests go through httpx2, which reads
the proxy settings); it costs a fraction of a general client per request, which is what lets one
core drive hundreds of requests a second.

One `Connection` is one keep-alive socket (plain or TLS); the caller holds it for one request at
a time. Replies may carry Content-Length, chunked transfer encoding or end at connection close.
A kept-alive socket the server closed while idle is reopened and the request sent again, once,
when not a byte of the reply had arrived (as every HTTP client does).
"""
from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit


class HTTPError(Exception):
    """The connection failed or the reply could not be read (the request may have been sent)."""


class Reply:
    __slots__ = ("status", "headers", "content")

    def __init__(self, status: int, headers: dict[str, str], content: bytes):
        self.status = status
        self.headers = headers  # lower-case names
        self.content = content


class Target:
    """Where requests go and the fixed part of every request's head."""

    def __init__(self, url: str, headers: dict[str, str], ssl_context: ssl.SSLContext | None = None):
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.ssl = (ssl_context or ssl.create_default_context()) if self.https else None
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default_port = self.port == (443 if self.https else 80)
        host = self.host if ":" not in self.host else f"[{self.host}]"
        lines = [f"POST {path} HTTP/1.1", f"Host: {host if default_port else f'{host}:{self.port}'}",
                 "Accept: application/json", "Accept-Encoding: identity", "Connection: keep-alive",
                 "User-Agent: vlmeval-steps"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")


class Connection:
    def __init__(self, target: Target):
        self.target = target
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        t = self.target
        self.reader, self.writer = await asyncio.open_connection(
            t.host, t.port, ssl=t.ssl, server_hostname=t.host if t.ssl else None, limit=2**20)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post(self, body: bytes) -> Reply:
        reused = self.writer is not None
        if not reused:
            await self._open()
        try:
            return await self._exchange(body)
        except _StaleConnection:
            if not reused:
                raise HTTPError("the server closed the connection without a reply") from None
        # a kept-alive socket the server had closed: once more on a fresh one
        self.close()
        await self._open()
        try:
            return await self._exchange(body)
        except _StaleConnection:
            raise HTTPError("the server closed the connection without a reply") from None

    async def _exchange(self, body: bytes) -> Reply:
        reader, writer = self.reader, self.writer
        try:
            writer.write(self.target.head + str(len(body)).encode() + b"\r\n\r\n" + body)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                self.close()
                if not exc.partial:
                    raise _StaleConnection() from None
                raise HTTPError("the reply's head was cut off") from None
            status, headers = _parse_head(head)
            content = await _read_body(reader, headers, status)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            self.close()
            raise HTTPError(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:  # a timeout or a cancel mid-reply: the socket's state is unknown
            self.close()
            raise
        if headers.get("connection", "").lower() == "close" or "content-length" not in headers \
                and "chunked" not in headers.get("transfer-encoding", "").lower():
            self.close()
        return Reply(status, headers, content)


class _StaleConnection(Exception):
    """The server closed the socket cleanly before any byte of a reply (an idle keep-alive)."""


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"not an HTTP reply: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return int(parts[1]), headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str], status: int) -> bytes:
    if status in (204, 304) or 100 <= status < 200:
        return b""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    return await reader.read()  # the reply ends when the server closes
