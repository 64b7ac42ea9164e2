"""The request cache is keyed by the server too: the same model name on two servers is two
models. Checked against two real HTTP servers that answer differently."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from biasinherit.generators.cache import request_key, server_of

CONTENT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.7,
           "max_tokens": 16, "seed": 1}
OLD_CHAT_KEY = "2b7c3903966f32abbf345afd20371fd1d3558746b35a751c058e249e297e3e30"  # before the server counted


def test_the_server_is_part_of_the_key_and_openais_keys_are_unchanged() -> None:
    local = request_key(CONTENT, server="http://127.0.0.1:8000/v1")
    assert local != request_key(CONTENT, server="http://127.0.0.1:8001/v1") != request_key(CONTENT)
    # spellings of one URL are one server
    assert request_key(CONTENT, server="HTTP://127.0.0.1:8000/v1/") == local
    # OpenAI's own server, named or not, keeps the keys its caches were written with
    assert request_key(CONTENT) == request_key(CONTENT, server="https://api.openai.com/v1/") == OLD_CHAT_KEY
    assert server_of("https://api.openai.com/v1") is None and server_of("http://h:1/v1") == "http://h:1/v1"


class _Server:
    """A minimal OpenAI-compatible chat endpoint that always replies ``reply``."""

    def __init__(self, reply: str) -> None:
        self.posts = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.posts += 1
                body = json.dumps({"model": "m", "choices": [{"message": {"role": "assistant", "content": reply},
                                                              "finish_reason": "stop"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def two_servers() -> Iterator[tuple[_Server, _Server]]:
    a, b = _Server("Reply from server A."), _Server("Reply from server B.")
    yield a, b
    a.close()
    b.close()


def test_one_model_name_on_two_servers_gets_each_servers_replies(two_servers: tuple[_Server, _Server],
                                                                 tmp_path: Path) -> None:
    import biasinherit

    a, b = two_servers
    records = [{"response": "The nurse finished the report.", "id": "r1"}]
    options = dict(generator="openai", model="m", api_key_env="", cache_dir=tmp_path / "cache", n=2,
                   on_unparseable="raw", parse_retries=0, max_retries=0)
    first = biasinherit.generate(records, base_url=a.base_url, **options)
    second = biasinherit.generate(records, base_url=b.base_url, **options)
    again = biasinherit.generate(records, base_url=a.base_url, **options)
    assert {r.response for r in first} == {"Reply from server A."}
    assert {r.response for r in second} == {"Reply from server B."}  # not server A's cached replies
    assert {r.response for r in again} == {"Reply from server A."}
    assert (a.posts, b.posts) == (2, 2)  # the rerun on A came from the cache
