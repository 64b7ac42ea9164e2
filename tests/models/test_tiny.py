from __future__ import annotations

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.models.tiny import TINY_PRESETS, build_tiny_model, tiny_preset, train_tiny_tokenizer

DOCUMENTED_PARAMETERS = {"tiny-xs": 0.25e6, "tiny-s": 0.45e6, "tiny-m": 1.1e6, "tiny-l": 3.7e6}


def test_tokenizer_keeps_special_tokens_whole() -> None:
    texts = ["The nurse said that she would finish the report.", "The pilot said that he was late."] * 10
    tok = train_tiny_tokenizer(texts, vocab_size=300, extra_special_tokens=["<|aug|>", "<|mask|>"])
    ids = tok("<|aug|>The nurse<|mask|>", add_special_tokens=False)["input_ids"]
    assert ids[0] == tok.convert_tokens_to_ids("<|aug|>")
    assert ids[-1] == tok.convert_tokens_to_ids("<|mask|>")
    assert tok.decode(ids[1:-1]) == "The nurse"
    assert tok.bos_token == "<|bos|>" and tok.eos_token == "<|endoftext|>" and tok.pad_token == "<|pad|>"
    assert len({tok.bos_token_id, tok.eos_token_id, tok.pad_token_id}) == 3


def test_presets_match_their_documented_sizes() -> None:
    class Vocab2048:
        bos_token_id, eos_token_id, pad_token_id = 1, 0, 2

        def __len__(self) -> int:
            return 2048

    for name, expected in DOCUMENTED_PARAMETERS.items():
        model = build_tiny_model(TINY_PRESETS[name], Vocab2048(), seed=0)
        assert sum(p.numel() for p in model.parameters()) == pytest.approx(expected, rel=0.05)
    assert tiny_preset("tiny").name == "tiny-s"


def test_unknown_preset_suggests_a_close_one() -> None:
    with pytest.raises(BiasInheritError, match=r"Unknown tiny model preset 'tiny-xl'\. Did you mean: tiny-l"):
        tiny_preset("tiny-xl")


def test_activation_is_gpt2_gelu_as_one_kernel() -> None:
    import torch
    from transformers.activations import ACT2FN

    class Vocab64:
        bos_token_id, eos_token_id, pad_token_id = 1, 0, 2

        def __len__(self) -> int:
            return 64

    model = build_tiny_model(TINY_PRESETS["tiny-xs"], Vocab64(), seed=0)
    x = torch.linspace(-8, 8, 4001)
    fused = model.transformer.h[0].mlp.act(x)
    assert torch.allclose(fused, ACT2FN["gelu_new"](x), atol=1e-6)
    assert not torch.allclose(fused, ACT2FN["gelu"](x), atol=1e-6)  # the tanh form, not erf
