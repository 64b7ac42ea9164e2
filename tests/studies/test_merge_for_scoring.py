"""Scoring a LoRA model with its adapter merged gives the scores of the unmerged adapter (within
1e-5), on randomly initialised tiny local models (no hub)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tiny_lm import save_tiny_llama  # noqa: E402
from toy_mix import toy_mix  # noqa: E402

from biasinherit.models.backend import HFBackend  # noqa: E402
from biasinherit.studies.config import StudyConfig  # noqa: E402
from biasinherit.studies.evaluation import evaluate_trained, merge_for_scoring  # noqa: E402
from biasinherit.training import TrainConfig, train_model  # noqa: E402
from biasinherit.training.trainer import TrainResult  # noqa: E402

PAIRS = [("The nurse said that", " she would finish the report."),
         ("The pilot said that", " he would finish the report before lunch."),
         ("", "The mechanic called the writer because he needed advice.")]


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_llama(tmp_path_factory.mktemp("llama-merge"))


def _copy(trained: TrainResult) -> TrainResult:
    return TrainResult(copy.deepcopy(trained.model), trained.tokenizer, trained.metadata, trained.loss_curve)


def _lls(trained: TrainResult) -> list[float]:
    meta = trained.metadata
    backend = HFBackend(trained.model, trained.tokenizer, eval_prefix=meta.eval_prefix, add_bos=bool(meta.add_bos))
    out = backend.token_loglikelihoods(PAIRS)
    return [v for r in out for v in (r.logprob, *r.token_logprobs)]


@pytest.mark.parametrize("mitigation", ["none", "token"])
def test_merged_scoring_equals_unmerged(llama_dir: Path, mitigation: str) -> None:
    from peft import PeftModel

    train_config = TrainConfig(model=f"hf:{llama_dir}", lora=True, epochs=1, batch_size=8, learning_rate=1e-2,
                               mitigations=[] if mitigation == "none" else [mitigation], seed=0)
    trained = train_model(train_config, toy_mix(2))
    assert isinstance(trained.model, PeftModel)
    config = StudyConfig.model_validate({
        "bias_types": ["gender.association"], "ratios": [0.0], "seeds": [0], "pretrain": {"enabled": False},
        "model": {"model": f"hf:{llama_dir}", "lora": True},
        "tasks": {"names": ["stereo_pairs", "coref"], "limit": 8},
    })
    unmerged = _copy(trained)
    rows, replicates = evaluate_trained(unmerged, config, seed=0)
    lls = _lls(unmerged)
    with unmerged.model.disable_adapter():  # the adapter moves the scores: a merge that lost it would show
        base_lls = _lls(unmerged)
    assert max(abs(a - b) for a, b in zip(lls, base_lls, strict=True)) > 1e-3

    merged = merge_for_scoring(trained)
    assert merged is not trained and not isinstance(merged.model, PeftModel)
    assert not any("lora" in n for n, _ in merged.model.named_parameters())
    merged_rows, merged_replicates = evaluate_trained(merged, config, seed=0)
    assert [(r["task"], r["metric"]) for r in merged_rows] == [(r["task"], r["metric"]) for r in rows]
    for row, other in zip(rows, merged_rows, strict=True):
        for key in ("value", "ci_low", "ci_high"):
            assert (row[key] is None) == (other[key] is None)
            if row[key] is not None:
                assert other[key] == pytest.approx(row[key], abs=1e-5), (row["task"], row["metric"], key)
    assert merged_replicates.keys() == replicates.keys()
    merged_lls = _lls(merged)
    assert len(merged_lls) == len(lls) and max(abs(a - b) for a, b in zip(lls, merged_lls, strict=True)) < 1e-5


def test_half_precision_and_full_models_are_left_unmerged(llama_dir: Path) -> None:
    from peft import PeftModel

    lora = train_model(TrainConfig(model=f"hf:{llama_dir}", lora=True, epochs=1, batch_size=8, seed=0), toy_mix(1))
    half = TrainResult(lora.model.to(torch.bfloat16), lora.tokenizer, lora.metadata, lora.loss_curve)
    assert merge_for_scoring(half) is half and isinstance(half.model, PeftModel)  # rounding would change scores
    full = train_model(TrainConfig(model=f"hf:{llama_dir}", lora=False, epochs=1, batch_size=8, seed=0), toy_mix(1))
    assert merge_for_scoring(full) is full
