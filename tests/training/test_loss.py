"""Each loss term against a value computed by hand on a 2-token toy (vocabulary of 2)."""

from __future__ import annotations

import math

import pytest
import torch

from biasinherit.training.loss import counterfactual_divergence, labelled_token_nll, source_weighted_loss, token_nll

LN2 = math.log(2.0)


def test_token_nll_shifts_and_masks_by_hand() -> None:
    # one sequence of 2 tokens; position 0 predicts token 1 (label 1).
    # logits at position 0 are [0, ln 3]: p = [1/4, 3/4], so NLL(label 1) = -ln(3/4).
    logits = torch.tensor([[[0.0, math.log(3.0)], [5.0, -5.0]]])  # (B=1, T=2, V=2)
    labels = torch.tensor([[-100, 1]])
    nll, mask = token_nll(logits, labels)
    assert nll.shape == (1, 1)
    assert mask.tolist() == [[True]]
    assert nll.item() == pytest.approx(-math.log(0.75), abs=1e-6)


def test_token_nll_ignores_masked_labels() -> None:
    logits = torch.zeros(1, 2, 2)
    labels = torch.tensor([[0, -100]])
    nll, mask = token_nll(logits, labels)
    assert mask.tolist() == [[False]]
    assert nll.item() == 0.0


def test_source_weighted_loss_by_hand() -> None:
    # two records, one response token each, uniform logits for record 0 (NLL ln 2) and
    # p(label) = 3/4 for record 1 (NLL -ln 3/4). Record 1 is augmented, lambda = 0.5:
    # (ln 2 + 0.5 * -ln(3/4)) / 2 tokens.
    logits = torch.tensor([[[0.0, 0.0], [0.0, 0.0]], [[0.0, math.log(3.0)], [0.0, 0.0]]])
    labels = torch.tensor([[-100, 0], [-100, 1]])
    nll, mask = token_nll(logits, labels)
    augmented = torch.tensor([False, True])
    expected = (LN2 + 0.5 * -math.log(0.75)) / 2
    assert source_weighted_loss(nll, mask, augmented, 0.5).item() == pytest.approx(expected, abs=1e-6)
    # lambda = 1 is the plain mean token loss; lambda = 0 drops the augmented record's loss
    assert source_weighted_loss(nll, mask, augmented, 1.0).item() == pytest.approx(
        (LN2 - math.log(0.75)) / 2, abs=1e-6
    )
    assert source_weighted_loss(nll, mask, augmented, 0.0).item() == pytest.approx(LN2 / 2, abs=1e-6)


def test_source_weighted_loss_without_tokens_is_zero_not_nan() -> None:
    nll, mask = token_nll(torch.zeros(1, 2, 2), torch.tensor([[-100, -100]]))
    assert source_weighted_loss(nll, mask, torch.tensor([True]), 0.5).item() == 0.0


def test_counterfactual_divergence_by_hand() -> None:
    # p = [3/4, 1/4] and q = [1/4, 3/4] (logits [ln 3, 0] and [0, ln 3]).
    # m = [1/2, 1/2]; KL(p||m) = 3/4 ln(3/2) + 1/4 ln(1/2) = KL(q||m); JS = that value.
    p = torch.tensor([[math.log(3.0), 0.0]])
    q = torch.tensor([[0.0, math.log(3.0)]])
    expected = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    assert counterfactual_divergence(p, q).item() == pytest.approx(expected, abs=1e-6)
    # symmetric, zero for equal rows, and averaged over rows
    assert counterfactual_divergence(q, p).item() == pytest.approx(expected, abs=1e-6)
    assert counterfactual_divergence(p, p).item() == pytest.approx(0.0, abs=1e-7)
    both = counterfactual_divergence(torch.cat([p, p]), torch.cat([q, p]))
    assert both.item() == pytest.approx(expected / 2, abs=1e-6)


def test_counterfactual_divergence_is_bounded_by_ln2_and_differentiable() -> None:
    p = torch.tensor([[30.0, -30.0]], requires_grad=True)
    q = torch.tensor([[-30.0, 30.0]])
    value = counterfactual_divergence(p, q)
    assert value.item() == pytest.approx(LN2, abs=1e-5)
    value.backward()
    assert p.grad is not None and torch.isfinite(p.grad).all()


def test_counterfactual_divergence_of_no_pairs_is_zero() -> None:
    assert counterfactual_divergence(torch.zeros(0, 2), torch.zeros(0, 2)).item() == 0.0


def test_labelled_token_nll_equals_the_full_logits_and_its_gradient() -> None:
    torch.manual_seed(0)
    head = torch.nn.Linear(8, 11, bias=False)
    hidden = torch.randn(3, 6, 8, requires_grad=True)
    labels = torch.randint(0, 11, (3, 6))
    labels[0, :3] = -100
    labels[1, 4:] = -100
    labels[2] = -100
    full, full_mask = token_nll(head(hidden), labels)
    grad_full = torch.autograd.grad(full.sum(), [hidden, head.weight])
    part, part_mask = labelled_token_nll(hidden, head, labels)
    grad_part = torch.autograd.grad(part.sum(), [hidden, head.weight])
    assert torch.equal(full_mask, part_mask)
    assert torch.allclose(full, part, atol=1e-6)
    for a, b in zip(grad_full, grad_part):
        assert torch.allclose(a, b, atol=1e-6)
