"""Mask-based mitigation: augmented records' bias-bearing tokens are not learned.

Tokens that overlap a bias-bearing span get label -100, so the model never learns to predict
them from the augmented data; optionally the spans are also replaced in the input by a neutral
placeholder token, so the model does not condition on them either. Spans come from the record
(the generator's annotations) or, when a record has none, from the taxonomy lexicon.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from biasinherit.records import Record

__all__ = ["IGNORE_INDEX", "MASK_PLACEHOLDER", "bias_spans", "mask_labels", "replace_spans"]

IGNORE_INDEX = -100
MASK_PLACEHOLDER = "<|mask|>"

Spans = list[tuple[int, int]]


def bias_spans(record: Record, taxonomy: Any) -> Spans:
    """Character spans in ``record.response`` to mask, sorted and merged."""
    if record.spans:
        raw = [(s.start, s.end) for s in record.spans]
    else:
        attribute = record.bias_type.split(".")[0] if record.bias_type else None
        attributes = [attribute] if attribute in taxonomy.attributes else None
        raw = [(start, end) for start, end, _ in taxonomy.find_terms(record.response, attributes)]
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
