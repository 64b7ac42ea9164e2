"""``TrainConfig``: every training option, with its help text, validated when built.

The CLI takes its help texts from these fields, so the two never drift apart.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from biasinherit.errors import BiasInheritError, unknown_name_error

__all__ = ["MITIGATIONS", "TrainConfig", "parse_mitigations"]

MITIGATIONS = ("token", "mask", "loss")


def parse_mitigations(values: list[str] | str | None) -> list[str]:
    """``["token,mask"]``, ``["none"]`` or ``"loss"`` -> a sorted list of known mitigations."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    names = [part.strip() for item in items for part in item.split(",") if part.strip()]
    out: set[str] = set()
    for name in names:
        if name == "none":
            continue
        if name not in MITIGATIONS:
            raise unknown_name_error("mitigation", name, ["none", *MITIGATIONS])
        out.add(name)
    if "none" in names and out:
        raise BiasInheritError("'none' cannot be combined with other mitigations", field="mitigation")
    return sorted(out)


def _non_negative(name: str, value: float) -> float:
    if value != value or value < 0:  # NaN fails too
        raise BiasInheritError(f"{name} must be >= 0, got {value}", field=name)
    return value


class TrainConfig(BaseModel):
    """How to fine-tune a model on a mix (DESIGN §7)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    model: str = Field(default="tiny", description="tiny, tiny-xs/-s/-m/-l, a model folder, or hf:<path or hub id>")
    mitigations: list[str] = Field(default_factory=list, description="token, mask, loss (combinable); empty for none")
    seed: int = Field(default=0, description="random seed (weights, data order)")
    epochs: int | None = Field(
        default=None, description="passes over the data (default: 4 for tiny models, which learn from scratch; 3 for hf)"
    )
    batch_size: int = Field(default=8, description="records per batch")
    learning_rate: float | None = Field(
        default=None, description="peak learning rate (default: 3e-3 tiny, 2e-4 LoRA, 5e-5 full fine-tuning)"
    )
    warmup_ratio: float = Field(default=0.05, description="share of steps with linear warm-up")
    lr_schedule: Literal["linear", "constant"] = Field(
        default="linear", description="after warm-up: linear decay to 0, or constant"
    )
    weight_decay: float = Field(default=0.01, description="AdamW weight decay")
    max_grad_norm: float = Field(default=1.0, description="gradient clipping norm (0: off)")
    max_length: int | None = Field(
        default=None,
        description="tokens per sequence; longer ones are truncated (default: the longest record, "
        "at most the model's limit and 1024)",
    )
    grad_accum_steps: int = Field(default=1, description="batches accumulated per optimizer step")
    batching: Literal["length", "position"] = Field(
        default="length",
        description="length: batches of records of similar length (little padding); position: batches "
        "by position in the mix alone, so two paired mixes of one seed (the same items, some replaced "
        "by their augmentations) are trained in the same batches and order",
    )
    gradient_checkpointing: bool = Field(default=False, description="trade compute for memory (hf)")
    lora: bool = Field(default=False, description="train a LoRA adapter instead of all weights (hf)")
    lora_r: int = Field(default=8, description="LoRA rank")
    lora_alpha: int = Field(default=16, description="LoRA scaling alpha")
    lora_dropout: float = Field(default=0.0, description="LoRA dropout")
    dtype: str = Field(default="auto", description="auto (bf16 on GPU), float32, bfloat16, float16")
    device: str = Field(default="auto", description="auto, cpu, cuda, cuda:N, mps")
    num_threads: int | None = Field(
        default=None,
        description="CPU threads for torch (default: 1 for tiny models, whose small matrices run "
        "fastest on one thread and do not slow down when other processes share the cores; "
        "torch's default for hf models)",
    )
    vocab_size: int = Field(default=2048, description="BPE vocabulary size of the tiny tokenizer")
    tag_original: bool = Field(
        default=False, description="token mitigation: also tag original records (<|orig|>); evaluation then uses that tag"
    )
    mask_replace_input: bool = Field(
        default=False, description="mask mitigation: also replace masked spans in the input by <|mask|>"
    )
    mask_source: Literal["lexicon", "annotations"] = Field(
        default="lexicon",
        description="mask mitigation: spans from the taxonomy lexicon (what a user with real data has), or the "
        "records' annotated spans (the builtin injector's ground truth: an oracle)",
    )
    lambda_aug: float = Field(default=0.5, description="loss mitigation: weight of the augmented records' loss")
    mu_cf: float = Field(default=1.0, description="loss mitigation: weight of the counterfactual divergence")
    cf_attribute: str = Field(default="gender", description="loss mitigation: attribute the counterfactual swaps")

    @field_validator("mitigations", mode="before")
    @classmethod
    def _known_mitigations(cls, value: Any) -> list[str]:
        return parse_mitigations(value)

    @field_validator("lambda_aug", "mu_cf", "lora_dropout", "weight_decay", "max_grad_norm", "warmup_ratio")
    @classmethod
    def _check_non_negative(cls, value: float, info: Any) -> float:
        return _non_negative(info.field_name, value)

    @field_validator("epochs")
    @classmethod
    def _check_epochs(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise BiasInheritError(f"epochs must be >= 1, got {value}", field="epochs")
        return value

    @field_validator("batch_size", "grad_accum_steps", "lora_r", "lora_alpha", "vocab_size")
    @classmethod
    def _check_positive(cls, value: int, info: Any) -> int:
        if value < 1:
            raise BiasInheritError(f"{info.field_name} must be >= 1, got {value}", field=info.field_name)
        return value

    @field_validator("num_threads")
    @classmethod
    def _check_threads(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise BiasInheritError(f"num_threads must be >= 1, got {value}", field="num_threads")
        return value

    @field_validator("max_length")
    @classmethod
    def _check_length(cls, value: int | None) -> int | None:
        if value is not None and value < 8:
            raise BiasInheritError(f"max_length must be >= 8, got {value}", field="max_length")
        return value

    @field_validator("learning_rate")
    @classmethod
    def _check_lr(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise BiasInheritError(f"learning_rate must be > 0, got {value}", field="learning_rate")
        return value

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        from biasinherit.models.hf import HF_PREFIX
        from biasinherit.models.tiny import TINY_PRESETS, tiny_preset

        if value.startswith(HF_PREFIX):
            if not value[len(HF_PREFIX):]:
                raise BiasInheritError("hf: needs a path or hub id, e.g. hf:./my-model", field="model")
            return value
        if value.startswith("openai:"):
            raise BiasInheritError("an openai: endpoint cannot be fine-tuned here; train a local model "
                                   "(a tiny preset, a folder or hf:ID)", field="model")
        from pathlib import Path

        if value in ("tiny", *TINY_PRESETS):
            return value
        if Path(value).expanduser().is_dir():  # a model folder is named the same way everywhere
            return HF_PREFIX + value
        from biasinherit.paths import looks_local

        if looks_local(value):
            raise BiasInheritError("model folder not found", path=value, field="model")
        try:
            tiny_preset(value)  # raises with did-you-mean among the presets
        except BiasInheritError as exc:
            raise BiasInheritError(f"{exc.message}; a model folder must exist, and a hub model needs the "
                                   "hf: prefix (hf:owner/name)", field="model") from None
        return value

    @model_validator(mode="after")
    def _check_combination(self) -> TrainConfig:
        if self.lora and not self.is_hf:
            raise BiasInheritError("--lora applies to hf: models; the tiny model trains all weights", field="lora")
        return self

    @property
    def is_hf(self) -> bool:
        return self.model.startswith("hf:")

    def effective_epochs(self) -> int:
        if self.epochs is not None:
            return self.epochs
        return 3 if self.is_hf else 4

    def effective_num_threads(self) -> int | None:
        if self.num_threads is not None:
            return self.num_threads
        return None if self.is_hf else 1

    def effective_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        if not self.is_hf:
            return 3e-3
        return 2e-4 if self.lora else 5e-5
