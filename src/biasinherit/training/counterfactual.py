"""Counterfactual pairs for the loss mitigation's invariance term.

A record's counterfactual is the same record with the group swapped (she -> he, Maria ->
Michael) by the taxonomy's ``CounterfactualSwapper``, in the prompt and in the response. The
two token sequences can differ in length (a name may be one token in one group and two in the
other), so their positions are aligned on the tokens they share: where both sequences predict
the same next token and the context already contains a swapped token, the model's two
predictive distributions are compared. Positions before the first swap have identical contexts
and are left out (their divergence is zero by construction).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

__all__ = ["aligned_prediction_positions", "counterfactual_texts"]


def aligned_prediction_positions(
    ids: Sequence[int], cf_ids: Sequence[int], response_start: int, cf_response_start: int
) -> list[tuple[int, int]]:
    """Pairs ``(p, q)``: position p of ``ids`` and q of ``cf_ids`` predict the same response
    token after the first difference between the sequences.

    Position p predicts token p + 1, so a shared token at (i, j) pairs positions (i-1, j-1).
    """
    first_diff = next(
        (k for k, (a, b) in enumerate(zip(ids, cf_ids)) if a != b), min(len(ids), len(cf_ids))
    )
    matcher = difflib.SequenceMatcher(a=list(ids), b=list(cf_ids), autojunk=False)
    pairs: list[tuple[int, int]] = []
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            i, j = block.a + k, block.b + k
            if i - 1 >= first_diff and i >= response_start and j >= cf_response_start:
                pairs.append((i - 1, j - 1))
    return pairs


def counterfactual_texts(
    swapper: Any, prompt: str | None, response: str, attribute: str
) -> tuple[str | None, str] | None:
    """The swapped ``(prompt, response)``, or None when nothing in the record was swapped."""
    swapped_prompt = None
    changed = False
    if prompt:
        result = swapper.swap(prompt, attribute=attribute)
        swapped_prompt = result.text
        changed |= bool(result.changes)
    result = swapper.swap(response, attribute=attribute)
    changed |= bool(result.changes)
    return (swapped_prompt, result.text) if changed else None
