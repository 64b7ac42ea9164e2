"""The ``openai`` generator: any OpenAI-compatible chat-completions endpoint.

Works with OpenAI, vLLM, Ollama, llama.cpp and ``transformers serve``. It talks HTTP through
``httpx.AsyncClient`` directly rather than through the ``openai`` package: httpx is already a core
dependency, and owning the retry loop is what lets it honour ``Retry-After`` (seconds or HTTP date),
treat a malformed reply like a transient error, and keep the API key out of every error message.

- Concurrency: at most ``concurrency`` requests in flight (an asyncio semaphore).
- Endpoint: ``chat_template`` ``auto`` or ``on`` sends chat messages to ``/chat/completions``
  (the server applies the model's chat template); ``off`` sends the request as raw text to the
  legacy ``/completions`` endpoint.
- Retries: on 429, 5xx, timeouts, connection errors and broken bodies (not JSON, no
  ``choices``), with exponential backoff and full jitter, or the server's ``Retry-After``, up to
  ``max_retries`` times. Other 4xx answers (bad request, unknown model, bad key) are not retried.
- Reparsing: a reply that the server sent fine but that holds no usable example
  (:mod:`.replies`) is asked for again at once, with the seed moved on by one so a deterministic
  server does not return the same reply, at most ``parse_retries`` times. Then it counts as
  unparsed: ``on_unparseable="error"`` fails the run with the count after every request is done;
  ``"raw"`` keeps the text, marked ``meta["parse_failed"]``. No backoff is spent on replies that
  a small model will not get right by waiting.
- Cache: every final reply (parsed or not) is stored under the hash of its request content
  (:mod:`biasinherit.generators.cache`) before the request counts as done, so a killed run,
  rerun, sends only the requests that are missing, and a rerun of a finished run sends none.
- Output order is the order of the planned outputs, never the order of completion.
- The API key is read from the environment variable named by ``api_key_env`` and kept in memory
  only: provenance records the variable's name, and error messages are scrubbed of the key.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from biasinherit.errors import BiasInheritError
from biasinherit.generators.base import GenerationRequest, ProgressCallback, provenance
from biasinherit.generators.cache import RequestCache, request_key
from biasinherit.generators.prompts import (
    DEFAULT_REQUEST_STYLE,
    MalformedReply,
    PlannedOutput,
    chat_messages,
    check_reply_options,
    plan_outputs,
    record_from_reply,
    reply_parses,
)
from biasinherit.generators.retry import backoff_delay, parse_retry_after
from biasinherit.records import Record

__all__ = ["DEFAULT_BASE_URL", "OpenAIGenerator", "OnUnparseable"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_RETRY_AFTER = 300.0  # never sleep longer than this on a server's say-so
OnUnparseable = Literal["error", "raw"]


class _RequestFailed(Exception):
    """One request gave up (retries exhausted or a non-retryable answer)."""


class OpenAIGenerator:
    """Augmented records from an OpenAI-compatible chat endpoint.

    ``on_unparseable``: ``"error"`` (default) asks again for a reply that does not parse, up to
    ``parse_retries`` times, then fails the run with the count of unparsed replies. ``"raw"``
    keeps such text as the response (the prompt is the original's) and marks the record
    ``meta["parse_failed"] = True``.
    """

    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key_env: str | None = "OPENAI_API_KEY",
        concurrency: int = 8,
        cache_dir: str | Path | None = None,
        temperature: float = 0.7,
        max_tokens: int = 256,
        timeout: float = 60.0,
        max_retries: int = 8,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        on_unparseable: OnUnparseable = "error",
        parse_retries: int = 2,
        chat_template: Literal["auto", "on", "off"] = "auto",
        request_style: str = DEFAULT_REQUEST_STYLE,
    ) -> None:
        if not model:
            raise BiasInheritError("the openai generator needs a model name", field="--model")
        if concurrency < 1:
            raise BiasInheritError(f"concurrency must be >= 1, got {concurrency}", field="--concurrency")
        if max_retries < 0:
            raise BiasInheritError(f"max_retries must be >= 0, got {max_retries}", field="--max-retries")
        if max_tokens < 1:
            raise BiasInheritError(f"max_tokens must be >= 1, got {max_tokens}", field="--max-new-tokens")
        if temperature < 0:
            raise BiasInheritError(f"temperature must be >= 0, got {temperature}", field="--temperature")
        if timeout <= 0:
            raise BiasInheritError(f"timeout must be > 0, got {timeout}", field="--timeout")
        check_reply_options(on_unparseable=on_unparseable, chat_template=chat_template,
                            request_style=request_style, parse_retries=parse_retries)
        self.parse_retries = parse_retries
        self.chat_template = chat_template
        self.request_style = request_style
        self.model = model
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise BiasInheritError(f"base URL must start with http:// or https://, got '{base_url}'",
                                   field="--base-url")
        self.api_key_env = api_key_env or None
        self.concurrency = concurrency
        self.cache_dir = cache_dir
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.on_unparseable = on_unparseable
        self._api_key = self._read_api_key()

    def _read_api_key(self) -> str | None:
        if self.api_key_env is None:
            return None
        key = os.environ.get(self.api_key_env, "").strip()
        if key:
            return key
        if urlsplit(self.base_url).hostname in LOCAL_HOSTS:
            return None  # a local server needs no key
        raise BiasInheritError(
            f"environment variable {self.api_key_env} is not set; export the API key in it "
            f"(or name another variable with --api-key-env)",
            field="--api-key-env",
        )

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIGenerator(model={self.model!r}, base_url={self.base_url!r})"

    def arguments(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "base_url": self.base_url,
            "api_key_env": self.api_key_env,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "max_retries": self.max_retries,
            "parse_retries": self.parse_retries,
            "on_unparseable": self.on_unparseable,
            "chat_template": self.chat_template,
            "request_style": self.request_style,
        }

    @property
    def uses_chat(self) -> bool:
        """Chat messages to ``/chat/completions`` (the server applies the template), or raw text
        to ``/completions`` (``chat_template="off"``)."""
        return self.chat_template != "off"

    # ---- public API ------------------------------------------------------------------------

    def generate(
        self,
        originals: Sequence[Record],
        request: GenerationRequest,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Record]:
        """Synchronous wrapper around :meth:`agenerate`.

        Runs its own event loop; from inside a running loop it runs that loop in a worker thread.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.agenerate(originals, request, progress=progress))
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(asyncio.run, self.agenerate(originals, request, progress=progress))
            return future.result()

    async def agenerate(
        self,
        originals: Sequence[Record],
        request: GenerationRequest,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Record]:
        from biasinherit.taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
        plans = plan_outputs(originals, request, taxonomy, style=self.request_style)
        cache = RequestCache(self.cache_dir)
        replies: list[str | None] = [None] * len(plans)
        pending: list[tuple[PlannedOutput, dict[str, Any], str]] = []
        for plan in plans:
            content = self.request_content(plan)
            key = request_key(content)
            text = self._cached_reply(cache, key)
            if text is None:
                pending.append((plan, content, key))
            else:
                replies[plan.index] = text
        done = len(plans) - len(pending)
        log.info("openai: %d requests, %d from the cache (%s), %d to send to %s",
                 len(plans), done, cache.root, len(pending), self.base_url)
        if progress is not None:
            progress(done, len(plans))

        failures: list[str] = []
        if pending:
            self._check_local_server()
            import httpx

            semaphore = asyncio.Semaphore(self.concurrency)
            limits = httpx.Limits(max_connections=self.concurrency,
                                  max_keepalive_connections=self.concurrency)
            async with httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), limits=limits) as client:

                async def run_one(plan: PlannedOutput, content: dict[str, Any], key: str) -> None:
                    nonlocal done
                    async with semaphore:
                        entry = await self._ask(client, plan, content)
                    cache.put(key, entry)
                    replies[plan.index] = entry["content"]
                    done += 1
                    if progress is not None:
                        progress(done, len(plans))

                outcomes = await asyncio.gather(
                    *(run_one(*item) for item in pending), return_exceptions=True
                )
            for outcome in outcomes:
                if isinstance(outcome, _RequestFailed):
                    failures.append(str(outcome))
                elif isinstance(outcome, BaseException):
                    raise outcome  # a bug, not a server problem: keep the traceback
        if failures:
            raise BiasInheritError(
                f"{len(failures)} of {len(plans)} requests to {self.base_url} failed "
                f"(up to {self.max_retries + 1} attempts each; last error: {failures[-1]}); "
                f"{len(plans) - len(failures)} replies are cached in {cache.root}, rerun to send "
                f"only the failed ones"
            )
        unparsed = sum(not reply_parses(plan, replies[plan.index] or "") for plan in plans)
        log.info("openai: %d of %d replies parsed", len(plans) - unparsed, len(plans))
        if unparsed and self.on_unparseable == "error":
            raise BiasInheritError(
                f"{unparsed} of {len(plans)} replies from {self.model} did not parse "
                f"({self.request_style} request) after up to {self.parse_retries + 1} attempts each; "
                f"the replies are cached in {cache.root}: rerun with --on-unparseable raw to keep "
                f"them (marked meta.parse_failed), or use a model that follows the request"
            )
        generation = provenance(self, request, chat_template_used=self.uses_chat)
        return [record_from_reply(plan, replies[plan.index] or "", generation=generation, taxonomy=taxonomy)
                for plan in plans]

    async def _ask(self, client: Any, plan: PlannedOutput, content: dict[str, Any]) -> dict[str, Any]:
        """One planned output's final reply: asked again at once (seed + 1, + 2, ...) while it
        does not parse, at most ``parse_retries`` times; the last reply is kept either way."""
        entry: dict[str, Any] = {}
        for attempt in range(self.parse_retries + 1):
            body = dict(content)
            body["seed"] = content["seed"] + attempt
            entry = await self._send_with_retries(client, body, plan.index)
            entry["request"] = content
            entry["parse_attempts"] = attempt + 1
            if reply_parses(plan, entry["content"]):
                return entry
            log.debug("request %d: reply did not parse (attempt %d of %d)", plan.index, attempt + 1,
                      self.parse_retries + 1)
        return entry

    # ---- requests --------------------------------------------------------------------------

    def request_content(self, plan: PlannedOutput) -> dict[str, Any]:
        """The request body for one planned output (also what the cache key is made of)."""
        body: dict[str, Any] = {"model": self.model}
        if self.uses_chat:
            body["messages"] = chat_messages(plan)
        else:
            body["prompt"] = plan.text
        body.update(temperature=self.temperature, max_tokens=self.max_tokens, seed=plan.seed)
        return body

    def _cached_reply(self, cache: RequestCache, key: str) -> str | None:
        """The stored final reply to a request (parsed or not: the same request gets the same
        reply, so asking again would only repeat it)."""
        entry = cache.get(key)
        if entry is None or not isinstance(entry.get("content"), str):
            return None
        return str(entry["content"])

    def _check_local_server(self) -> None:
        """A server on this machine that refuses the connection is not running: say so at once
        rather than retrying for minutes (a remote one may be restarting, and is retried)."""
        import socket

        parts = urlsplit(self.base_url)
        if parts.hostname not in LOCAL_HOSTS:
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname, port), timeout=min(self.timeout, 10.0)):
                return
        except OSError as exc:
            raise BiasInheritError(f"cannot connect to {self.base_url} ({exc.strerror or exc}): is the server "
                                   "running on that port?", field="--base-url") from None

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    async def _send_with_retries(self, client: Any, content: dict[str, Any], index: int) -> dict[str, Any]:
        """POST one request until a usable reply arrives; returns the cache entry."""
        import httpx

        url = f"{self.base_url}/{'chat/completions' if 'messages' in content else 'completions'}"
        rng = random.Random()  # jitter only decides *when* to retry, never what is generated
        for attempt in range(self.max_retries + 1):
            body = dict(content)
            retry_after: float | None = None
            try:
                response = await client.post(url, json=body, headers=self._headers())
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                status = response.status_code
                if status == 429 or status >= 500:
                    error = f"HTTP {status}"
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                elif status >= 400:
                    raise _RequestFailed(self._scrub(f"HTTP {status}: {response.text[:200]}"))
                else:
                    try:
                        return self._accept(response, content)
                    except MalformedReply as exc:
                        error = f"malformed reply ({exc})"
            error = self._scrub(error)
            if attempt == self.max_retries:
                raise _RequestFailed(error)
            if retry_after is not None:
                delay = min(retry_after, MAX_RETRY_AFTER)
            else:
                delay = backoff_delay(attempt + 1, base=self.backoff_base, cap=self.backoff_max, rng=rng)
            log.warning("request %d to %s: %s; retry %d of %d in %.1f s", index, url, error, attempt + 1,
                        self.max_retries, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _accept(self, response: Any, content: dict[str, Any]) -> dict[str, Any]:
        """The cache entry for a 2xx response, or MalformedReply for a broken body."""
        try:
            data = response.json()
        except ValueError:
            raise MalformedReply("body is not JSON") from None
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise MalformedReply("no choices")
        if "messages" in content:
            message = choices[0].get("message")
            text = message.get("content") if isinstance(message, dict) else None
        else:
            text = choices[0].get("text")
        if not isinstance(text, str):
            raise MalformedReply("no message content" if "messages" in content else "no completion text")
        return {
            "content": text,
            "finish_reason": choices[0].get("finish_reason"),
            "served_by": data.get("model"),
            "usage": data.get("usage"),
            "request": content,
        }

