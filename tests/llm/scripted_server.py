"""A small OpenAI-protocol HTTP server on 127.0.0.1 that answers from a script.

Each request to /v1/chat/completions takes the next step of the script
(or asks `responder(request_json)` when the script is exhausted). A step
is a dict:

  {"text": "..."}                      200 with that completion text
  {"status": 429, "headers": {...}}    an error status (with a JSON error body)
  {"delay": 5.0, "text": "..."}        sleep first (a hung response)
  {"raw": "not json"}                  a 200 with a non-JSON body
  {"close": True}                      drop the connection without answering

Requests are logged (time received, path, JSON body) so tests can assert
what the client sent and when (e.g. that a Retry-After wait was honoured).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Step = dict[str, Any]


class ScriptedServer:
    def __init__(self, script: list[Step] | None = None, responder: Callable[[dict], Step] | None = None):
        self.script: list[Step] = list(script or [])
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------
    def __enter__(self) -> ScriptedServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/v1/models"):
                    self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                path = self.path.rstrip("/")
                with server._lock:
                    server.requests.append({"t": time.monotonic(), "path": path, "body": body})
                if path.endswith("/embeddings"):
                    inputs = body.get("input")
                    inputs = inputs if isinstance(inputs, list) else [inputs]
                    data = [
                        {"object": "embedding", "index": i, "embedding": _embed(str(x))}
                        for i, x in enumerate(inputs)
                    ]
                    self._json(200, {"object": "list", "data": data, "model": body.get("model"), "usage": {}})
                    return
                if not path.endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                step = server._next_step(body)
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer(step, body)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self, step: Step, body: dict) -> None:
                if step.get("delay"):
                    time.sleep(float(step["delay"]))
                if step.get("close"):
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if "raw" in step:
                    self._send(int(step.get("status", 200)), step["raw"].encode(), "application/json")
                    return
                status = int(step.get("status", 200))
                if status != 200:
                    err = {
                        "error": {"message": step.get("message", f"scripted {status}"), "type": "scripted"}
                    }
                    self._json(status, err, step.get("headers"))
                    return
                self._json(200, _completion(body, step), step.get("headers"))

            def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
                self._send(status, json.dumps(obj).encode(), "application/json", headers)

            def _send(
                self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None
            ) -> None:
                try:
                    self.send_response(status)
                    self.send_header("content-type", ctype)
                    self.send_header("content-length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): nothing to answer

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    # -- script ----------------------------------------------------------
    def _next_step(self, body: dict) -> Step:
        with self._lock:
            if self.script:
                return self.script.pop(0)
        if self.responder is not None:
            return self.responder(body)
        return {"status": 500, "message": "script exhausted"}

    def push(self, *steps: Step) -> None:
        with self._lock:
            self.script.extend(steps)

    def chat_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"].endswith("/chat/completions")]


def _completion(body: dict, step: Step) -> dict[str, Any]:
    text = step.get("text", "")
    prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
    usage = step.get("usage") or {
        "prompt_tokens": max(1, prompt_chars // 4),
        "completion_tokens": max(1, len(text) // 4),
    }
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": usage,
    }


def _embed(text: str, dim: int = 8) -> list[float]:
    """A deterministic toy embedding (character histogram), enough to exercise the protocol."""
    vec = [0.0] * dim
    for ch in text:
        vec[ord(ch) % dim] += 1.0
    norm = sum(v * v for v in vec) ** 0.5 or 1.0
    return [v / norm for v in vec]
