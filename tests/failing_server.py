"""A minimal HTTP server on 127.0.0.1 that produces the failures a real server will not produce on
demand: 429 with Retry-After, 500, 503, a malformed body, a dropped connection, an error body that
echoes the request's Authorization header. It is NOT a model server and is used only for those
failure and retry tests (and by the client benchmark); everything else runs against a real
`transformers serve` (the `openai_server` fixture).

Each request takes the next action from a script; when the script runs out, `default` is used.
Actions: "ok" (a well-formed chat completion whose text is `reply`), ("429", seconds),
"500", ("503", seconds), "400", "401", "404", "malformed", "reset", "echo_auth" (HTTP 500 whose
body quotes the Authorization header back), ("sleep", seconds) then ok, "chunked" (ok, in chunked
transfer encoding), "ok_then_close" (ok, then the socket is closed as an idle keep-alive times out).
"""
from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FailingServer:
    def __init__(self, script=(), default="ok", reply="B", latency: float = 0.0):
        self.script = list(script)
        self.default = default
        self.reply = reply
        self.latency = latency
        self.requests: list[dict] = []  # {"time", "headers", "body"} per request
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                with owner._lock:
                    owner.requests.append(dict(time=time.time(), headers={k.lower(): v for k, v in self.headers.items()},
                                               body=json.loads(raw or b"{}"), raw=raw))
                    action = owner.script.pop(0) if owner.script else owner.default
                owner.handle(self, action)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 1024
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # ----- responses ----------------------------------------------------------------------
    def completion(self, body: dict) -> dict:
        return {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "m"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": self.reply}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}}

    @staticmethod
    def send(handler, status: int, payload: bytes, headers=None, ctype="application/json"):
        handler.send_response(status)
        handler.send_header("content-type", ctype)
        handler.send_header("content-length", str(len(payload)))
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(payload)

    def handle(self, h, action):
        name, arg = (action if isinstance(action, tuple) else (action, None))
        if self.latency:
            time.sleep(self.latency)
        body = self.requests[-1]["body"]
        if name == "sleep":
            time.sleep(arg)
            name = "ok"
        if name == "ok":
            self.send(h, 200, json.dumps(self.completion(body)).encode())
        elif name == "ok_then_close":
            self.send(h, 200, json.dumps(self.completion(body)).encode())
            h.wfile.flush()
            h.close_connection = True  # no "Connection: close" said: the client learns it on its next request
        elif name == "chunked":
            payload = json.dumps(self.completion(body)).encode()
            h.send_response(200)
            h.send_header("content-type", "application/json")
            h.send_header("transfer-encoding", "chunked")
            h.end_headers()
            for i in range(0, len(payload), 50):
                piece = payload[i:i + 50]
                h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            h.wfile.write(b"0\r\n\r\n")
        elif name == "429":
            self.send(h, 429, b'{"error": {"message": "rate limited"}}', {"retry-after": str(arg)})
        elif name == "503":
            self.send(h, 503, b'{"error": {"message": "overloaded"}}', {"retry-after": str(arg)})
        elif name in ("400", "401", "404", "500"):
            self.send(h, int(name), json.dumps({"error": {"message": f"status {name}"}}).encode())
        elif name == "malformed":
            self.send(h, 200, b'{"choices": [ this is not json')
        elif name == "echo_auth":
            auth = h.headers.get("authorization", "")
            self.send(h, 500, json.dumps({"error": {"message": f"upstream refused header {auth}"}}).encode())
        elif name == "reset":
            # drop the connection without an answer (RST), as a crashed proxy does
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.close_connection = True
            h.connection.close()
        else:
            raise ValueError(f"unknown action {action!r}")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
