"""Generation through an OpenAI-compatible server, for the generation tasks.

The HTTP side (API key from an environment variable, the local-server check, retries with
backoff honouring ``Retry-After``, bounded concurrency) is :class:`biasinherit.clients.OpenAIClient`,
the one the ``openai`` generator uses too. Such endpoints give no log-probabilities of arbitrary
continuations, so log-likelihood tasks fail with a clear error.

Replies are not cached: an evaluation asks each prompt once per run, and a cache keyed on the
model's name would keep serving old answers after the server's model changed under that name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from biasinherit.clients.event_loop import run_to_completion
from biasinherit.clients.openai import OpenAIClient, RequestFailed
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
    (the server applies the model's chat template); without, as raw text to ``/completions``.

    A local server that is not running is said on first use (each :meth:`generate`), not when
    the backend is built.
    """

    supports_loglikelihood = False
    has_chat_template = True  # the server's business: 'auto' sends chat messages

    def __init__(self, model: str, *, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", concurrency: int = 8) -> None:
        if model.startswith(("http://", "https://")):  # openai:URL: the server's one model
            if base_url is not None and base_url.rstrip("/") != model.rstrip("/"):
                raise BiasInheritError(f"openai:{model} names a server and --base-url another ({base_url})",
                                       field="--base-url")
            base_url = model
            model = _the_served_model(OpenAIClient("?", base_url=base_url, api_key_env=api_key_env))
        self.name = f"openai:{model}"
        self.client = OpenAIClient(model, base_url=base_url, api_key_env=api_key_env, concurrency=concurrency)

    def loglikelihood(self, pairs: Sequence[tuple[str, str]], *, harness_framing: bool = False,
                      progress: ProgressCallback | None = None, task: str = "?") -> list[float]:
        raise BiasInheritError(LOGLIKELIHOOD_UNSUPPORTED.format(task=task), field="--model")

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 64,
                 stop: Sequence[str] = (), temperature: float = 0.0, seed: int = 0,
                 progress: ProgressCallback | None = None, chat: bool = False) -> list[str]:
        """One completion per prompt (prompt ``i`` asks with seed ``seed + i``), cut at the first
        stop sequence; works inside a running event loop (Jupyter) too."""
        return run_to_completion(self._generate(list(prompts), max_new_tokens, list(stop), temperature,
                                                seed, progress, chat))

    async def _generate(self, prompts: list[str], max_new_tokens: int, stop: list[str],
                        temperature: float, seed: int,
                        progress: ProgressCallback | None, chat: bool) -> list[str]:
        out = [""] * len(prompts)
        done = 0
        async with self.client.connect() as session:

            async def one(i: int) -> None:
                nonlocal done
                messages = [{"role": "user", "content": prompts[i]}] if chat else None
                body = self.client.request_body(messages=messages, prompt=None if chat else prompts[i],
                                                temperature=temperature, max_tokens=max_new_tokens,
                                                seed=seed + i, stop=stop)
                try:
                    text = (await session.send(body, index=i)).text
                except RequestFailed as exc:
                    raise BiasInheritError(f"request {i} failed: {exc}", path=self.client.base_url) from None
                cuts = [text.find(s) for s in stop if s in text]
                out[i] = text[: min(cuts)] if cuts else text
                done += 1
                if progress is not None:
                    progress(done, len(prompts))

            await asyncio.gather(*(one(i) for i in range(len(prompts))))
        return out

    def provenance(self) -> dict[str, Any]:
        return {"backend": "openai", "model": self.name, "base_url": self.client.base_url}


def _the_served_model(client: OpenAIClient) -> str:
    """The one model a server lists; several (or none) must be named."""
    models = client.served_models()
    if len(models) != 1:
        listed = ", ".join(models[:10]) or "none"
        raise BiasInheritError(f"{client.base_url} serves {len(models)} models ({listed}); name one: "
                               f"openai:MODEL --base-url {client.base_url}", field="--model")
    return models[0]
