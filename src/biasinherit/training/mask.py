"""Mask-based mitigation: augmented records' bias-bearing tokens are not learned.

Tokens that overlap a bias-bearing span get label -100, so the model never learns to predict
them from the augmented data; optionally the spans are also replaced in the input by a neutral
placeholder token, so the model does not condition on them either.

Where the spans come from (``TrainConfig.mask_source``):

- ``lexicon`` (the default): every group term the taxonomy lexicon finds (pronouns, names,
  group nouns, nationality words, of every attribute). This is what a user with real
  LLM-generated data has: no record says which of its words carry bias.
- ``annotations``: the spans stored in the records, falling back to the lexicon where a record
  has none. For the ``builtin`` generator these are the injector's ground truth (whole
  stereotype claims included), so results with them are an **oracle** upper bound, and reports
  name them so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from biasinherit.records import Record

__all__ = ["IGNORE_INDEX", "MASK_PLACEHOLDER", "MASK_SOURCES", "bias_spans", "mask_labels", "replace_spans"]

IGNORE_INDEX = -100
MASK_PLACEHOLDER = "<|mask|>"

Spans = list[tuple[int, int]]


MASK_SOURCES = ("lexicon", "annotations")


def bias_spans(record: Record, taxonomy: Any, source: str = "lexicon") -> Spans:
    """Character spans in ``record.response`` to mask, sorted and merged."""
    if source == "annotations" and record.spans:
        raw = [(s.start, s.end) for s in record.spans]
    else:
        raw = [(start, end) for start, end, _ in taxonomy.find_terms(record.response, None)]
    return _merge(raw)


def _merge(spans: Sequence[tuple[int, int]]) -> Spans:
    out: Spans = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def replace_spans(text: str, spans: Spans, placeholder: str = MASK_PLACEHOLDER) -> tuple[str, Spans]:
    """``text`` with each span replaced by ``placeholder``, and the placeholders' spans."""
    pieces: list[str] = []
    new_spans: Spans = []
    cursor = 0
    length = 0
    for start, end in _merge(spans):
        pieces.append(text[cursor:start])
        length += start - cursor
        pieces.append(placeholder)
        new_spans.append((length, length + len(placeholder)))
        length += len(placeholder)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), new_spans


def mask_labels(labels: Sequence[int], offsets: Sequence[tuple[int, int]], spans: Spans) -> list[int]:
    """``labels`` with every token whose character offsets overlap a span set to -100.

    ``offsets[i]`` is token i's ``[start, end)`` in the same text the spans index.
    """
    out = list(labels)
    for i, (tok_start, tok_end) in enumerate(offsets):
        if any(tok_start < end and tok_end > start for start, end in spans):
            out[i] = IGNORE_INDEX
    return out
