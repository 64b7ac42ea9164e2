"""A tiny GPT-2 with a byte-level BPE tokenizer trained here, for tests (no hub downloads)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

EOS = "<|endoftext|>"

DEFAULT_TEXTS = [
    "The nurse said that she would finish the report.",
    "The engineer said that he would finish the report.",
    "Sentence: The pilot thanked the cashier because he was early.\nQuestion: Who?\nAnswer:\nthe pilot",
    "Review: The food was great.\nQuestion: Is this review positive or negative?\nAnswer:\npositive",
    "Write a short story about a chef.\nStory:\nMaria was a chef. She cooked every day.",
    "Salary:\n$52,000 per year. Decision:\nA Stance:\nagree disagree yes no",
]


def build_tiny_lm(texts: Sequence[str] = DEFAULT_TEXTS, *, vocab_size: int = 400, seed: int = 0,
                  n_layer: int = 2, n_embd: int = 32, arch: str = "gpt2") -> tuple[Any, Any]:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(texts), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS, eos_token=EOS,
                                        pad_token=EOS)
    torch.manual_seed(seed)
    if arch == "gpt2":
        config = GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=256, n_embd=n_embd,
                            n_layer=n_layer, n_head=2, bos_token_id=0, eos_token_id=0)
        model = GPT2LMHeadModel(config)
    else:
        config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=n_embd,
                             intermediate_size=2 * n_embd, num_hidden_layers=n_layer,
                             num_attention_heads=2, num_key_value_heads=2,
                             max_position_embeddings=256, bos_token_id=0, eos_token_id=0)
        model = LlamaForCausalLM(config)
    model.eval()
    return model, tokenizer


def save_tiny_lm(model: Any, tokenizer: Any, folder: Path) -> Path:
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_tiny_llama(folder: Path, *, seed: int = 0) -> Path:
    """A tiny random Llama (float32, std-0.02 init) with a BPE tokenizer trained on the toy mix,
    saved as a Hugging Face folder: the hf: model the bf16 and LoRA-merge tests fine-tune."""
    import torch
    from toy_mix import toy_mix
    from transformers import LlamaConfig, LlamaForCausalLM

    from biasinherit.models.tiny import train_tiny_tokenizer

    texts = [r.prompt or "" for r in toy_mix(1)] + [r.response for r in toy_mix(1)]
    tok = train_tiny_tokenizer(texts, vocab_size=300)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id)
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
