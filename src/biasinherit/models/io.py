"""Save and load a trained model folder: weights (full or LoRA adapter), tokenizer, metadata.

The folder is a Hugging Face model folder (``AutoTokenizer`` / ``AutoModelForCausalLM`` load it;
an adapter folder records its base in ``adapter_config.json`` and loads with PEFT) plus
``biasinherit_model.json``: what it is, how it was trained, and how evaluation must frame text
(the token mitigation's prefix, whether a BOS token leads every sequence).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from biasinherit.atomic import replace_folder
from biasinherit.errors import BiasInheritError

__all__ = ["METADATA_FILE", "LOSS_CURVE_FILE", "ModelMetadata", "check_save_target", "read_metadata", "save_model",
           "package_versions"]

METADATA_FILE = "biasinherit_model.json"
LOSS_CURVE_FILE = "loss_curve.json"


class ModelMetadata(BaseModel):
    """Provenance of a trained model and the text framing evaluation must use."""

    model_config = ConfigDict(extra="allow")

    backend: str = Field(description="tiny or hf")
    base_model: str = Field(description="tiny preset name, or the hf path / hub id trained from")
    adapter: bool = Field(default=False, description="the folder holds a LoRA adapter, not full weights")
    mitigations: list[str] = Field(default_factory=list, description="token, mask, loss (empty: none)")
    eval_prefix: str = Field(default="", description="text evaluation puts before every context")
    add_bos: bool = Field(default=True, description="a BOS token leads every training sequence")
    data_hash: str = Field(default="", description="sha256 of the training records")
    n_records: int = Field(default=0, description="training records")
    seed: int = Field(default=0, description="training seed")
    final_loss: float | None = Field(default=None, description="mean loss of the last epoch")
    train_config: dict[str, Any] = Field(default_factory=dict, description="the TrainConfig used")
    versions: dict[str, str] = Field(default_factory=dict, description="package versions")


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out: dict[str, str] = {}
    for pkg in ("biasinherit", "torch", "transformers", "tokenizers", "peft"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def check_save_target(out_dir: str | Path) -> Path:
    """Refuse to replace anything but an empty folder or an earlier model folder (before training)."""
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / METADATA_FILE).exists())):
        raise BiasInheritError(
            "exists and is not a biasinherit model folder; choose an empty or new folder", path=out
        )
    return out


def save_model(
    model: Any,
    tokenizer: Any,
    out_dir: str | Path,
    metadata: ModelMetadata,
    *,
    loss_curve: list[dict[str, float]] | None = None,
) -> Path:
    """Write the model folder atomically: everything goes to a temporary folder beside
    ``out_dir``, which then replaces it, so an interrupted save leaves no half-written model."""
    out = check_save_target(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if metadata.adapter:
            # resized embeddings (new tag tokens) are saved with the adapter when needed
            model.save_pretrained(tmp, save_embedding_layers="auto")
        else:
            model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / METADATA_FILE).write_text(metadata.model_dump_json(indent=2) + "\n", encoding="utf-8")
        if loss_curve is not None:
            (tmp / LOSS_CURVE_FILE).write_text(json.dumps(loss_curve, indent=1) + "\n", encoding="utf-8")
        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_metadata(model_dir: str | Path) -> ModelMetadata | None:
    """The folder's ``biasinherit_model.json``, or None for a plain Hugging Face folder."""
    path = Path(model_dir) / METADATA_FILE
    if not path.exists():
        return None
    try:
        return ModelMetadata.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise BiasInheritError(f"invalid model metadata ({where + ': ' if where else ''}{err['msg']}); "
                               "the folder is damaged", path=path) from None
