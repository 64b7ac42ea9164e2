"""``scripted_server``: a real HTTP server on 127.0.0.1 that speaks enough of the OpenAI API to
test the client's own behaviour (endpoints, headers, retries, concurrency) in milliseconds.

Tests of real model output use ``transformers serve`` (``tests/generators/conftest.py``); this
server answers a completion that echoes the request, so what the client sent can be read back.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest


class ScriptedServer:
    """Answers each POST with the next status in ``script`` (then 200), after ``delay`` seconds.

    200: an OpenAI-shaped completion whose text echoes the request's last message or prompt.
    429 and 5xx: an error with ``Retry-After: 0``. Other 4xx: an error whose body repeats the
    ``Authorization`` header it got, as careless servers do. Records every request (``requests``:
    path, body, headers) and the most requests in flight at once (``most_in_flight``).
    """

    def __init__(self, script: tuple[int, ...] = (), delay: float = 0.0) -> None:
        self.script = list(script)
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.most_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                with server._lock:
                    server.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                    status = server.script.pop(0) if server.script else 200
                    server._in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server._in_flight)
                try:
                    time.sleep(server.delay)
                    self._answer(status, body)
                finally:
                    with server._lock:
                        server._in_flight -= 1

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                headers = {"Content-Type": "application/json"}
                if status == 200 and self.path.endswith("/chat/completions"):
                    choice = {"message": {"role": "assistant", "content": "echo: " + body["messages"][-1]["content"]},
                              "finish_reason": "stop"}
                    reply: dict[str, Any] = {"model": "served-" + body["model"], "choices": [choice],
                                             "usage": {"total_tokens": 3}}
                elif status == 200:
                    reply = {"model": "served-" + body["model"],
                             "choices": [{"text": "echo: " + body["prompt"], "finish_reason": "length"}]}
                elif status == 429 or status >= 500:
                    reply, headers["Retry-After"] = {"error": "try again"}, "0"
                else:
                    reply = {"error": f"invalid credentials: {self.headers.get('Authorization')}"}
                content = json.dumps(reply).encode()
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(content))}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(content)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def scripted_server() -> Iterator[Any]:
    """``make(script=(...), delay=...) -> ScriptedServer``; every server made is stopped at the end."""
    started: list[ScriptedServer] = []

    def make(**options: Any) -> ScriptedServer:
        started.append(ScriptedServer(**options))
        return started[-1]

    yield make
    for server in started:
        server.stop()
