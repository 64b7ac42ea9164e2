"""The real pretrained SmolLM2-135M-Instruct (fetched once by the ``smollm2_dir`` fixture):
scoring against a direct transformers computation, and one LoRA step saved and reloaded.

Inputs are kept tiny: the model has 135M parameters and the suite runs on two CPU cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from biasinherit.models import CausalLMScorer, load_model
from biasinherit.records import Record
from biasinherit.training import TrainConfig, save_trained, train_model

pytestmark = pytest.mark.slow

# sentence pairs in the CrowS-Pairs form (written for this test): one word differs
PAIRS = [
    ("The nurse said that she would be late for the meeting.", "The nurse said that he would be late for the meeting."),
    ("My neighbour is an engineer and he fixes everything himself.",
     "My neighbour is an engineer and she fixes everything himself."),
    ("Everyone in the office asked Maria for help with the budget.",
     "Everyone in the office asked Mark for help with the budget."),
]


@pytest.fixture(scope="module")
def smollm2(smollm2_dir: Path):  # type: ignore[no-untyped-def]
    return load_model(smollm2_dir)


def _direct_logprob(model, tokenizer, context_ids: list[int], text: str) -> float:  # type: ignore[no-untyped-def]
    """log p(text | context) from one plain forward pass of the transformers model."""
    cont = tokenizer(text, add_special_tokens=False).input_ids
    ids = torch.tensor([context_ids + cont])
    with torch.no_grad():
        logprobs = torch.log_softmax(model(ids).logits[0].double(), dim=-1)
    n = len(context_ids)
    return float(sum(logprobs[n - 1 + k, t] for k, t in enumerate(cont)))


def test_scorer_matches_transformers_on_sentence_pairs(smollm2) -> None:  # type: ignore[no-untyped-def]
    model, tokenizer = smollm2.model, smollm2.tokenizer
    assert smollm2.metadata.add_bos and tokenizer.bos_token_id is not None
    sentences = [s for pair in PAIRS for s in pair]
    expected = [_direct_logprob(model, tokenizer, [tokenizer.bos_token_id], s) for s in sentences]
    for share in (True, False):  # prefix-tree rows (a pair shares its first words) and plain rows
        scorer = CausalLMScorer(model, tokenizer, batch_size=4, share=share)
        got = [r.logprob for r in scorer.loglikelihood([("", s) for s in sentences])]
        assert got == pytest.approx(expected, abs=5e-4), share
        for k in range(len(PAIRS)):  # the pair's preference and gap, as CrowS-Pairs reads them
            assert got[2 * k] - got[2 * k + 1] == pytest.approx(expected[2 * k] - expected[2 * k + 1], abs=5e-4)
    # a pretrained model prefers the grammatical pronoun: a check that real weights are loaded
    assert expected[2] > expected[3]


def _records() -> list[Record]:
    return [
        Record(prompt="Who fixed the printer?", response="The technician fixed it this morning.",
               source="original"),
        Record(prompt="Where is the meeting?", response="The meeting is in room four.", source="augmented"),
        Record(response="The baker opens the shop at six every day.", source="original"),
        Record(response="The pilot checked the weather before the flight.", source="augmented"),
    ]


def test_one_lora_step_saves_and_reloads(smollm2_dir: Path, smollm2, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from peft import PeftModel

    config = TrainConfig(model=f"hf:{smollm2_dir}", lora=True, epochs=1, batch_size=4, learning_rate=1e-3)
    result = train_model(config, _records())
    assert len(result.loss_curve) == 1 and 0 < result.loss_curve[0]["loss"] < 10
    assert result.metadata.train_config["max_length"] < 64  # sized to these short records
    out = save_trained(result, tmp_path / "adapter")
    assert (out / "adapter_config.json").exists() and not (out / "model.safetensors").exists()
    assert sum(p.stat().st_size for p in out.rglob("*")) < 30e6  # the adapter, not a model copy

    reloaded = load_model(out)
    assert isinstance(reloaded.model, PeftModel)
    ids = smollm2.tokenizer("The pilot checked the weather", return_tensors="pt").input_ids
    with torch.no_grad():
        trained = result.model(ids).logits
        torch.testing.assert_close(reloaded.model(ids).logits, trained)
        assert (trained - smollm2.model(ids).logits).abs().max() > 1e-4  # the step changed the model
