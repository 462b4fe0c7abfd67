"""A fault-injecting proxy in front of a real OpenAI-compatible server, on 127.0.0.1.

The real server (`transformers serve`) cannot be made to fail on demand, so this proxy fails a
chosen share of chat-completion requests itself, in the ways real deployments do: 429 with
Retry-After, 500, a reply slower than the client's timeout, a malformed JSON body, and a
connection dropped without a reply. Every other request is forwarded unchanged to the real
server, whose answer is relayed: the model answering is the real one.

Faults are drawn from a seeded generator, so a test run is repeatable. The proxy records, per
request body, how many attempts it saw, and how many requests it forwarded.
"""
from __future__ import annotations

import hashlib
import random
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("429", "500", "slow", "malformed", "drop")


class FaultyProxy:
    def __init__(self, upstream: str, fail_share: float = 1 / 3, seed: int = 0, slow_seconds: float = 3.0):
        self.upstream = upstream.rstrip("/")          # e.g. http://127.0.0.1:PORT/v1
        self.fail_share = fail_share
        self.slow_seconds = slow_seconds
        self.rng = random.Random(seed)
        self.attempts: Counter = Counter()            # request-body digest -> attempts seen
        self.faults: Counter = Counter()
        self.forwarded = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with owner._lock:
                    owner.attempts[hashlib.sha256(body).hexdigest()] += 1
                    fault = owner.rng.choice(FAULTS) if owner.rng.random() < owner.fail_share else None
                    if fault:
                        owner.faults[fault] += 1
                owner.respond(self, body, fault)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def respond(self, h: BaseHTTPRequestHandler, body: bytes, fault: str | None) -> None:
        if fault == "drop":  # RST without a reply
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
            h.close_connection = True
            return
        if fault == "429":
            return self._send(h, 429, b'{"error": {"message": "rate limited"}}', {"Retry-After": "0.2"})
        if fault == "500":
            return self._send(h, 500, b'{"error": {"message": "internal error"}}')
        if fault == "malformed":
            return self._send(h, 200, b'{"choices": [{"message": {"content": ')
        if fault == "slow":
            time.sleep(self.slow_seconds)  # longer than the client's timeout
        req = urllib.request.Request(self.upstream + h.path.removeprefix("/v1"), data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                status, data = r.status, r.read()
        except urllib.error.HTTPError as exc:
            status, data = exc.code, exc.read()
        with self._lock:
            self.forwarded += 1
        self._send(h, status, data)

    @staticmethod
    def _send(h, status: int, data: bytes, headers: dict | None = None) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout) first

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
