"""A model or judge whose key is missing or refused stops the run before any job runs or is submitted (issue 17)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.slow

GOOD, WRONG = "good-key-7f3a9c", "wrong-key-5d81e2"


class KeyedServer:
    """An OpenAI-compatible endpoint on loopback that accepts one key: GET /v1/models and POST
    /v1/chat/completions answer 401 for any other (as OpenAI, or vLLM with --api-key, do)."""

    def __init__(self):
        self.posts = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self):
                if self.headers.get("authorization") == f"Bearer {GOOD}":
                    return True
                self._reply(401, {"error": {"message": "Incorrect API key provided"}})
                return False

            def do_GET(self):
                if self._authorised():
                    self._reply(200, {"object": "list", "data": [{"id": "keyed", "object": "model"}]})

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length") or 0))
                owner.posts += 1
                if self._authorised():
                    self._reply(200, {"id": "c", "object": "chat.completion", "created": int(time.time()),
                                      "model": "keyed", "choices": [{"index": 0, "finish_reason": "stop",
                                                                     "message": {"role": "assistant", "content": "A"}}]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def keyed_server():
    server = KeyedServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def nothing_ran(workflow) -> bool:
    return not (workflow.root / "logs").exists() and not (workflow.root / "work").exists()


def test_a_missing_key_stops_the_run_before_any_job(workflow):
    env = {"OPENAI_API_BASE": "", "VLMEVAL_STEPS_TEST_ABSENT": ""}
    cfg = workflow.config()
    cfg["custom_models"] = {"NoKey": {"class": "OpenAIAPI", "model": "gpt-4o-mini", "key_env": "VLMEVAL_STEPS_TEST_ABSENT"}}
    workflow.write_config(dict(cfg, models=["NoKey"], limit=4))
    proc = workflow.snakemake(check=False, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "model 'NoKey': no API key" in out and "VLMEVAL_STEPS_TEST_ABSENT" in out, out[-3000:]
    assert nothing_ran(workflow)

    # the same for an LLM judge
    cfg["judge"] = {"model": "gpt-4o-mini", "key_env": "VLMEVAL_STEPS_TEST_ABSENT"}
    workflow.write_config(dict(cfg, models=["TinyLLaVA-Demo"], limit=4))
    proc = workflow.snakemake(check=False, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "no API key" in out and "judge 'gpt-4o-mini-2024-07-18'" in out
    assert nothing_ran(workflow)


def test_a_refused_key_stops_the_run_before_any_job_and_a_good_one_runs(workflow, keyed_server):
    cfg = workflow.config()
    cfg["custom_models"] = {"Keyed": {"class": "OpenAIAPI", "model": "keyed", "api_base": keyed_server.base_url,
                                      "key_env": "VLMEVAL_STEPS_TEST_KEY", "img_size": -1}}
    workflow.write_config(dict(cfg, models=["Keyed"], limit=4))
    proc = workflow.snakemake(check=False, env={"VLMEVAL_STEPS_TEST_KEY": WRONG})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "refused the key from the environment variable VLMEVAL_STEPS_TEST_KEY (HTTP 401)" in out
    assert WRONG not in out
    assert nothing_ran(workflow) and keyed_server.posts == 0

    workflow.snakemake(env={"VLMEVAL_STEPS_TEST_KEY": GOOD})
    assert (workflow.root / "results/Keyed/DemoShapes_limit4_acc.csv").exists()
    assert keyed_server.posts == 4
