"""Token-based mitigation: tag where each record came from.

Augmented records are prefixed with ``<|aug|>`` (and originals with ``<|orig|>`` when
``tag_original`` is set). The tags are special tokens, added to the tokenizer with the
embedding matrix resized. The model can then attribute the augmented data's style to the tag
instead of to the world; at evaluation, contexts carry the original tag (or none), and that
choice is stored with the model so evaluation asks the model instead of guessing.
"""

from __future__ import annotations

from collections.abc import Sequence

from biasinherit.errors import BiasInheritError
from biasinherit.records import Record

__all__ = ["AUGMENTED_TAG", "ORIGINAL_TAG", "check_sources", "eval_prefix", "tag_tokens", "training_prefix"]

AUGMENTED_TAG = "<|aug|>"
ORIGINAL_TAG = "<|orig|>"

MISSING_SOURCE = (
    "record has no 'source' field; the token mitigation needs to know which records are "
    "augmented (write mixes with 'biasinherit mix', or add source: original|augmented)"
)


def tag_tokens(*, tag_original: bool) -> list[str]:
    """The special tokens the tokenizer needs."""
    return [AUGMENTED_TAG, ORIGINAL_TAG] if tag_original else [AUGMENTED_TAG]


def training_prefix(record: Record, *, tag_original: bool) -> str:
    if record.source == "augmented":
        return AUGMENTED_TAG
    return ORIGINAL_TAG if tag_original else ""


def eval_prefix(*, tag_original: bool) -> str:
    """What evaluation puts before every context: the original-data tag, or nothing."""
    return ORIGINAL_TAG if tag_original else ""


def check_sources(records: Sequence[Record], *, path: str, lines: Sequence[int] | None = None) -> None:
    """Fail on the first record whose input did not say where it came from.

    ``Record.source`` defaults to ``original``, so a record read without the field would
    silently count as original data; ``model_fields_set`` tells the two apart.
    """
    for i, record in enumerate(records):
        if "source" not in record.model_fields_set:
            line = lines[i] if lines is not None else i + 1
            raise BiasInheritError(MISSING_SOURCE, path=path, line=line, field="source")
