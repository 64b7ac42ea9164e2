"""Check a ``--model`` value before anything heavy is imported or computed.

A folder that is not a model, a missing local path written as ``hf:./x``, a corrupt
``biasinherit_model.json`` or a truncated ``*.safetensors`` file each get one line saying what
is wrong and what a model folder holds, instead of a library's message about tokenizers or repo
ids after seconds of imports. Only files are read here (JSON and safetensors headers), never
weights.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from biasinherit.errors import BiasInheritError
from biasinherit.paths import looks_local

__all__ = ["check_model_spec", "check_model_folder"]

HF_PREFIX = "hf:"
METADATA_FILE = "biasinherit_model.json"  # the same name as models.io.METADATA_FILE (a light import here)
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "tokenizer.model", "spiece.model")
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_MODEL_FOLDER = "a model folder holds config.json, weights and tokenizer files (as written by " \
                "'biasinherit train' or save_pretrained)"


def _json_file(path: Path, field: str) -> dict:  # type: ignore[type-arg]
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = getattr(exc, "msg", None) or "not UTF-8 JSON"
        raise BiasInheritError(f"{path.name} is not valid JSON ({reason}); the folder is damaged",
                               path=path, field=field) from None
    if not isinstance(data, dict):
        raise BiasInheritError(f"{path.name} is not a JSON object; the folder is damaged", path=path, field=field)
    return data


def _check_safetensors(path: Path, field: str) -> None:
    """The header's length, JSON and tensor offsets must fit in the file (a truncated copy or
    download does not)."""
    size = path.stat().st_size
    damaged = f"{path.name} is truncated or damaged ({size:,} bytes)"
    if size < 8:
        raise BiasInheritError(damaged, path=path, field=field)
    with open(path, "rb") as fh:
        (header_len,) = struct.unpack("<Q", fh.read(8))
        if header_len > min(size - 8, 100_000_000):
            raise BiasInheritError(damaged, path=path, field=field)
        try:
            header = json.loads(fh.read(header_len).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise BiasInheritError(damaged, path=path, field=field) from None
    if not isinstance(header, dict):
        raise BiasInheritError(damaged, path=path, field=field)
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise BiasInheritError(damaged, path=path, field=field)
        end = max(end, offsets[1])
    if 8 + header_len + end > size:
        raise BiasInheritError(f"{path.name} is truncated: {size:,} bytes, its header needs "
                               f"{8 + header_len + end:,}", path=path, field=field)


def check_model_folder(folder: str | Path, *, field: str = "--model") -> None:
    """A local model folder: a trained biasinherit model, a LoRA adapter, or a plain HF model."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BiasInheritError("not a folder; " + _MODEL_FOLDER, path=folder, field=field)
    meta_file = folder / METADATA_FILE
    if meta_file.exists():
        data = _json_file(meta_file, field)
        from pydantic import ValidationError

        from biasinherit.models.io import ModelMetadata

        try:
            ModelMetadata.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            raise BiasInheritError(f"{METADATA_FILE}: '{key}': {err['msg']}; the folder is damaged",
                                   path=folder, field=field) from None
    adapter = folder / "adapter_config.json"
    if adapter.exists():
        _json_file(adapter, field)
    else:
        config = folder / "config.json"
        if not config.exists():
            raise BiasInheritError("no config.json: not a model folder; " + _MODEL_FOLDER, path=folder, field=field)
        if "model_type" not in _json_file(config, field):
            raise BiasInheritError("config.json has no 'model_type': not a transformers model config",
                                   path=config, field=field)
    weights = sorted(p for p in folder.iterdir() if p.suffix in _WEIGHT_SUFFIXES and p.is_file())
    if not weights and not (folder / "model.safetensors.index.json").exists():
        raise BiasInheritError("no weights (*.safetensors, *.bin): " + _MODEL_FOLDER, path=folder, field=field)
    for w in weights:
        if w.suffix == ".safetensors":
            _check_safetensors(w, field)
        elif w.stat().st_size == 0:
            raise BiasInheritError(f"{w.name} is empty", path=w, field=field)
    if not any((folder / name).exists() for name in _TOKENIZER_FILES):
        raise BiasInheritError("no tokenizer files (tokenizer.json, tokenizer_config.json, ...): " + _MODEL_FOLDER,
                               path=folder, field=field)


def check_model_spec(spec: str, *, field: str = "--model", allow_openai: bool = True) -> None:
    """``DIR``, ``hf:<folder or hub id>`` or (when allowed) ``openai:<model>``."""
    if allow_openai and spec.startswith("openai:"):
        if not spec[len("openai:"):].strip():
            raise BiasInheritError("openai: needs a model name, e.g. openai:gpt-4o-mini", field=field)
        return
    if spec.startswith(HF_PREFIX):
        target = spec[len(HF_PREFIX):].strip()
        if not target:
            raise BiasInheritError("hf: needs a folder or hub id, e.g. hf:./my-model", field=field)
        path = Path(target).expanduser()
        if path.exists():
            check_model_folder(path, field=field)
        elif looks_local(target):
            raise BiasInheritError("model folder not found (a local path; hub ids look like owner/name)",
                                   path=target, field=field)
        return  # a hub id: loading says whether it can be reached
    path = Path(spec).expanduser()
    if not path.exists():
        hint = "; a Hugging Face model needs the hf: prefix (hf:owner/name)" if not looks_local(spec) else ""
        raise BiasInheritError(f"model folder not found{hint}", path=spec, field=field)
    check_model_folder(path, field=field)
