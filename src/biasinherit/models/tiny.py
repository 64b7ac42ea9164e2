"""The ``tiny`` backend: a BPE tokenizer trained on the run's data and a small GPT-2 from config.

Nothing is downloaded: the tokenizer is trained with ``tokenizers`` on the training texts (the
special tokens the mitigations need are reserved up front, so no embedding resize is needed
later) and the model is a ``GPT2LMHeadModel`` built from a config and trained from scratch.
It is a small-scale replica of fine-tuning: it learns what its data says, including its bias.

Presets (parameter counts with the default vocabulary of 2,048 tokens, tied embeddings):

=========  =======  ========  ========  ==========
preset     d_model  layers    heads     parameters
=========  =======  ========  ========  ==========
tiny-xs    64       2         2         ~0.25M
tiny-s     96       2         4         ~0.45M   (the default, ``tiny``)
tiny-m     128      4         4         ~1.1M
tiny-l     256      4         8         ~3.7M
=========  =======  ========  ========  ==========

``tiny`` is ``tiny-s``. With the training defaults for tiny models (4 epochs, batch 8, learning
rate 3e-3, one CPU thread) a run on 2,000 built-in records (~68k tokens) trains in about 10-15 s
on this project's 2-core machine and learns the corpus's occupation-pronoun associations (see
``tests/training/test_inheritance.py``); the vocabulary trained on that corpus has ~1,800 tokens, so
the model has ~0.42M parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from biasinherit.errors import unknown_name_error

__all__ = [
    "BOS_TOKEN",
    "DEFAULT_TINY",
    "EOS_TOKEN",
    "PAD_TOKEN",
    "TINY_PRESETS",
    "TINY_ACTIVATION",
    "TinyPreset",
    "build_tiny_model",
    "tiny_preset",
    "train_tiny_tokenizer",
]

BOS_TOKEN = "<|bos|>"
EOS_TOKEN = "<|endoftext|>"
PAD_TOKEN = "<|pad|>"


@dataclass(frozen=True)
class TinyPreset:
    """Shape of a tiny GPT-2."""

    name: str
    d_model: int
    n_layer: int
    n_head: int
    max_positions: int = 256
    vocab_size: int = 2048


TINY_PRESETS: dict[str, TinyPreset] = {
    p.name: p
    for p in (
        TinyPreset("tiny-xs", d_model=64, n_layer=2, n_head=2),
        TinyPreset("tiny-s", d_model=96, n_layer=2, n_head=4),
        TinyPreset("tiny-m", d_model=128, n_layer=4, n_head=4),
        TinyPreset("tiny-l", d_model=256, n_layer=4, n_head=8),
    )
}
DEFAULT_TINY = "tiny-s"
TINY_ACTIVATION = "gelu_pytorch_tanh"


def tiny_preset(name: str) -> TinyPreset:
    """The preset named ``tiny`` (the default) or ``tiny-xs`` ... ``tiny-l``."""
    key = DEFAULT_TINY if name == "tiny" else name
    if key not in TINY_PRESETS:
        raise unknown_name_error("tiny model preset", name, ["tiny", *TINY_PRESETS])
    return TINY_PRESETS[key]


def train_tiny_tokenizer(
    texts: Iterable[str], *, vocab_size: int = 2048, extra_special_tokens: Iterable[str] = ()
) -> Any:
    """A byte-level BPE tokenizer trained on ``texts``, as a transformers fast tokenizer.

    BOS, EOS and PAD are always reserved; ``extra_special_tokens`` (the mitigation tags and the
    mask placeholder) are added as special tokens so each is one id that BPE never splits.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = [EOS_TOKEN, BOS_TOKEN, PAD_TOKEN, *dict.fromkeys(extra_special_tokens)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        additional_special_tokens=specials[3:],
    )
    fast.model_max_length = 1_000_000  # the model's limit is enforced by the data pipeline
    return fast


def build_tiny_model(preset: TinyPreset, tokenizer: Any, *, seed: int) -> Any:
    """A freshly initialised GPT-2 of the preset's shape, sized to ``tokenizer``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=preset.max_positions,
        n_embd=preset.d_model,
        n_layer=preset.n_layer,
        n_head=preset.n_head,
        n_inner=4 * preset.d_model,
        # GPT-2's tanh-approximated GELU as one fused kernel (equal to the default "gelu_new",
        # written as separate tensor ops, within 3e-7): a fifth off every evaluation of a tiny model
        activation_function=TINY_ACTIVATION,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    return GPT2LMHeadModel(config)
