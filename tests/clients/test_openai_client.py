"""The OpenAI-compatible client on its own, against a real scripted HTTP server on 127.0.0.1.

Its behaviour through the generator and the ``openai:`` backend, against ``transformers serve``,
is tested in ``tests/generators/``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any

import pytest

from biasinherit.clients import Completion, OpenAIClient, RequestFailed
from biasinherit.errors import BiasInheritError

SECRET = "sk-client-test-98765"


def send_all(client: OpenAIClient, bodies: list[dict[str, Any]]) -> list[Completion]:
    async def main() -> list[Completion]:
        async with client.connect() as session:
            return list(await asyncio.gather(*(session.send(b, index=i) for i, b in enumerate(bodies))))

    return asyncio.run(main())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # free once closed: nothing listens there


def test_chat_and_completions_requests_go_to_their_endpoints_with_the_key_in_the_header(
    scripted_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = scripted_server()
    monkeypatch.setenv("BI_CLIENT_KEY", SECRET)
    client = OpenAIClient("tiny", base_url=server.base_url + "/", api_key_env="BI_CLIENT_KEY")
    chat = client.request_body(messages=[{"role": "user", "content": "hello"}], temperature=0.0, max_tokens=5,
                               seed=1)
    plain = client.request_body(prompt="once upon", temperature=0.5, max_tokens=7, seed=2,
                                stop=["\n", ".", "!", "?", ";"])
    assert chat == {"model": "tiny", "messages": [{"role": "user", "content": "hello"}], "temperature": 0.0,
                    "max_tokens": 5, "seed": 1}
    assert plain["stop"] == ["\n", ".", "!", "?"]  # the API takes at most four
    assert send_all(client, [chat, plain]) == [
        Completion(text="echo: hello", finish_reason="stop", served_by="served-tiny", usage={"total_tokens": 3}),
        Completion(text="echo: once upon", finish_reason="length", served_by="served-tiny", usage=None),
    ]
    assert sorted(r["path"] for r in server.requests) == ["/v1/chat/completions", "/v1/completions"]
    assert all(r["headers"]["Authorization"] == f"Bearer {SECRET}" for r in server.requests)
    assert all(SECRET not in str(r["body"]) for r in server.requests)
    assert SECRET not in repr(client) and "tiny" in repr(client)
    with pytest.raises(ValueError, match="either messages"):
        client.request_body(temperature=0.0, max_tokens=1, seed=0)
    with pytest.raises(ValueError, match="either messages"):
        client.request_body(messages=[], prompt="x", temperature=0.0, max_tokens=1, seed=0)


def test_a_request_that_fails_for_good_raises_request_failed_without_the_key(
    scripted_server: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("BI_CLIENT_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    # a 4xx other than 429 is not retried; the server's answer repeats the key, the error does not
    server = scripted_server(script=(401,))
    client = OpenAIClient("tiny", base_url=server.base_url, api_key_env="BI_CLIENT_KEY", max_retries=5)
    body = client.request_body(prompt="x", temperature=0.0, max_tokens=1, seed=0)
    with pytest.raises(RequestFailed, match=r"^HTTP 401: .*invalid credentials: Bearer \*\*\*") as failed:
        send_all(client, [body])
    assert SECRET not in str(failed.value) and len(server.requests) == 1
    # 429 and 5xx are retried (Retry-After: 0 here) until the retries run out
    server = scripted_server(script=(429, 503, 500))
    client = OpenAIClient("tiny", base_url=server.base_url, api_key_env="BI_CLIENT_KEY", max_retries=2)
    with pytest.raises(RequestFailed, match=r"^HTTP 500$"):
        send_all(client, [body])
    assert len(server.requests) == 3
    assert [r.getMessage().split("; ")[1] for r in caplog.records if "retry" in r.getMessage()] == \
        ["retry 1 of 2 in 0.0 s", "retry 2 of 2 in 0.0 s"]
    assert SECRET not in caplog.text


def test_requests_in_flight_are_bounded_by_concurrency(scripted_server: Any) -> None:
    server = scripted_server(delay=0.3)
    client = OpenAIClient("tiny", base_url=server.base_url, api_key_env=None, concurrency=2)
    bodies = [client.request_body(prompt=str(i), temperature=0.0, max_tokens=1, seed=i) for i in range(6)]
    replies = send_all(client, bodies)
    assert [c.text for c in replies] == [f"echo: {i}" for i in range(6)]  # in the order asked
    assert server.most_in_flight == 2


def test_a_local_server_that_is_not_running_is_said_at_once() -> None:
    client = OpenAIClient("tiny", base_url=f"http://127.0.0.1:{free_port()}/v1", api_key_env=None,
                          max_retries=8, backoff_base=5.0)
    started = time.perf_counter()
    with pytest.raises(BiasInheritError, match=r"field '--base-url': cannot connect to .*refused.*is the server running"):
        send_all(client, [client.request_body(prompt="x", temperature=0.0, max_tokens=1, seed=0)])
    assert time.perf_counter() - started < 5  # no retries (a single backoff would be up to 5 s)


def test_key_variable_and_settings_are_checked_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BI_UNSET_KEY", raising=False)
    with pytest.raises(BiasInheritError, match="environment variable BI_UNSET_KEY is not set"):
        OpenAIClient("m", base_url="https://api.example.com/v1", api_key_env="BI_UNSET_KEY")
    # a local server needs no key, even when a variable is named; no variable at all means no key
    assert OpenAIClient("m", base_url="http://localhost:8000/v1", api_key_env="BI_UNSET_KEY").api_key_env == \
        "BI_UNSET_KEY"
    assert OpenAIClient("m", base_url="https://api.example.com/v1", api_key_env="").api_key_env is None
    assert OpenAIClient("m", api_key_env=None).base_url == "https://api.openai.com/v1"
    for options, message in (({"base_url": "ftp://x"}, "must start with http"),
                             ({"concurrency": 0}, "concurrency must be >= 1"),
                             ({"max_retries": -1}, "max_retries must be >= 0"),
                             ({"timeout": 0}, "timeout must be > 0")):
        with pytest.raises(BiasInheritError, match=message):
            OpenAIClient("m", api_key_env=None, **options)
    with pytest.raises(BiasInheritError, match="needs a model name"):
        OpenAIClient("", api_key_env=None)
