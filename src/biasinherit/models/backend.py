"""Model backends the tasks score with: a loaded HF causal LM, or an OpenAI-compatible endpoint.

A backend answers two questions: the log-likelihood of continuations given contexts, and
generations for prompts. ``open_backend(spec)`` maps a ``--model`` value onto one:
``DIR`` (a saved model folder), ``hf:<path or hub id>``, ``openai:<model>``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from biasinherit.errors import BiasInheritError
from biasinherit.models.scoring import CausalLMScorer, LoglikelihoodResult, ProgressCallback

__all__ = ["HFBackend", "ScoringBackend", "open_backend"]

log = logging.getLogger(__name__)


@runtime_checkable
class ScoringBackend(Protocol):
    name: str
    supports_loglikelihood: bool

    def loglikelihood(self, pairs: Sequence[tuple[str, str]], *, harness_framing: bool = False,
                      progress: ProgressCallback | None = None) -> list[float]: ...

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 64,
                 stop: Sequence[str] = (), temperature: float = 0.0, seed: int = 0,
                 progress: ProgressCallback | None = None, chat: bool = False) -> list[str]: ...

    def provenance(self) -> dict[str, Any]: ...


class HFBackend:
    """A loaded causal LM. ``eval_prefix`` (token mitigation) is put before every context."""

    supports_loglikelihood = True

    def __init__(self, model: Any, tokenizer: Any, *, name: str = "hf", eval_prefix: str = "",
                 add_bos: bool = False, batch_size: int = 32,
                 metadata: dict[str, Any] | None = None) -> None:
        self.name = name
        self.eval_prefix = eval_prefix
        self.add_bos = add_bos
        self.scorer = CausalLMScorer(model, tokenizer, batch_size=batch_size)
        self.metadata = dict(metadata or {})

    def loglikelihood(self, pairs: Sequence[tuple[str, str]], *, harness_framing: bool = False,
                      progress: ProgressCallback | None = None) -> list[float]:
        """Log-likelihoods framed as the model was trained (BOS, ``eval_prefix``), or, with
        ``harness_framing``, exactly as lm-evaluation-harness frames them (for its protocol)."""
        if harness_framing:
            results = self.scorer.loglikelihood(pairs, progress=progress)
        else:
            if self.eval_prefix:
                pairs = [(self.eval_prefix + c, x) for c, x in pairs]
            results = self.scorer.loglikelihood(pairs, add_bos=self.add_bos, progress=progress)
        return [r.logprob for r in results]

    def token_loglikelihoods(self, pairs: Sequence[tuple[str, str]], *,
                             progress: ProgressCallback | None = None) -> list[LoglikelihoodResult]:
        """Each continuation's tokens and their log-probabilities, framed as the model was trained."""
        if self.eval_prefix:
            pairs = [(self.eval_prefix + c, x) for c, x in pairs]
        return self.scorer.loglikelihood(pairs, add_bos=self.add_bos, per_token=True, progress=progress)

    @property
    def has_chat_template(self) -> bool:
        """Whether the tokenizer carries a chat template (instruct models do; the tiny model not)."""
        return bool(getattr(self.scorer.tokenizer, "chat_template", None))

    def render_chat(self, message: str) -> str:
        """One user turn through the chat template, ending where the assistant's reply starts."""
        return str(self.scorer.tokenizer.apply_chat_template(
            [{"role": "user", "content": message}], add_generation_prompt=True, tokenize=False))

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 64,
                 stop: Sequence[str] = (), temperature: float = 0.0, seed: int = 0,
                 progress: ProgressCallback | None = None, chat: bool = False) -> list[str]:
        """Continuations of raw ``prompts``, or with ``chat`` the replies to them as user turns
        (rendered by the chat template, which writes its own special tokens; the reply ends at
        the end-of-turn token)."""
        if chat:
            texts = [self.eval_prefix + self.render_chat(p) for p in prompts]
            return self.scorer.generate(texts, max_new_tokens=max_new_tokens, stop=stop,
                                        temperature=temperature, seed=seed, add_bos=False,
                                        add_special_tokens=False, progress=progress)
        prompts = [self.eval_prefix + p for p in prompts]
        return self.scorer.generate(prompts, max_new_tokens=max_new_tokens, stop=stop,
                                    temperature=temperature, seed=seed, add_bos=self.add_bos,
                                    progress=progress)

    def provenance(self) -> dict[str, Any]:
        model = self.scorer.model
        return {
            "backend": "hf",
            "model": self.name,
            "architecture": type(model).__name__,
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "eval_prefix": self.eval_prefix,
            "chat_template_available": self.has_chat_template,
            **{k: v for k, v in self.metadata.items() if isinstance(v, (str, int, float, bool))},
        }


def open_backend(spec: str, *, batch_size: int = 32, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY") -> ScoringBackend:
    """``DIR`` | ``hf:<path or id>`` | ``openai:<model>`` -> a backend."""
    if spec.startswith("openai:"):
        from biasinherit.models.openai_backend import OpenAIBackend

        return OpenAIBackend(model=spec[len("openai:"):], base_url=base_url, api_key_env=api_key_env)
    from biasinherit.models import load_model

    if not spec.startswith("hf:") and not Path(spec).is_dir():
        raise BiasInheritError("model folder not found (use DIR, hf:ID or openai:MODEL)",
                               path=spec, field="--model")
    loaded = load_model(spec)
    meta = loaded.metadata.model_dump()
    return HFBackend(loaded.model, loaded.tokenizer, name=spec, eval_prefix=loaded.eval_prefix,
                     add_bos=bool(loaded.metadata.add_bos), batch_size=batch_size, metadata=meta)
