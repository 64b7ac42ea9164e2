"""The hf: backend on randomly initialised local models (no hub): LoRA train, save, reload, generate."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from toy_mix import toy_mix

from biasinherit.models import load_model
from biasinherit.models.backend import open_backend
from biasinherit.models.hf import lora_targets
from biasinherit.models.tiny import train_tiny_tokenizer
from biasinherit.tasks import resolve_tasks
from biasinherit.tasks.base import EvalSettings
from biasinherit.tasks.runner import run_tasks
from biasinherit.training import TrainConfig, save_trained, train_model
from biasinherit.training.token import AUGMENTED_TAG


def _tokenizer():  # type: ignore[no-untyped-def]
    texts = [r.prompt or "" for r in toy_mix(1)] + [r.response for r in toy_mix(1)]
    return train_tiny_tokenizer(texts, vocab_size=300)


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = _tokenizer()
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("llama")
    LlamaForCausalLM(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = _tokenizer()
    config = GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=2, n_head=2, n_positions=256,
                        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("gpt2")
    GPT2LMHeadModel(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def _generate(loaded) -> list[int]:  # type: ignore[no-untyped-def]
    ids = loaded.tokenizer("The nurse said that", add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = loaded.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=5,
                                    do_sample=False, pad_token_id=loaded.tokenizer.pad_token_id)
    return out[0, ids.shape[1]:].tolist()


def test_llama_lora_trains_saves_an_adapter_reloads_and_generates(llama_dir: Path, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    config = TrainConfig(model=f"hf:{llama_dir}", lora=True, epochs=1, batch_size=8, learning_rate=1e-2)
    result = train_model(config, toy_mix(2))
    assert result.loss_curve[-1]["loss"] < result.loss_curve[0]["loss"]
    out = save_trained(result, tmp_path / "adapter")
    assert (out / "adapter_config.json").exists() and not (out / "model.safetensors").exists()
    assert result.metadata.adapter and result.metadata.base_model == str(llama_dir.resolve())

    loaded = load_model(out)
    assert isinstance(loaded.model, PeftModel)
    new_tokens = _generate(loaded)
    assert len(new_tokens) >= 1
    ids = torch.tensor([[1, 5, 6, 7]])
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(ids).logits, result.model(ids).logits)
    # transformers' own loader follows the adapter to its recorded base as well
    auto = AutoModelForCausalLM.from_pretrained(out)
    with torch.no_grad():
        torch.testing.assert_close(auto(ids).logits, result.model(ids).logits)
    # the evaluation backend scores through the adapter: a log-likelihood task and a generation task
    backend = open_backend(str(out))
    results, _ = run_tasks(backend, resolve_tasks("stereo_pairs,story"), EvalSettings(limit=6, n_boot=0))
    assert {r.task for r in results} == {"stereo_pairs", "story"}
    assert all(r.n > 0 for r in results if r.metric == "pct_stereotype")


def test_gpt2_lora_uses_fan_in_fan_out_and_resizes_for_a_new_tag(gpt2_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    assert lora_targets(AutoModelForCausalLM.from_pretrained(gpt2_dir)).fan_in_fan_out
    config = TrainConfig(model=f"hf:{gpt2_dir}", lora=True, mitigations=["token"], epochs=1,
                         batch_size=8, learning_rate=1e-2)
    result = train_model(config, toy_mix(2))
    assert result.model.peft_config["default"].fan_in_fan_out
    tag = result.tokenizer.convert_tokens_to_ids(AUGMENTED_TAG)
    assert result.model.get_input_embeddings().weight.shape[0] > tag  # embeddings resized
    out = save_trained(result, tmp_path / "gpt2-adapter")
    loaded = load_model(out)
    ids = torch.tensor([[tag, 5, 6, 7]])
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(ids).logits, result.model(ids).logits)
    assert len(_generate(loaded)) >= 1


def test_full_fine_tuning_saves_full_weights(gpt2_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    result = train_model(TrainConfig(model=f"hf:{gpt2_dir}", epochs=1, batch_size=8), toy_mix(1))
    out = save_trained(result, tmp_path / "full")
    model = AutoModelForCausalLM.from_pretrained(out)
    ids = torch.tensor([[1, 5, 6, 7]])
    with torch.no_grad():
        torch.testing.assert_close(model(ids).logits, result.model(ids).logits)
