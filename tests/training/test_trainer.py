"""The training loop end to end on the toy mix with the smallest tiny preset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from biasinherit.errors import BiasInheritError
from biasinherit.models import load_model
from biasinherit.records import Record
from biasinherit.training import TrainConfig, save_trained, train_model
from biasinherit.training.token import AUGMENTED_TAG, ORIGINAL_TAG

FAST = dict(model="tiny-xs", epochs=1, batch_size=8, vocab_size=400)


def test_same_seed_same_loss_different_seed_different_loss(toy_records: list[Record]) -> None:
    a = train_model(TrainConfig(seed=3, **FAST), toy_records)
    b = train_model(TrainConfig(seed=3, **FAST), toy_records)
    c = train_model(TrainConfig(seed=4, **FAST), toy_records)
    assert a.final_loss == b.final_loss  # to the last digit
    assert [p["loss"] for p in a.loss_curve] == [p["loss"] for p in b.loss_curve]
    assert c.final_loss != a.final_loss


def test_position_batching_trains_paired_mixes_in_the_same_batches(
    toy_records: list[Record], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the ratio-1 side of a paired mix: every other record rewritten (here: made longer) in place
    import biasinherit.training.trainer as trainer_module

    rewritten = [r.model_copy(update={"response": r.response + " and so on" * (3 * (i % 2)), "source": "augmented"})
                 if i % 2 else r for i, r in enumerate(toy_records)]
    schedules: list[list[list[int]]] = []
    for name in ("positional_batches", "length_grouped_batches"):
        real = getattr(trainer_module, name)

        def recording(*args, _real=real, **kwargs):  # type: ignore[no-untyped-def]
            schedules.append(_real(*args, **kwargs))
            return schedules[-1]

        monkeypatch.setattr(trainer_module, name, recording)
    for batching in ("position", "length"):
        for mix in (toy_records, rewritten):
            train_model(TrainConfig(batching=batching, **FAST), mix)
    by_position, by_length = schedules[:2], schedules[2:]
    assert by_position[0] == by_position[1]
    assert by_length[0] != by_length[1]  # sorting by length regroups the rewritten records


def test_saved_folder_loads_with_transformers(toy_records: list[Record], tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result = train_model(TrainConfig(mitigations=["token"], tag_original=True, **FAST), toy_records)
    out = save_trained(result, tmp_path / "m")
    meta = json.loads((out / "biasinherit_model.json").read_text())
    assert meta["eval_prefix"] == ORIGINAL_TAG and meta["mitigations"] == ["token"]
    assert meta["backend"] == "tiny" and meta["seed"] == 0 and len(meta["data_hash"]) == 64
    assert {"torch", "transformers"} <= set(meta["versions"])
    curve = json.loads((out / "loss_curve.json").read_text())
    assert len(curve) == len(result.loss_curve) > 0

    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    ids = tok(f"{ORIGINAL_TAG}The nurse said that", add_special_tokens=False, return_tensors="pt")["input_ids"]
    assert ids[0, 0].item() == tok.convert_tokens_to_ids(ORIGINAL_TAG)
    assert tok.convert_tokens_to_ids(AUGMENTED_TAG) != tok.unk_token_id
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, result.model(ids).logits)

    loaded = load_model(out)
    assert loaded.eval_prefix == ORIGINAL_TAG  # evaluation asks the model
    assert loaded.metadata.add_bos


def test_token_mitigation_needs_source_fields(toy_records: list[Record]) -> None:
    no_source = [Record.model_validate({"response": r.response, "prompt": r.prompt}) for r in toy_records]
    with pytest.raises(BiasInheritError, match=r"mix\.jsonl:7 field 'source': record has no 'source'"):
        train_model(TrainConfig(mitigations=["token"], **FAST), no_source, data_path="mix.jsonl",
                    record_lines=list(range(7, 7 + len(no_source))))


def test_loss_mitigation_reduces_to_plain_loss_at_lambda_1_mu_0(toy_records: list[Record]) -> None:
    plain = train_model(TrainConfig(**FAST), toy_records)
    neutral = train_model(TrainConfig(mitigations=["loss"], lambda_aug=1.0, mu_cf=0.0, **FAST), toy_records)
    weighted = train_model(TrainConfig(mitigations=["loss"], lambda_aug=0.5, mu_cf=1.0, **FAST), toy_records)
    assert neutral.final_loss == pytest.approx(plain.final_loss, rel=1e-6)
    assert weighted.final_loss != pytest.approx(plain.final_loss, rel=1e-3)


def test_mask_mitigation_with_input_replacement_adds_the_placeholder(toy_records: list[Record]) -> None:
    result = train_model(TrainConfig(mitigations=["mask"], mask_replace_input=True, **FAST), toy_records)
    assert "<|mask|>" in result.tokenizer.get_vocab()
    assert result.metadata.mitigations == ["mask"] and result.metadata.eval_prefix == ""


def test_empty_mix_is_a_user_error() -> None:
    with pytest.raises(BiasInheritError, match="no records to train on"):
        train_model(TrainConfig(**FAST), [], data_path="empty.jsonl")
