"""The ``hf`` generator: a local ``transformers`` causal LM, batched generation.

The same prompts and reply parsing as the ``openai`` generator (:mod:`.prompts`). Prompts are
rendered with the tokenizer's chat template when it has one, else sent as raw text, and batched
with left padding so every row's generation starts right after its own prompt.

A reply that does not parse is generated again, in a new batch with a new seed, up to
``parse_retries`` times. What happens to one that still does not parse is ``on_unparseable``:

- ``"error"`` (default): the run fails with a BiasInheritError naming how many replies did not
  parse; nothing is written, since garbage must not enter training data silently.
- ``"raw"``: the raw text becomes the response (the prompt is the original's) and the record is
  marked ``meta["parse_failed"] = True``, so it can be filtered out later. Meant for small local
  models and tests, where a random tiny model writes no JSON at all.

Generation is seeded per batch (``torch.manual_seed`` from the batch's output seeds and the
attempt), so the same request, batch size and device give the same records.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from biasinherit.errors import BiasInheritError
from biasinherit.generate.base import GenerationRequest, ProgressCallback, provenance
from biasinherit.generate.prompts import (
    MalformedReply,
    PlannedOutput,
    chat_messages,
    parse_reply,
    plan_outputs,
    record_from_reply,
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
        if parse_retries < 0:
            raise BiasInheritError(f"parse_retries must be >= 0, got {parse_retries}", field="parse_retries")
        if on_unparseable not in ("error", "raw"):
            raise BiasInheritError(
                f"on_unparseable must be 'error' or 'raw', got '{on_unparseable}'", field="--on-unparseable"
            )
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
        }

    def _load(self) -> tuple[Any, Any]:
        """(tokenizer, model), loaded once, on the chosen device, in eval mode."""
        if self._loaded is not None:
            return self._loaded
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else None
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model)
            model = AutoModelForCausalLM.from_pretrained(self.model, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise BiasInheritError(f"cannot load model ({' '.join(str(exc).split())[:200]})",
                                   path=self.model) from None
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model.to(device).eval()
        self._loaded = (tokenizer, model)
        return self._loaded

    def _prompt_text(self, tokenizer: Any, plan: PlannedOutput) -> str:
        if getattr(tokenizer, "chat_template", None):
            return str(tokenizer.apply_chat_template(
                chat_messages(plan), add_generation_prompt=True, tokenize=False
            ))
        return plan.text

    def _generate_batch(self, batch: Sequence[PlannedOutput], attempt: int) -> list[str]:
        import torch

        tokenizer, model = self._load()
        has_template = bool(getattr(tokenizer, "chat_template", None))
        texts = [self._prompt_text(tokenizer, plan) for plan in batch]
        # a chat template writes its own special tokens; raw prompts get the tokenizer's
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=not has_template)
        enc = {k: v.to(model.device) for k, v in enc.items()}
        seed = random.Random(f"{[p.seed for p in batch]}:{attempt}").randrange(2**31)
        torch.manual_seed(seed)
        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": self.temperature} if self.temperature > 0
            else {"do_sample": False}
        )
        with torch.no_grad():
            out = model.generate(  # B, T_prompt + T_new
                **enc, max_new_tokens=self.max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                **sampling,
            )
        new_tokens = out[:, enc["input_ids"].shape[1]:]  # B, T_new (left padding aligns prompts)
        return [str(t) for t in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]

    def generate(
        self,
        originals: Sequence[Record],
        request: GenerationRequest,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Record]:
        from biasinherit.taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
        plans = plan_outputs(originals, request, taxonomy)
        replies: dict[int, str] = {}
        remaining = list(plans)
        if progress is not None:
            progress(0, len(plans))
        for attempt in range(self.parse_retries + 1):
            last = attempt == self.parse_retries
            for start in range(0, len(remaining), self.batch_size):
                batch = remaining[start:start + self.batch_size]
                for plan, text in zip(batch, self._generate_batch(batch, attempt)):
                    if last or _parses(text):
                        replies[plan.index] = text
                if progress is not None:
                    progress(len(replies), len(plans))
            remaining = [p for p in remaining if p.index not in replies]
            if not remaining:
                break
            log.info("hf: %d of %d replies did not parse; generating them again (attempt %d)",
                     len(remaining), len(plans), attempt + 2)
        unparsed = sum(not _parses(text) for text in replies.values())
        if unparsed and self.on_unparseable == "error":
            raise BiasInheritError(
                f"{unparsed} of {len(plans)} replies from {self.model} held no JSON object "
                f"{{\"prompt\", \"response\"}} after {self.parse_retries + 1} attempts; use a model "
                f"that follows the instruction, or --on-unparseable raw to keep raw text (marked "
                f"meta.parse_failed)"
            )
        generation = provenance(self, request)
        return [record_from_reply(plan, replies[plan.index], generation=generation, taxonomy=taxonomy)
                for plan in plans]


def _parses(text: str) -> bool:
    try:
        parse_reply(text)
    except MalformedReply:
        return False
    return True
