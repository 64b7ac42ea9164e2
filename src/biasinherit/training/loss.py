"""Loss terms, each a pure function of tensors.

The training objective (DESIGN §7) is

    total = original-record loss + lambda * augmented-record loss + mu * counterfactual term

- ``token_nll``: per-token negative log-likelihood of the labels (causal shift included);
  positions labelled -100 (prompt, padding, masked spans) contribute nothing.
  ``labelled_token_nll`` gives the same from hidden states, projecting only labelled positions.
- ``source_weighted_loss``: the first two terms. Both sums are divided by the number of
  response tokens in the batch, so with ``lambda = 1`` it is the ordinary mean token loss and
  ``lambda`` scales exactly the augmented records' share of it.
- ``counterfactual_divergence``: mean Jensen-Shannon divergence between the model's next-token
  distributions at aligned positions of a record and of its group-swapped counterfactual. The
  trainer passes the counterfactual's logits without gradient (a target the record's predictions
  are pulled towards), so the term costs one extra forward pass, not a forward and a backward.
"""

from __future__ import annotations

from typing import Any

__all__ = ["IGNORE_INDEX", "counterfactual_divergence", "labelled_token_nll", "source_weighted_loss", "token_nll"]

IGNORE_INDEX = -100


def token_nll(logits: Any, labels: Any) -> tuple[Any, Any]:
    """Per-token NLL and its mask.

    logits: (B, T, V); labels: (B, T) with -100 where no loss is taken. Position t predicts
    label t + 1. Returns ``nll`` (B, T-1), zero where masked, and ``mask`` (B, T-1) bool.
    """
    import torch.nn.functional as F

    shift_logits = logits[:, :-1, :].float()  # (B, T-1, V)
    shift_labels = labels[:, 1:]  # (B, T-1)
    mask = shift_labels != IGNORE_INDEX
    nll = F.cross_entropy(
        shift_logits.reshape(-1, shift_logits.size(-1)),
        shift_labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="none",
    ).view_as(shift_labels)
    return nll * mask, mask


def labelled_token_nll(hidden: Any, head: Any, labels: Any) -> tuple[Any, Any]:
    """:func:`token_nll` from the backbone's hidden states (B, T, H), applying the output
    ``head`` only at positions that predict a label: the same values, without the vocabulary
    projection of prompt and padding positions."""
    import torch
    import torch.nn.functional as F

    shift_labels = labels[:, 1:]  # (B, T-1)
    mask = shift_labels != IGNORE_INDEX
    logits = head(hidden[:, :-1, :][mask]).float()  # (N, V)
    nll = torch.zeros(shift_labels.shape, dtype=logits.dtype, device=logits.device)
    nll[mask] = F.cross_entropy(logits, shift_labels[mask], reduction="none")
    return nll, mask


def source_weighted_loss(nll: Any, mask: Any, augmented: Any, lambda_aug: float) -> Any:
    """(sum of original tokens' NLL + lambda * sum of augmented tokens' NLL) / response tokens.

    nll, mask: (B, T') from :func:`token_nll`; augmented: (B,) bool, the record's source.
    A batch with no response tokens gives 0 (it carries no signal), never NaN.
    """
    weights = 1.0 + (lambda_aug - 1.0) * augmented.to(nll.dtype)  # (B,): 1 or lambda
    total = (nll.sum(dim=1) * weights).sum()
    count = mask.sum().clamp(min=1)
    return total / count


def counterfactual_divergence(logits: Any, cf_logits: Any) -> Any:
    """Mean Jensen-Shannon divergence (nats) between paired next-token distributions.

    logits, cf_logits: (N, V), row i of each at aligned positions of a record and its
    counterfactual. JS is symmetric and bounded by ln 2, so one odd pair cannot dominate.
    N = 0 gives 0.
    """
    import math

    import torch

    if logits.shape[0] == 0:
        return logits.sum() * 0.0
    log_p = torch.log_softmax(logits.float(), dim=-1)
    log_q = torch.log_softmax(cf_logits.float(), dim=-1)
    # log m = log((p + q) / 2), computed stably in log space
    log_m = torch.logsumexp(torch.stack([log_p, log_q]), dim=0) - math.log(2.0)
    kl_pm = (log_p.exp() * (log_p - log_m)).sum(dim=-1)
    kl_qm = (log_q.exp() * (log_q - log_m)).sum(dim=-1)
    return (0.5 * (kl_pm + kl_qm)).mean()
