from __future__ import annotations

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.training.config import TrainConfig, parse_mitigations


def test_mitigations_parse_and_combine() -> None:
    assert parse_mitigations(["token,mask"]) == ["mask", "token"]
    assert parse_mitigations(["loss", "mask"]) == ["loss", "mask"]
    assert parse_mitigations(["none"]) == []
    assert TrainConfig(mitigations="token").mitigations == ["token"]


def test_unknown_mitigation_says_did_you_mean() -> None:
    with pytest.raises(BiasInheritError, match=r"Unknown mitigation 'tokn'\. Did you mean: token\?"):
        TrainConfig(mitigations=["tokn"])


def test_none_cannot_be_combined() -> None:
    with pytest.raises(BiasInheritError, match="'none' cannot be combined"):
        parse_mitigations(["none", "mask"])


@pytest.mark.parametrize("field", ["lambda_aug", "mu_cf"])
def test_negative_weights_are_rejected(field: str) -> None:
    with pytest.raises(BiasInheritError, match=f"{field} must be >= 0, got -0.5"):
        TrainConfig(**{field: -0.5})


def test_unknown_tiny_preset_and_misplaced_lora() -> None:
    with pytest.raises(BiasInheritError, match="Did you mean: tiny-s"):
        TrainConfig(model="tiny-ss")
    with pytest.raises(BiasInheritError, match="--lora applies to hf: models"):
        TrainConfig(model="tiny", lora=True)
    with pytest.raises(BiasInheritError, match="epochs must be >= 1"):
        TrainConfig(epochs=0)


def test_defaults_by_backend() -> None:
    assert TrainConfig().effective_learning_rate() == 3e-3
    assert TrainConfig(model="hf:x", lora=True).effective_learning_rate() == 2e-4
    assert TrainConfig().effective_num_threads() == 1
    assert TrainConfig().effective_epochs() == 4 and TrainConfig(model="hf:x").effective_epochs() == 3
    assert TrainConfig(epochs=2).effective_epochs() == 2
    assert TrainConfig(model="hf:x").effective_num_threads() is None
