"""The ``hf:`` backend: any causal LM that transformers loads, fully or with LoRA.

Device and dtype are picked automatically (bf16 on a GPU that supports it, float32 otherwise);
training every weight keeps them in float32 and autocasts the forward pass (``training_dtypes``).
LoRA target modules are chosen per architecture; GPT-2 style models, whose projections are
``Conv1D`` (weights stored transposed), need ``fan_in_fan_out=True``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from biasinherit.errors import BiasInheritError

__all__ = [
    "HF_PREFIX",
    "LoraTargets",
    "apply_lora",
    "is_hf_spec",
    "load_hf_causal_lm",
    "load_hf_tokenizer",
    "lora_targets",
    "pick_device",
    "pick_dtype",
    "training_dtypes",
]

log = logging.getLogger(__name__)

HF_PREFIX = "hf:"

# model_type -> projection module names LoRA adapts (attention and MLP)
LORA_TARGETS_BY_TYPE: dict[str, list[str]] = {
    "gpt2": ["c_attn", "c_proj", "c_fc"],
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "mistral": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "qwen2": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "qwen3": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "gemma": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "gemma2": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "phi3": ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"],
    "phi": ["q_proj", "k_proj", "v_proj", "dense", "fc1", "fc2"],
    "gpt_neox": ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"],
    "falcon": ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"],
    "opt": ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"],
    "bloom": ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"],
}
# architectures whose linear layers are transformers' Conv1D (weight shape: in x out)
FAN_IN_FAN_OUT_TYPES = {"gpt2"}


def is_hf_spec(spec: str) -> bool:
    return spec.startswith(HF_PREFIX)


def pick_device(requested: str = "auto") -> str:
    """``auto`` -> cuda, then mps, then cpu."""
    import torch

    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(requested: str, device: str) -> Any:
    """``auto`` -> bfloat16 on a GPU that supports it, float32 otherwise."""
    import torch

    names = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if requested != "auto":
        if requested not in names:
            raise BiasInheritError(
                f"unknown dtype '{requested}' (use auto, float32, bfloat16, float16)", field="dtype"
            )
        return names[requested]
    if torch.device(device).type == "cuda" and torch.cuda.is_bf16_supported():  # cuda and cuda:N alike
        return torch.bfloat16
    return torch.float32


def training_dtypes(requested: str, device: str, *, lora: bool) -> tuple[Any, Any | None]:
    """``(dtype to load the weights in, dtype to autocast the forward pass to, or None)``.

    With LoRA the frozen base is loaded in the half dtype (its memory is the point) and PEFT keeps
    the adapter in float32. Training every weight, the weights stay float32 (the optimizer's
    copy) and only the forward pass runs in the half dtype: AdamW's steps on bfloat16 weights
    round to nothing for most of them (a step of 5e-5 is under half of bfloat16's spacing for
    any weight above 2**-6, about 0.016), so a full fine-tune on bfloat16 weights would
    silently train a part of the model. The trainer casts the trained weights to the half dtype
    afterwards.
    """
    import torch

    dtype = pick_dtype(requested, device)
    if lora or dtype == torch.float32:
        return dtype, None
    return torch.float32, dtype


def load_hf_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise BiasInheritError(f"cannot load a tokenizer ({exc})", path=path) from None
    if tok.pad_token_id is None:
        # right-padding with EOS is safe: padded positions get label -100 and no attention
        tok.pad_token = tok.eos_token
    return tok


def load_hf_causal_lm(path: str, *, dtype: Any, device: str) -> Any:
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise BiasInheritError(f"cannot load a causal LM ({exc})", path=path) from None
    return model.to(device)


@dataclass(frozen=True)
class LoraTargets:
    modules: list[str]
    fan_in_fan_out: bool


def lora_targets(model: Any) -> LoraTargets:
    """The modules LoRA should adapt in ``model``, by architecture.

    Unknown architectures fall back to every linear layer except the output head.
    """
    import torch
    from transformers.pytorch_utils import Conv1D

    model_type = getattr(model.config, "model_type", "")
    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    if model_type in LORA_TARGETS_BY_TYPE:
        modules = [m for m in LORA_TARGETS_BY_TYPE[model_type] if m in present]
        if modules:
            return LoraTargets(modules, fan_in_fan_out=model_type in FAN_IN_FAN_OUT_TYPES)
    linear: set[str] = set()
    conv1d = False
    for name, module in model.named_modules():
        leaf = name.rsplit(".", 1)[-1]
        if isinstance(module, torch.nn.Linear) and leaf not in ("lm_head", "embed_out"):
            linear.add(leaf)
        elif isinstance(module, Conv1D):
            linear.add(leaf)
            conv1d = True
    if not linear:
        raise BiasInheritError(
            f"no linear layers found for LoRA in model type '{model_type}'", field="lora"
        )
    log.info("LoRA: no preset for model type %r, adapting %s", model_type, sorted(linear))
    return LoraTargets(sorted(linear), fan_in_fan_out=conv1d)


def apply_lora(
    model: Any,
    *,
    r: int,
    alpha: int,
    dropout: float,
    trainable_token_ids: list[int] | None = None,
) -> Any:
    """Wrap ``model`` in a LoRA ``PeftModel``.

    ``trainable_token_ids`` (the token mitigation's new tags) make just those embedding rows
    trainable, so a tag can be learned without unfreezing the whole embedding matrix.
    """
    from peft import LoraConfig, get_peft_model

    targets = lora_targets(model)
    config = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=targets.modules,
        fan_in_fan_out=targets.fan_in_fan_out,
        task_type="CAUSAL_LM",
        trainable_token_indices=trainable_token_ids or None,
    )
    return get_peft_model(model, config)
