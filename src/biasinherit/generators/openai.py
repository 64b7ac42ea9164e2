"""The ``openai`` generator: any OpenAI-compatible chat-completions endpoint.

Works with OpenAI, vLLM, Ollama, llama.cpp and ``transformers serve``. The HTTP side (base URL,
the API key from an environment variable, the local-server check, bounded concurrency, retries
with backoff honouring ``Retry-After``, chat and completions endpoints) is
:class:`biasinherit.clients.OpenAIClient`, shared with the ``openai:`` evaluation backend; this
module adds what belongs to generation:

- Endpoint: ``chat_template`` ``auto`` or ``on`` sends chat messages to ``/chat/completions``
  (the server applies the model's chat template); ``off`` sends the request as raw text to the
  legacy ``/completions`` endpoint.
- Reparsing: a reply that the server sent fine but that holds no usable example
  (:mod:`.replies`) is asked for again at once, with the seed moved on by one so a deterministic
  server does not return the same reply, at most ``parse_retries`` times. Then it counts as
  unparsed: ``on_unparseable="error"`` fails the run with the count after every request is done;
  ``"raw"`` keeps the text, marked ``meta["parse_failed"]``. No backoff is spent on replies that
  a small model will not get right by waiting.
- Cache: every final reply (parsed or not) is stored under the hash of its request content and
  its server (:mod:`biasinherit.generators.cache`) before the request counts as done, so a killed run,
  rerun, sends only the requests that are missing, and a rerun of a finished run sends none.
- Output order is the order of the planned outputs, never the order of completion.
- The API key stays inside the client: provenance records the variable's name only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from biasinherit.clients.event_loop import run_to_completion
from biasinherit.clients.openai import DEFAULT_BASE_URL, OpenAIClient, OpenAISession, RequestFailed
from biasinherit.errors import BiasInheritError
from biasinherit.generators.base import GenerationRequest, ProgressCallback, provenance
from biasinherit.generators.cache import RequestCache, request_key
from biasinherit.generators.prompts import (
    DEFAULT_REQUEST_STYLE,
    PlannedOutput,
    chat_messages,
    check_reply_options,
    plan_outputs,
    record_from_reply,
    reply_parses,
)
from biasinherit.records import Record

__all__ = ["DEFAULT_BASE_URL", "OpenAIGenerator", "OnUnparseable"]

log = logging.getLogger(__name__)

OnUnparseable = Literal["error", "raw"]


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
        if max_tokens < 1:
            raise BiasInheritError(f"max_tokens must be >= 1, got {max_tokens}", field="--max-new-tokens")
        if temperature < 0:
            raise BiasInheritError(f"temperature must be >= 0, got {temperature}", field="--temperature")
        check_reply_options(on_unparseable=on_unparseable, chat_template=chat_template,
                            request_style=request_style, parse_retries=parse_retries)
        # the client checks the rest (concurrency, retries, timeout, base URL, the key's variable)
        self.client = OpenAIClient(model, base_url=base_url, api_key_env=api_key_env, concurrency=concurrency,
                                   timeout=timeout, max_retries=max_retries, backoff_base=backoff_base,
                                   backoff_max=backoff_max)
        self.model = model
        self.parse_retries = parse_retries
        self.chat_template = chat_template
        self.request_style = request_style
        self.cache_dir = cache_dir
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.on_unparseable = on_unparseable

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIGenerator(model={self.model!r}, base_url={self.base_url!r})"

    def arguments(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "base_url": self.base_url,
            "api_key_env": self.client.api_key_env,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "max_retries": self.client.max_retries,
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
        """Synchronous wrapper around :meth:`agenerate`; also works inside a running event loop
        (Jupyter), where it runs in a worker thread."""
        return run_to_completion(self.agenerate(originals, request, progress=progress))

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
            key = request_key(content, server=self.base_url)  # one model name on two servers is two models
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
            async with self.client.connect() as session:

                async def run_one(plan: PlannedOutput, content: dict[str, Any], key: str) -> None:
                    nonlocal done
                    entry = await self._ask(session, plan, content)
                    cache.put(key, entry)
                    replies[plan.index] = entry["content"]
                    done += 1
                    if progress is not None:
                        progress(done, len(plans))

                outcomes = await asyncio.gather(
                    *(run_one(*item) for item in pending), return_exceptions=True
                )
            for outcome in outcomes:
                if isinstance(outcome, RequestFailed):
                    failures.append(str(outcome))
                elif isinstance(outcome, BaseException):
                    raise outcome  # a bug, not a server problem: keep the traceback
        if failures:
            raise BiasInheritError(
                f"{len(failures)} of {len(plans)} requests to {self.base_url} failed "
                f"(up to {self.client.max_retries + 1} attempts each; last error: {failures[-1]}); "
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

    async def _ask(self, session: OpenAISession, plan: PlannedOutput, content: dict[str, Any]) -> dict[str, Any]:
        """One planned output's final reply, as its cache entry: asked again at once (seed + 1,
        + 2, ...) while it does not parse, at most ``parse_retries`` times; the last reply is kept
        either way. The entry's ``request`` is the planned request (its first seed), whatever
        attempt answered."""
        entry: dict[str, Any] = {}
        for attempt in range(self.parse_retries + 1):
            completion = await session.send({**content, "seed": content["seed"] + attempt}, index=plan.index)
            entry = {
                "content": completion.text,
                "finish_reason": completion.finish_reason,
                "served_by": completion.served_by,
                "usage": completion.usage,
                "request": content,
                "parse_attempts": attempt + 1,
            }
            if reply_parses(plan, completion.text):
                return entry
            log.debug("request %d: reply did not parse (attempt %d of %d)", plan.index, attempt + 1,
                      self.parse_retries + 1)
        return entry

    # ---- requests --------------------------------------------------------------------------

    def request_content(self, plan: PlannedOutput) -> dict[str, Any]:
        """The request body for one planned output (also what the cache key is made of)."""
        if self.uses_chat:
            return self.client.request_body(messages=chat_messages(plan), temperature=self.temperature,
                                            max_tokens=self.max_tokens, seed=plan.seed)
        return self.client.request_body(prompt=plan.text, temperature=self.temperature,
                                        max_tokens=self.max_tokens, seed=plan.seed)

    def _cached_reply(self, cache: RequestCache, key: str) -> str | None:
        """The stored final reply to a request (parsed or not: the same request gets the same
        reply, so asking again would only repeat it)."""
        entry = cache.get(key)
        if entry is None or not isinstance(entry.get("content"), str):
            return None
        return str(entry["content"])
