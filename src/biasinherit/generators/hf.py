"""The ``hf`` generator: a local ``transformers`` causal LM, batched generation.

The same requests and reply parsing as the ``openai`` generator (:mod:`.prompts`,
:mod:`.replies`). ``chat_template``: ``auto`` (default) sends each request as a user turn through
the tokenizer's chat template when it has one, else as raw text; ``on`` requires a template;
``off`` sends raw text. Generation runs on the project's own engine
(:class:`~biasinherit.models.scoring.CausalLMScorer`: left-padded batches sorted by length, a KV
cache, a reply ends at the end-of-turn token).

A reply that does not parse is generated again, with a new seed, up to ``parse_retries`` times
(a bounded number: a model that cannot follow the request will not learn to on the fifth try).
What happens to one that still does not parse is ``on_unparseable``:

- ``"error"`` (default): the run fails with a BiasInheritError naming how many replies did not
  parse; nothing is written, since garbage must not enter training data silently.
- ``"raw"``: the raw text becomes the response (the prompt is the original's) and the record is
  marked ``meta["parse_failed"] = True``, so it can be filtered out later (``audit`` leaves such
  records out by default).

Generation is seeded per attempt (from the outputs' seeds and the attempt number), so the same
request, batch size and device give the same records.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from biasinherit.errors import BiasInheritError
from biasinherit.generators.base import GenerationRequest, ProgressCallback, provenance
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

__all__ = ["HFGenerator"]

log = logging.getLogger(__name__)


class HFGenerator:
    """Augmented records from a local causal LM folder (or a hub id, with network)."""

    name = "hf"

    def __init__(
        self,
        model: str | Path | None = None,
        temperature: float = 0.7,
        max_new_tokens: int = 256,
        batch_size: int = 8,
        device: str | None = None,
        parse_retries: int = 2,
        on_unparseable: Literal["error", "raw"] = "error",
        chat_template: Literal["auto", "on", "off"] = "auto",
        request_style: str = DEFAULT_REQUEST_STYLE,
    ) -> None:
        if not model:
            raise BiasInheritError("the hf generator needs a model path", field="--model")
        if batch_size < 1:
            raise BiasInheritError(f"batch_size must be >= 1, got {batch_size}", field="--batch-size")
        if max_new_tokens < 1:
            raise BiasInheritError(f"max_new_tokens must be >= 1, got {max_new_tokens}",
                                   field="--max-new-tokens")
        if temperature < 0:
            raise BiasInheritError(f"temperature must be >= 0, got {temperature}", field="--temperature")
        check_reply_options(on_unparseable=on_unparseable, chat_template=chat_template,
                            request_style=request_style, parse_retries=parse_retries)
        self.chat_template = chat_template
        self.request_style = request_style
        self.model = str(model)
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.device = device
        self.parse_retries = parse_retries
        self.on_unparseable = on_unparseable
        self._loaded: tuple[Any, Any] | None = None

    def arguments(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "temperature": self.temperature,
            "max_new_tokens": self.max_new_tokens,
            "batch_size": self.batch_size,
            "parse_retries": self.parse_retries,
            "on_unparseable": self.on_unparseable,
            "chat_template": self.chat_template,
            "request_style": self.request_style,
        }

    def _load(self) -> tuple[Any, Any]:
        """(tokenizer, scorer), loaded once, on the chosen device, in eval mode."""
        if self._loaded is not None:
            return self._loaded
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from biasinherit.models.scoring import CausalLMScorer

        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else None
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model)
            model = AutoModelForCausalLM.from_pretrained(self.model, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise BiasInheritError(f"cannot load model ({' '.join(str(exc).split())[:200]})",
                                   path=self.model) from None
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        if self.chat_template == "on" and not getattr(tokenizer, "chat_template", None):
            raise BiasInheritError("--chat-template on, but the model's tokenizer has no chat template",
                                   path=self.model, field="--chat-template")
        model.to(device).eval()
        self._loaded = (tokenizer, CausalLMScorer(model, tokenizer, batch_size=self.batch_size))
        return self._loaded

    def uses_chat_template(self) -> bool:
        """Whether requests go through the tokenizer's chat template (loads the tokenizer)."""
        tokenizer, _ = self._load()
        return self.chat_template != "off" and bool(getattr(tokenizer, "chat_template", None))

    def _prompt_text(self, tokenizer: Any, plan: PlannedOutput) -> str:
        if self.uses_chat_template():
            return str(tokenizer.apply_chat_template(
                chat_messages(plan), add_generation_prompt=True, tokenize=False
            ))
        return plan.text

    def _generate(self, plans: Sequence[PlannedOutput], attempt: int,
                  progress: ProgressCallback | None = None) -> list[str]:
        tokenizer, scorer = self._load()
        chat = self.uses_chat_template()
        texts = [self._prompt_text(tokenizer, plan) for plan in plans]
        seed = random.Random(f"{[p.seed for p in plans]}:{attempt}").randrange(2**31)
        # a chat template writes its own special tokens; raw prompts get the tokenizer's
        return scorer.generate(texts, max_new_tokens=self.max_new_tokens, temperature=self.temperature,
                               seed=seed, add_special_tokens=not chat, progress=progress)

    def generate(
        self,
        originals: Sequence[Record],
        request: GenerationRequest,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Record]:
        from biasinherit.taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
        plans = plan_outputs(originals, request, taxonomy, style=self.request_style)
        replies: dict[int, str] = {}
        remaining = list(plans)
        if progress is not None:
            progress(0, len(plans))
        for attempt in range(self.parse_retries + 1):
            last = attempt == self.parse_retries
            # the first pass reports rows as they are generated; later passes when they end
            texts = self._generate(remaining, attempt, progress if attempt == 0 else None)
            for plan, text in zip(remaining, texts):
                if last or reply_parses(plan, text):
                    replies[plan.index] = text
            remaining = [p for p in remaining if p.index not in replies]
            if progress is not None and attempt > 0:
                progress(len(replies), len(plans))
            if not remaining:
                break
            log.info("hf: %d of %d replies did not parse; generating them again (attempt %d of %d)",
                     len(remaining), len(plans), attempt + 2, self.parse_retries + 1)
        if progress is not None:
            progress(len(plans), len(plans))
        unparsed = sum(not reply_parses(p, replies[p.index]) for p in plans)
        if unparsed and self.on_unparseable == "error":
            raise BiasInheritError(
                f"{unparsed} of {len(plans)} replies from {self.model} did not parse "
                f"({self.request_style} request) after {self.parse_retries + 1} attempts; use a model "
                f"that follows the request, or --on-unparseable raw to keep raw text (marked "
                f"meta.parse_failed)"
            )
        generation = provenance(self, request, chat_template_used=self.uses_chat_template())
        return [record_from_reply(plan, replies[plan.index], generation=generation, taxonomy=taxonomy)
                for plan in plans]

