"""One client for OpenAI-compatible servers (OpenAI, vLLM, Ollama, llama.cpp, ``transformers serve``).

The ``openai`` generator and the ``openai:`` evaluation backend both talk to such servers through
this module, so the two share one answer to each of these questions:

- Where and as whom: a base URL (``http://`` or ``https://``) and an API key read from the
  environment variable named by ``api_key_env``. The key is kept in memory only: it is sent in the
  ``Authorization`` header and appears in no ``repr``, log line, error message or request body
  (so in no cache key either).
- Is the server there: a server on this machine that refuses the connection is not running, and
  that is said at once (:class:`~biasinherit.errors.BiasInheritError`) instead of after minutes of
  retries; a remote one may be restarting, and is retried.
- How many at once: at most ``concurrency`` requests in flight per :meth:`OpenAIClient.connect`.
- What is retried: 429, 5xx, timeouts, connection errors and broken bodies (not JSON, no
  ``choices``), with exponential backoff and full jitter or the server's ``Retry-After``, up to
  ``max_retries`` times. Other 4xx answers (bad request, unknown model, bad key) are not: they
  raise :class:`RequestFailed` at once, as does a request whose retries ran out.
- Which endpoint: a body with ``messages`` goes to ``/chat/completions`` (the server applies the
  model's chat template), a body with ``prompt`` to the legacy ``/completions``.

It talks HTTP through ``httpx.AsyncClient`` directly rather than through the ``openai`` package:
httpx is already a core dependency, and owning the retry loop is what lets it honour
``Retry-After`` (seconds or HTTP date), treat a malformed body like a transient error, and keep the
key out of every message. Synchronous callers run its coroutines with
:func:`biasinherit.clients.event_loop.run_to_completion`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from biasinherit.clients.retry import backoff_delay, parse_retry_after
from biasinherit.errors import BiasInheritError

__all__ = ["DEFAULT_BASE_URL", "LOCAL_HOSTS", "Completion", "OpenAIClient", "OpenAISession", "RequestFailed"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_RETRY_AFTER = 300.0  # never sleep longer than this on a server's say-so
MAX_STOP_SEQUENCES = 4  # the API takes at most four


class RequestFailed(Exception):
    """A request that failed for good: its retries ran out, or the server gave an answer that is
    not worth retrying (a 4xx other than 429). The message never holds the API key."""


class _MalformedBody(ValueError):
    """A 2xx answer whose body is not a completion (retried like a server error)."""


@dataclass(frozen=True)
class Completion:
    """What the server answered to one request (its first choice)."""

    text: str
    finish_reason: str | None
    served_by: str | None  # the model name the server reports, which may differ from the one asked for
    usage: dict[str, Any] | None


class OpenAIClient:
    """The settings of one OpenAI-compatible server; :meth:`connect` opens a session on it.

    It holds no open connection itself: an ``httpx.AsyncClient`` belongs to one event loop, and
    each synchronous call may run on a loop of its own.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str | None = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout: float = 60.0,
        max_retries: int = 8,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
    ) -> None:
        if not model:
            raise BiasInheritError("an OpenAI-compatible server needs a model name", field="--model")
        if concurrency < 1:
            raise BiasInheritError(f"concurrency must be >= 1, got {concurrency}", field="--concurrency")
        if max_retries < 0:
            raise BiasInheritError(f"max_retries must be >= 0, got {max_retries}", field="--max-retries")
        if timeout <= 0:
            raise BiasInheritError(f"timeout must be > 0, got {timeout}", field="--timeout")
        self.model = model
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise BiasInheritError(f"base URL must start with http:// or https://, got '{base_url}'",
                                   field="--base-url")
        self.api_key_env = api_key_env or None
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._api_key = self._read_api_key()

    def _read_api_key(self) -> str | None:
        if self.api_key_env is None:
            return None
        key = os.environ.get(self.api_key_env, "").strip()
        if key:
            return key
        if self.is_local:
            return None  # a local server needs no key
        raise BiasInheritError(
            f"environment variable {self.api_key_env} is not set; export the API key in it "
            f"(or name another variable with --api-key-env)",
            field="--api-key-env",
        )

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIClient(model={self.model!r}, base_url={self.base_url!r})"

    @property
    def is_local(self) -> bool:
        """The server runs on this machine (then it needs no key, and a refusal means it is down)."""
        return urlsplit(self.base_url).hostname in LOCAL_HOSTS

    def check_server(self) -> None:
        """A server on this machine that refuses the connection is not running: say so at once
        rather than retrying for minutes (a remote one may be restarting, and is retried)."""
        import socket

        if not self.is_local:
            return
        parts = urlsplit(self.base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname, port), timeout=min(self.timeout, 10.0)):
                return
        except OSError as exc:
            raise BiasInheritError(f"cannot connect to {self.base_url} ({exc.strerror or exc}): is the server "
                                   "running on that port?", field="--base-url") from None

    def request_body(
        self,
        *,
        messages: Sequence[dict[str, str]] | None = None,
        prompt: str | None = None,
        temperature: float,
        max_tokens: int,
        seed: int,
        stop: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A chat request (``messages``) or a completions request (``prompt``) for this model.

        The body is plain data, so a caller can also key a cache on it; it never holds the key.
        """
        if (messages is None) == (prompt is None):
            raise ValueError("a request has either messages (chat) or a prompt (completions), not both")
        body: dict[str, Any] = {"model": self.model}
        if messages is not None:
            body["messages"] = [dict(m) for m in messages]
        else:
            body["prompt"] = prompt
        body.update(temperature=temperature, max_tokens=max_tokens, seed=seed)
        if stop:
            body["stop"] = list(stop)[:MAX_STOP_SEQUENCES]
        return body

    def served_models(self) -> list[str]:
        """The model ids ``GET /models`` lists (one for a vLLM or llama.cpp server), so that
        ``openai:URL`` can name a server whose one model is then used."""
        import httpx

        self.check_server()
        try:
            response = httpx.get(f"{self.base_url}/models", headers=self._headers(), timeout=min(self.timeout, 30.0))
            response.raise_for_status()
            data = response.json().get("data", [])
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise BiasInheritError(f"cannot list the models of {self.base_url} ({self._scrub(str(exc))[:160]}); "
                                   "name the model: openai:MODEL with --base-url", field="--model") from None
        return [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[OpenAISession]:
        """A session: one connection pool and one bound on requests in flight, for one event loop.

        A local server that is not running is said here, before any request is sent.
        """
        self.check_server()
        import httpx

        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        async with httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), limits=limits) as http:
            yield OpenAISession(self, http)

    # ---- one request, with its retries (used by OpenAISession) ----------------------------------

    def _url(self, body: dict[str, Any]) -> str:
        return f"{self.base_url}/{'chat/completions' if 'messages' in body else 'completions'}"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    async def _send_with_retries(self, http: Any, body: dict[str, Any], index: int) -> Completion:
        """POST one request until a usable completion arrives."""
        import httpx

        url = self._url(body)
        rng = random.Random()  # jitter only decides *when* to retry, never what is generated
        for attempt in range(self.max_retries + 1):
            retry_after: float | None = None
            try:
                response = await http.post(url, json=body, headers=self._headers())
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                status = response.status_code
                if status == 429 or status >= 500:
                    error = f"HTTP {status}"
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                elif status >= 400:
                    raise RequestFailed(self._scrub(f"HTTP {status}: {response.text[:200]}"))
                else:
                    try:
                        return _read_completion(response, chat="messages" in body)
                    except _MalformedBody as exc:
                        error = f"malformed reply ({exc})"
            error = self._scrub(error)
            if attempt == self.max_retries:
                raise RequestFailed(error)
            if retry_after is not None:
                delay = min(retry_after, MAX_RETRY_AFTER)
            else:
                delay = backoff_delay(attempt + 1, base=self.backoff_base, cap=self.backoff_max, rng=rng)
            log.warning("request %d to %s: %s; retry %d of %d in %.1f s", index, url, error, attempt + 1,
                        self.max_retries, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises


class OpenAISession:
    """Requests to one server on one event loop, at most ``client.concurrency`` in flight."""

    def __init__(self, client: OpenAIClient, http: Any) -> None:
        self.client = client
        self._http = http
        self._slots = asyncio.Semaphore(client.concurrency)

    async def send(self, body: dict[str, Any], *, index: int = 0) -> Completion:
        """The completion for a body from :meth:`OpenAIClient.request_body`, retried as the client
        says; :class:`RequestFailed` when it fails for good. ``index`` names it in log lines."""
        async with self._slots:  # a request waiting out its backoff keeps its slot
            return await self.client._send_with_retries(self._http, body, index)


def _read_completion(response: Any, *, chat: bool) -> Completion:
    """The first choice of a 2xx answer, or _MalformedBody for a body that holds none."""
    try:
        data = response.json()
    except ValueError:
        raise _MalformedBody("body is not JSON") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _MalformedBody("no choices")
    if chat:
        message = choices[0].get("message")
        text = message.get("content") if isinstance(message, dict) else None
    else:
        text = choices[0].get("text")
    if not isinstance(text, str):
        raise _MalformedBody("no message content" if chat else "no completion text")
    usage = data.get("usage")
    return Completion(text=text, finish_reason=choices[0].get("finish_reason"), served_by=data.get("model"),
                      usage=usage if isinstance(usage, dict) else None)
