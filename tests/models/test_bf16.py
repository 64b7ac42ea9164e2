"""The bfloat16 paths a GPU takes by default (``dtype = auto`` is bf16 on a GPU that supports it),
run here on the CPU with ``dtype = bfloat16``:

- LoRA loads the frozen base in bf16 and PEFT keeps the adapter in float32; the forward pass runs
  in the weights' dtypes (no autocast);
- full fine-tuning keeps the weights in float32 and autocasts the forward pass to bf16 (the
  trainer's one autocast path), then casts the trained weights to bf16;
- scoring a bf16 model reads its logits in float32.

Each is compared with the same run in float32: finite, and close within bf16's precision.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from tiny_lm import save_tiny_llama
from toy_mix import toy_mix

from biasinherit.errors import BiasInheritError
from biasinherit.models import load_model
from biasinherit.models.backend import HFBackend
from biasinherit.models.hf import load_hf_causal_lm, load_hf_tokenizer, pick_dtype, training_dtypes
from biasinherit.training import TrainConfig, save_trained, train_model

BF16_PRECISION = 2 ** -8  # bfloat16 keeps 8 significant bits

PAIRS = [("The nurse said that", " she would finish the report before lunch."),
         ("The pilot said that", " he would finish the report before lunch."),
         ("Sentence: The mechanic called the writer because he needed advice.\nQuestion: Who does 'he' refer to?\n"
          "Answer:", " the mechanic")]


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_llama(tmp_path_factory.mktemp("llama-bf16"))


def _train(llama_dir: Path, dtype: str, **options: object):  # type: ignore[no-untyped-def]
    config = TrainConfig(model=f"hf:{llama_dir}", device="cpu", dtype=dtype, seed=0, **options)  # type: ignore[arg-type]
    return train_model(config, toy_mix(1))


def _scores(result) -> list[float]:  # type: ignore[no-untyped-def]
    backend = HFBackend(result.model, result.tokenizer, add_bos=True)
    return backend.loglikelihood(PAIRS)


def _dtypes(model: torch.nn.Module, *, trainable: bool) -> set[torch.dtype]:
    return {p.dtype for p in model.parameters() if p.requires_grad == trainable}


def test_dtype_names_and_the_automatic_choice():
    assert pick_dtype("bfloat16", "cpu") is torch.bfloat16 and pick_dtype("float16", "cpu") is torch.float16
    assert pick_dtype("auto", "cpu") is torch.float32  # bf16 only on a GPU that supports it
    with pytest.raises(BiasInheritError, match="unknown dtype 'bf16'"):
        pick_dtype("bf16", "cpu")
    # LoRA: base in the half dtype; all weights: float32 weights, half-precision forward pass
    assert training_dtypes("bfloat16", "cpu", lora=True) == (torch.bfloat16, None)
    assert training_dtypes("bfloat16", "cpu", lora=False) == (torch.float32, torch.bfloat16)
    assert training_dtypes("float32", "cpu", lora=False) == (torch.float32, None)
    assert training_dtypes("auto", "cpu", lora=False) == (torch.float32, None)


def test_loading_in_bf16(llama_dir: Path):
    model = load_hf_causal_lm(str(llama_dir), dtype=torch.bfloat16, device="cpu")
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    tok = load_hf_tokenizer(str(llama_dir))
    ids = tok("The nurse said that", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    assert logits.dtype is torch.bfloat16 and bool(torch.isfinite(logits).all())


def test_lora_in_bf16_trains_a_float32_adapter_on_a_bf16_base_and_scores_close_to_float32(llama_dir: Path,
                                                                                         tmp_path: Path):
    options = {"lora": True, "epochs": 1, "batch_size": 8, "learning_rate": 1e-2}  # three steps
    bf16, fp32 = _train(llama_dir, "bfloat16", **options), _train(llama_dir, "float32", **options)
    assert _dtypes(bf16.model, trainable=False) == {torch.bfloat16}  # the frozen base
    assert _dtypes(bf16.model, trainable=True) == {torch.float32}  # the LoRA adapter
    losses = [(b["loss"], f["loss"]) for b, f in zip(bf16.loss_curve, fp32.loss_curve)]
    assert len(losses) == 3 and all(math.isfinite(b) for b, _ in losses)
    # each step's loss within bf16's relative precision (8 significant bits) of float32's
    assert all(abs(b - f) <= BF16_PRECISION * abs(f) for b, f in losses), losses
    assert losses[-1][1] < losses[0][1]  # it learns (so the comparison is not of two untrained models)

    scores, reference = _scores(bf16), _scores(fp32)
    assert all(math.isfinite(s) for s in scores)
    assert all(abs(s - r) <= BF16_PRECISION * abs(r) for s, r in zip(scores, reference)), (scores, reference)
    # saved and loaded back in bf16: the same model, the same scores
    loaded = load_model(save_trained(bf16, tmp_path / "adapter"), device="cpu", dtype="bfloat16")
    named = list(loaded.model.named_parameters())
    assert {p.dtype for n, p in named if "lora_" not in n} == {torch.bfloat16}  # the base
    assert {p.dtype for n, p in named if "lora_" in n} == {torch.float32}  # the adapter
    again = HFBackend(loaded.model, loaded.tokenizer, add_bos=True).loglikelihood(PAIRS)
    assert again == pytest.approx(scores, abs=1e-4)


def test_full_fine_tuning_in_bf16_keeps_float32_weights_so_small_steps_are_not_lost(llama_dir: Path):
    # the default full fine-tuning learning rate, 5e-5: each AdamW step (about the learning rate)
    # is below half of bf16's spacing for every weight above 2**-6 in size, so on bf16 weights
    # those steps round away; 24 steps on float32 weights add up to a change bf16 can hold
    options = {"epochs": 2, "batch_size": 2, "lr_schedule": "constant"}
    initial = {n: p.detach().clone() for n, p in load_hf_causal_lm(str(llama_dir), dtype=torch.float32,
                                                                   device="cpu").named_parameters()}

    def share_moved(model: torch.nn.Module) -> float:
        """Share of the matrices' weights above 2**-6 whose bf16 value changed."""
        moved = total = 0
        for name, p in model.named_parameters():
            big = initial[name].abs() > 2 ** -6
            if p.dim() == 2:
                before, after = initial[name][big].to(torch.bfloat16), p.detach()[big].to(torch.bfloat16)
                moved += int((before != after).sum())
                total += int(big.sum())
        return moved / total

    bf16, fp32 = _train(llama_dir, "bfloat16", **options), _train(llama_dir, "float32", **options)
    assert _dtypes(bf16.model, trainable=True) == {torch.bfloat16}  # trained, then cast to bf16
    # the same run on weights held in bf16 (a model handed over in bf16 is trained as it is)
    held = load_hf_causal_lm(str(llama_dir), dtype=torch.bfloat16, device="cpu")
    pure = train_model(TrainConfig(model=f"hf:{llama_dir}", device="cpu", dtype="bfloat16", seed=0, **options),
                       toy_mix(1), preloaded=(held, load_hf_tokenizer(str(llama_dir))))
    moved = {"bf16 forward": share_moved(bf16.model), "float32": share_moved(fp32.model),
             "bf16 weights": share_moved(pure.model)}
    assert moved["bf16 forward"] > 0.5 and abs(moved["bf16 forward"] - moved["float32"]) < 0.02, moved
    assert moved["bf16 weights"] < 0.05, moved  # what the trainer avoids
    # and it learns what float32 learns: the last epoch's loss within bf16's precision of it
    drop = fp32.loss_curve[0]["loss"] - fp32.final_loss
    assert math.isfinite(bf16.final_loss) and drop > 0.005
    assert abs(bf16.final_loss - fp32.final_loss) < 0.1 * drop, (bf16.final_loss, fp32.final_loss, drop)
    assert abs(pure.final_loss - fp32.final_loss) > 0.5 * drop  # the measure can tell the difference

    scores, reference = _scores(bf16), _scores(fp32)
    assert all(math.isfinite(s) for s in scores)
    assert all(abs(s - r) <= BF16_PRECISION * abs(r) for s, r in zip(scores, reference)), (scores, reference)
