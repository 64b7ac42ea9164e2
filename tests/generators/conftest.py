"""Fixtures for the LLM generator tests: a tiny chat model, a real server, a fault-injecting proxy.

- ``tiny_chat_model``: a Llama-architecture causal LM with random weights and a byte-level BPE
  tokenizer trained here on a few sentences, with a simple chat template, saved to a folder.
- ``chat_server``: ``transformers serve`` pinned to that folder on 127.0.0.1 (one per session),
  stopped by pid at the end.
- ``fault_proxy``: a factory for :class:`FaultProxy`, a small threaded HTTP proxy in front of the
  server that, seeded, drops connections, answers 429 with Retry-After, 500, hangs past the
  client's timeout, returns truncated JSON, and counts what it saw.
"""

from __future__ import annotations

import http.server
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)
TRAINING_TEXTS = [
    "You are helping to build a training set. Write ONE new example for the same task.",
    'Reply with a JSON object {"prompt": "...", "response": "..."} and nothing else.',
    "The nurse said that she would finish the report before the meeting.",
    "The engineer said that he would fix the bridge next week.",
    "Describe a day at work. Maria is a chef in Berlin; she cooks every morning.",
    "Example prompt: Write about a teacher. Example response: Mr. Tanaka teaches maths.",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def tiny_chat_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-chat-llama")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "</s>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(TRAINING_TEXTS, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>")
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=bpe.get_vocab_size(), hidden_size=32, intermediate_size=64,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=4096, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def chat_server(tiny_chat_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of ``transformers serve`` pinned to the tiny model."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("serve-log") / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [str(VENV_BIN / "transformers"), "serve", str(tiny_chat_model), "--host", "127.0.0.1",
             "--port", str(port), "--device", "cpu", "--default-seed", "0"],
            stdout=log_file, stderr=subprocess.STDOUT, env=env,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited ({proc.returncode}): {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve not ready after 90 s: {log_path.read_text()[-2000:]}")
            time.sleep(0.25)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- the fault-injecting proxy -----------------------------------------------------------------

FAULTS = ("drop", "429", "500", "hang", "truncate")


class FaultProxy:
    """A threaded HTTP proxy to ``upstream`` that injects faults into POSTs, seeded.

    The first POSTs get the faults listed in ``script`` (None: no fault), in arrival order; after
    that each POST draws from ``random.Random(seed)`` (under a lock): with probability
    ``fault_rate`` it gets one of ``faults`` instead of (or, for ``truncate``, on top of) the
    upstream answer. ``delay`` slows every forwarded request. Counters: ``posts`` (every
    POST that arrived), ``forwarded`` (POSTs the upstream answered), ``faults`` by kind,
    ``authorization`` (the Authorization headers seen), ``bodies`` (forwarded request bodies).
    """

    def __init__(self, upstream: str, *, fault_rate: float = 0.0, seed: int = 0,
                 faults: tuple[str, ...] = FAULTS, script: tuple[str | None, ...] = (),
                 hang_seconds: float = 3.0, retry_after: str = "0", delay: float = 0.0) -> None:
        unknown = (set(faults) | {f for f in script if f}) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}")
        self.upstream = upstream.rstrip("/")
        self.fault_rate = fault_rate
        self.fault_kinds = faults
        self.script = list(script)
        self.hang_seconds = hang_seconds
        self.retry_after = retry_after
        self.delay = delay
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.posts = 0
        self.forwarded = 0
        self.faults: Counter[str] = Counter()
        self.authorization: list[str | None] = []
        self.bodies: list[dict[str, Any]] = []
        self._client = httpx.Client(timeout=60)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                answer = proxy._client.get(proxy.upstream + self.path)
                self._reply(answer.status_code, answer.content)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with proxy._lock:
                    proxy.posts += 1
                    proxy.authorization.append(self.headers.get("Authorization"))
                    fault = None
                    if proxy.script:
                        fault = proxy.script.pop(0)
                    elif proxy._rng.random() < proxy.fault_rate:
                        fault = proxy._rng.choice(proxy.fault_kinds)
                    if fault:
                        proxy.faults[fault] += 1
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "429":
                    self._reply(429, b'{"error": "rate limited"}', {"Retry-After": proxy.retry_after})
                    return
                if fault == "500":
                    self._reply(500, b'{"error": "internal"}')
                    return
                if fault == "hang":
                    time.sleep(proxy.hang_seconds)
                    self.close_connection = True
                    return
                if proxy.delay:
                    time.sleep(proxy.delay)
                answer = proxy._client.post(
                    proxy.upstream + self.path, content=body,
                    headers={"Content-Type": "application/json"},
                )
                with proxy._lock:
                    proxy.forwarded += 1
                    proxy.bodies.append(json.loads(body))
                content = answer.content
                if fault == "truncate":
                    content = content[: len(content) // 2]
                self._reply(answer.status_code, content)

            def _reply(self, status: int, content: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(content)

        class QuietServer(http.server.ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                # a client that timed out and went away is an expected event here, not an error
                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                    super().handle_error(request, client_address)

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()


@pytest.fixture
def fault_proxy(chat_server: str) -> Iterator[Any]:
    """``make(**options) -> FaultProxy`` in front of the session's server; all stopped at the end."""
    upstream = chat_server[: -len("/v1")]
    started: list[FaultProxy] = []

    def make(**options: Any) -> FaultProxy:
        proxy = FaultProxy(upstream, **options).start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()
