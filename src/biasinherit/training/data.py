"""Records -> token ids with response-only labels, and length-grouped batches.

A sequence is ``[BOS] prefix context response EOS``: the context (``formats.context_of``) and
the response are tokenized separately and joined, exactly as a log-likelihood scorer joins a
context and a continuation, so training and scoring see the same tokens. Only response tokens
(and the EOS) carry labels; everything before is -100.

Batches hold records of similar length (sorted inside seeded mega-batches, then the batches are
shuffled), so padding is small without giving up randomness.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from biasinherit.formats import context_of
from biasinherit.training.mask import IGNORE_INDEX, mask_labels

__all__ = [
    "EncodedExample",
    "PretokenizedTexts",
    "TextFraming",
    "auto_max_length",
    "collate",
    "encode_example",
    "length_grouped_batches",
    "padding_efficiency",
    "positional_batches",
]

MEGA_BATCH_FACTOR = 50  # batches per sorted chunk


@dataclass(frozen=True)
class TextFraming:
    """How every sequence is framed; evaluation must frame contexts the same way."""

    bos_token_id: int | None
    eos_token_id: int
    max_length: int


@dataclass
class EncodedExample:
    input_ids: list[int]
    labels: list[int]
    augmented: bool
    response_start: int  # index of the first response token in input_ids
    # loss mitigation: the counterfactual's ids and the aligned (position, cf position) pairs
    cf_input_ids: list[int] | None = None
    cf_positions: list[tuple[int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.input_ids)


def encode_example(
    tokenizer: Any,
    framing: TextFraming,
    *,
    prompt: str | None,
    response: str,
    prefix: str = "",
    mask_spans: Sequence[tuple[int, int]] = (),
) -> tuple[list[int], list[int], int]:
    """``(input_ids, labels, response_start)`` for one record.

    ``mask_spans`` are character spans in ``response`` whose tokens get label -100.
    """
    head: list[int] = [] if framing.bos_token_id is None else [framing.bos_token_id]
    if prefix:
        head += tokenizer(prefix, add_special_tokens=False)["input_ids"]
    context = context_of(prompt)
    if context:
        head += tokenizer(context, add_special_tokens=False)["input_ids"]
    if mask_spans:
        enc = tokenizer(response, add_special_tokens=False, return_offsets_mapping=True)
        body = list(enc["input_ids"])
        body_labels = mask_labels(body, enc["offset_mapping"], list(mask_spans))
    else:
        body = list(tokenizer(response, add_special_tokens=False)["input_ids"])
        body_labels = body
    ids = head + body + [framing.eos_token_id]
    labels = [IGNORE_INDEX] * len(head) + body_labels + [framing.eos_token_id]
    return ids[: framing.max_length], labels[: framing.max_length], len(head)


class PretokenizedTexts:
    """A tokenizer stand-in for :func:`encode_example` that encodes every text of a data set in
    one batched call (the fast tokenizer's batch path) and looks the ids up afterwards; texts it
    was not given, and offset requests (mask spans), go to the tokenizer itself."""

    def __init__(self, tokenizer: Any, texts: Sequence[str]) -> None:
        self.tokenizer = tokenizer
        unique = list(dict.fromkeys(t for t in texts if t))
        ids = tokenizer(unique, add_special_tokens=False)["input_ids"] if unique else []
        self.ids: dict[str, list[int]] = dict(zip(unique, ids))

    def __call__(self, text: str, **kwargs: Any) -> Any:
        if kwargs == {"add_special_tokens": False} and text in self.ids:
            return {"input_ids": self.ids[text]}
        return self.tokenizer(text, **kwargs)


# the automatic sequence length never exceeds this: a few very long records would otherwise set
# the memory of their batch (a [batch, length, vocabulary] logits block)
AUTO_MAX_LENGTH_CEILING = 1024
# room above the longest plain record for what mitigations add (a tag, placeholders)
AUTO_MAX_LENGTH_MARGIN = 16


def auto_max_length(lengths: Sequence[int], limit: int) -> int:
    """The sequence length to use when none is configured: the longest record (``lengths`` are
    plain encodings) plus a margin, within the model's ``limit`` and ``AUTO_MAX_LENGTH_CEILING``.
    Batches hold records of similar length, so a long limit costs the short records nothing."""
    return max(8, min(limit, AUTO_MAX_LENGTH_CEILING, max(lengths, default=0) + AUTO_MAX_LENGTH_MARGIN))


def length_grouped_batches(
    lengths: Sequence[int], batch_size: int, *, seed: int, epoch: int
) -> list[list[int]]:
    """Indices in batches of similar length, in a seeded order that changes every epoch.

    The data is shuffled, cut into chunks of ``MEGA_BATCH_FACTOR`` batches, each chunk sorted
    by length (longest first) and cut into batches, and the batches shuffled.
    """
    rng = random.Random(f"{seed}:{epoch}")
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * MEGA_BATCH_FACTOR
    batches: list[list[int]] = []
    for c in range(0, len(order), chunk):
        part = sorted(order[c : c + chunk], key=lambda i: -lengths[i])  # stable: ties keep order
        batches += [part[b : b + batch_size] for b in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def positional_batches(n: int, batch_size: int, *, seed: int, epoch: int) -> list[list[int]]:
    """Indices ``0..n-1`` in batches by position alone: a seeded permutation, changed every epoch,
    cut into consecutive batches. Unlike :func:`length_grouped_batches` the batches do not depend
    on the records' lengths, so two mixes of one size whose positions hold the same items (a paired
    mix at two bias ratios, see :mod:`biasinherit.mixing`) get the same batches in the same order
    and their models differ only by what augmentation did to the records."""
    rng = random.Random(f"{seed}:{epoch}:position")
    order = list(range(n))
    rng.shuffle(order)
    return [order[b : b + batch_size] for b in range(0, n, batch_size)]


def padding_efficiency(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> float:
    """Real tokens / padded tokens over the batches (1.0 means no padding at all)."""
    real = sum(lengths[i] for batch in batches for i in batch)
    padded = sum(len(batch) * max(lengths[i] for i in batch) for batch in batches if batch)
    return real / padded if padded else 1.0


def collate(sequences: Sequence[Sequence[int]], labels: Sequence[Sequence[int]] | None, pad_id: int) -> dict[str, Any]:
    """Right-pad to the longest sequence: ``input_ids``, ``attention_mask`` and ``labels``."""
    import torch

    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(sequences), width), dtype=torch.long)
    out_labels = torch.full((len(sequences), width), IGNORE_INDEX, dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        attention[row, : len(seq)] = 1
        if labels is not None:
            out_labels[row, : len(seq)] = torch.tensor(labels[row], dtype=torch.long)
    return {"input_ids": ids, "attention_mask": attention, "labels": out_labels}
