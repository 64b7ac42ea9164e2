"""GGUF file -> plain Hugging Face model folder, checked against the GGUF-loaded model.

transformers dequantizes a GGUF file when loading it with ``gguf_file=`` (the ``gguf`` package
must be installed) but refuses ``save_pretrained`` on the result. A model built from the loaded
config (minus its GGUF quantization entry) with the weights copied in saves as an ordinary
float32 folder that loads without ``gguf``. The folder is then loaded back and its logits on a
fixed English passage compared with the GGUF-loaded model's, and its perplexity recorded.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError

__all__ = ["CHECK_PASSAGE", "ConversionCheck", "convert_gguf", "passage_perplexity"]

log = logging.getLogger(__name__)

# Plain English written for this check: perplexity on it tells a trained model (~10-30) from
# a broken conversion (thousands).
CHECK_PASSAGE = (
    "Water boils at one hundred degrees Celsius at sea level. When it is heated, its molecules move "
    "faster and faster until they escape into the air as steam. At higher altitudes the air pressure "
    "is lower, so water boils at a lower temperature."
)
# float32 weights copied one to one run the same kernels: any difference is a bug
MAX_LOGIT_DIFF = 1e-4


@dataclass(frozen=True)
class ConversionCheck:
    max_logit_diff: float
    perplexity: float
    n_tokens: int
    model_type: str
    n_parameters: int
    chat_template: bool


def _passage_ids(tokenizer: Any) -> Any:
    import torch

    ids = tokenizer(CHECK_PASSAGE, add_special_tokens=False, return_tensors="pt").input_ids
    if tokenizer.bos_token_id is not None:
        ids = torch.cat([torch.tensor([[tokenizer.bos_token_id]]), ids], dim=1)
    return ids  # 1 x T


def passage_perplexity(model: Any, tokenizer: Any) -> tuple[float, Any]:
    """Perplexity of ``CHECK_PASSAGE`` (after a BOS token where the tokenizer has one) and the
    logits (1 x T x V)."""
    import torch

    ids = _passage_ids(tokenizer)
    with torch.no_grad():
        out = model(ids, labels=ids)
    return math.exp(float(out.loss)), out.logits


def convert_gguf(gguf_path: Path, out_dir: Path) -> ConversionCheck:
    """Write a float32 Hugging Face folder for ``gguf_path`` into ``out_dir`` (which must exist
    and be empty) and check it against the GGUF-loaded model."""
    try:
        import gguf  # noqa: F401  (transformers needs it to read the file)
    except ImportError:
        raise BiasInheritError(
            "converting a GGUF file needs the 'gguf' package: pip install 'gguf>=0.19,<0.20'"
        ) from None
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    log.info("loading %s through transformers' GGUF reader", gguf_path)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    gguf_model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    gguf_model.eval()

    config = copy.deepcopy(gguf_model.config)
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")  # the folder holds plain float32 weights
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(gguf_model.state_dict(), strict=True)
    plain.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    del plain

    log.info("checking the folder against the GGUF-loaded model")
    reloaded = AutoModelForCausalLM.from_pretrained(out_dir, dtype=torch.float32)
    reloaded.eval()
    reloaded_tok = AutoTokenizer.from_pretrained(out_dir)
    if getattr(reloaded.config, "quantization_config", None) is not None:
        raise RuntimeError(f"{out_dir}: the converted config still names a quantization")
    if (tokenizer.chat_template or None) != (reloaded_tok.chat_template or None):
        raise RuntimeError(f"{out_dir}: the chat template was not kept")
    if reloaded_tok(CHECK_PASSAGE).input_ids != tokenizer(CHECK_PASSAGE).input_ids:
        raise RuntimeError(f"{out_dir}: the saved tokenizer splits text differently")
    _, gguf_logits = passage_perplexity(gguf_model, tokenizer)
    perplexity, logits = passage_perplexity(reloaded, reloaded_tok)
    diff = float((gguf_logits - logits).abs().max())
    if not diff <= MAX_LOGIT_DIFF:
        raise RuntimeError(f"{out_dir}: logits differ from the GGUF-loaded model by {diff:.3g}")
    return ConversionCheck(
        max_logit_diff=diff,
        perplexity=perplexity,
        n_tokens=int(gguf_logits.shape[1]),
        model_type=str(reloaded.config.model_type),
        n_parameters=sum(p.numel() for p in reloaded.parameters()),
        chat_template=bool(reloaded_tok.chat_template),
    )
