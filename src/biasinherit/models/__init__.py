"""Model backends (``tiny``, ``hf:``), saving and loading, and log-likelihood scoring.

``load_model(spec_or_dir)`` is what evaluation uses: it returns the model, its tokenizer and its
metadata, and the metadata says how text must be framed (``eval_prefix``, ``add_bos``), so
evaluation asks the model instead of guessing which prefix the token mitigation trained with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.models.io import METADATA_FILE, ModelMetadata, read_metadata, save_model
from biasinherit.models.scoring import CausalLMScorer, LoglikelihoodResult  # evaluation engine

__all__ = ["CausalLMScorer", "LoglikelihoodResult", "LoadedModel", "METADATA_FILE", "ModelMetadata", "load_model", "save_model"]


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    metadata: ModelMetadata

    @property
    def eval_prefix(self) -> str:
        """The text evaluation must put before every context (the token mitigation's tag)."""
        return self.metadata.eval_prefix

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device


def load_model(spec_or_dir: str | Path, *, device: str = "auto", dtype: str = "auto") -> LoadedModel:
    """A trained model folder (full or LoRA adapter), or ``hf:<path or hub id>`` as is.

    The model is returned in eval mode on the chosen device.
    """
    from biasinherit.models.hf import (
        HF_PREFIX,
        load_hf_causal_lm,
        load_hf_tokenizer,
        pick_device,
        pick_dtype,
    )

    spec = str(spec_or_dir)
    dev = pick_device(device)
    torch_dtype = pick_dtype(dtype, dev)
    if spec.startswith(HF_PREFIX):
        path = spec[len(HF_PREFIX):]
    else:
        path = spec
        if not Path(path).is_dir():
            raise BiasInheritError(
                "not a model folder (pass a folder written by 'biasinherit train', or hf:<id>)",
                path=path,
            )
    tokenizer = load_hf_tokenizer(path)
    meta = read_metadata(path) if Path(path).is_dir() else None
    if meta is None:  # a plain Hugging Face model: frame text as its tokenizer would
        meta = ModelMetadata(backend="hf", base_model=path, add_bos=tokenizer.bos_token_id is not None)
    if meta.adapter:
        model = _load_adapter(path, tokenizer, dtype=torch_dtype, device=dev)
    else:
        model = load_hf_causal_lm(path, dtype=torch_dtype, device=dev)
    model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, metadata=meta)


def _load_adapter(path: str, tokenizer: Any, *, dtype: Any, device: str) -> Any:
    from peft import PeftModel

    config_file = Path(path) / "adapter_config.json"
    if not config_file.exists():
        raise BiasInheritError("adapter folder without adapter_config.json", path=path)
    base_path = json.loads(config_file.read_text(encoding="utf-8")).get("base_model_name_or_path")
    if not base_path:
        raise BiasInheritError("adapter_config.json does not name its base model", path=config_file)
    from biasinherit.models.hf import load_hf_causal_lm

    base = load_hf_causal_lm(base_path, dtype=dtype, device=device)
    if base.get_input_embeddings().weight.shape[0] != len(tokenizer):
        base.resize_token_embeddings(len(tokenizer))  # the token mitigation added tags
    return PeftModel.from_pretrained(base, path).to(device)
