"""Generation through an OpenAI-compatible chat endpoint, for the generation tasks.

It reuses the ``openai`` generator's HTTP client (API key from an environment variable, retries
with backoff honouring ``Retry-After``, bounded concurrency). Such endpoints give no
log-probabilities of arbitrary continuations, so log-likelihood tasks fail with a clear error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.models.scoring import ProgressCallback

__all__ = ["LOGLIKELIHOOD_UNSUPPORTED", "OpenAIBackend"]

LOGLIKELIHOOD_UNSUPPORTED = (
    "the openai backend cannot give log-probabilities; task '{task}' scores options by "
    "log-likelihood: use a local model (DIR or hf:ID) or pick generation tasks "
    "(story, salary, hiring, values)"
)


class OpenAIBackend:
    """Generation only. With ``chat`` a prompt is sent as a user message to ``/chat/completions``
    (the server applies the model's chat template); without, as raw text to ``/completions``."""

    supports_loglikelihood = False
    has_chat_template = True  # the server's business: 'auto' sends chat messages

    def __init__(self, model: str, *, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", concurrency: int = 8) -> None:
        from biasinherit.generators.openai import OpenAIGenerator

        self.name = f"openai:{model}"
        self.client = OpenAIGenerator(model=model, base_url=base_url, api_key_env=api_key_env,
                                      concurrency=concurrency, on_unparseable="raw")
        self._checked = False

    def loglikelihood(self, pairs: Sequence[tuple[str, str]], *, harness_framing: bool = False,
                      progress: ProgressCallback | None = None, task: str = "?") -> list[float]:
        raise BiasInheritError(LOGLIKELIHOOD_UNSUPPORTED.format(task=task), field="--model")

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 64,
                 stop: Sequence[str] = (), temperature: float = 0.0, seed: int = 0,
                 progress: ProgressCallback | None = None, chat: bool = False) -> list[str]:
        if not self._checked:  # a local server that is not running: said at once, not retried
            self.client._check_local_server()
            self._checked = True
        return asyncio.run(self._generate(list(prompts), max_new_tokens, list(stop), temperature,
                                          seed, progress, chat))

    async def _generate(self, prompts: list[str], max_new_tokens: int, stop: list[str],
                        temperature: float, seed: int,
                        progress: ProgressCallback | None, chat: bool) -> list[str]:
        import httpx

        from biasinherit.generators.openai import _RequestFailed

        out = [""] * len(prompts)
        done = 0
        semaphore = asyncio.Semaphore(self.client.concurrency)
        async with httpx.AsyncClient(timeout=httpx.Timeout(self.client.timeout)) as http:

            async def one(i: int) -> None:
                nonlocal done
                content: dict[str, Any] = {"model": self.client.model}
                if chat:
                    content["messages"] = [{"role": "user", "content": prompts[i]}]
                else:
                    content["prompt"] = prompts[i]
                content.update({
                    "temperature": temperature,
                    "max_tokens": max_new_tokens,
                    "seed": seed + i,
                })
                if stop:
                    content["stop"] = stop[:4]  # the API takes at most four
                async with semaphore:
                    try:
                        entry = await self.client._send_with_retries(http, content, i)
                    except _RequestFailed as exc:
                        raise BiasInheritError(f"request {i} failed: {exc}",
                                               path=self.client.base_url) from None
                text = str(entry["content"])
                cuts = [text.find(s) for s in stop if s in text]
                out[i] = text[: min(cuts)] if cuts else text
                done += 1
                if progress is not None:
                    progress(done, len(prompts))

            await asyncio.gather(*(one(i) for i in range(len(prompts))))
        return out

    def provenance(self) -> dict[str, Any]:
        return {"backend": "openai", "model": self.name, "base_url": self.client.base_url}
