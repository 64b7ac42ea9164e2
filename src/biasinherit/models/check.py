"""Check a ``--model`` value before anything heavy is imported or computed.

A folder that is not a model, a missing local path written as ``hf:./x``, a corrupt
``biasinherit_model.json`` or a truncated ``*.safetensors`` file each get one line saying what
is wrong and what a model folder holds, instead of a library's message about tokenizers or repo
ids after seconds of imports. Only files are read here (JSON and safetensors headers), never
weights.

A hub id (``hf:owner/name``) is checked too: where the hub cannot be reached (no network, or
``HF_HUB_OFFLINE``) and the model is not in the local Hugging Face cache, one line says so within
a few seconds (a short connection probe, no retries) instead of the hub client's retries, which
took about 50 s and 22 lines to end in the same error.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from biasinherit.errors import BiasInheritError
from biasinherit.paths import looks_local

__all__ = ["DTYPES", "check_dtype", "check_hub_model", "check_model_folder", "check_model_spec"]

DTYPES = ("auto", "float32", "bfloat16", "float16")
HUB_PROBE_SECONDS = 3.0

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
        else:
            check_hub_model(target, field=field)
        return
    path = Path(spec).expanduser()
    if not path.exists():
        hint = "; a Hugging Face model needs the hf: prefix (hf:owner/name)" if not looks_local(spec) else ""
        raise BiasInheritError(f"model folder not found{hint}", path=spec, field=field)
    check_model_folder(path, field=field)


def check_dtype(dtype: str, model: str = "hf:", *, field: str = "dtype") -> None:
    """A dtype training can use: one of :data:`DTYPES`, and for the tiny model (trained from
    scratch in float32) only ``auto`` or ``float32`` (``float8`` used to be recorded and ignored)."""
    if dtype not in DTYPES:
        raise BiasInheritError(f"unknown dtype '{dtype}' (use {', '.join(DTYPES)})", field=field)
    if not model.startswith(HF_PREFIX) and not Path(model).expanduser().is_dir() and dtype not in ("auto", "float32"):
        raise BiasInheritError(f"the tiny model trains in float32; dtype '{dtype}' applies to hf: models",
                               field=field)


def _truthy(name: str) -> bool:
    import os

    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _in_hub_cache(repo_id: str) -> bool:
    """Whether the local Hugging Face cache holds a snapshot of ``repo_id`` (its config)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - transformers brings it
        return False
    try:
        found = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # a malformed id: the loader says what is wrong with it
        return False
    return isinstance(found, str)


def _hub_address() -> tuple[str, int]:
    """The host and port a hub download would connect to first (a proxy when one is set)."""
    import os
    from urllib.parse import urlsplit

    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy") or os.environ.get("ALL_PROXY")
    parts = urlsplit(proxy if proxy and "://" in proxy else endpoint)
    return parts.hostname or "huggingface.co", parts.port or (443 if parts.scheme == "https" else 80)


def check_hub_model(repo_id: str, *, field: str = "--model") -> None:
    """A hub id that cannot be fetched here is said in one line, within a few seconds: not in the
    local cache, and offline (``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE``) or the hub unreachable
    (one connection try of :data:`HUB_PROBE_SECONDS`, no retries)."""
    import socket

    if _in_hub_cache(repo_id):
        return
    fix = ("give a local model folder (biasinherit models fetch writes one), or run where the hub can be reached "
           "to download it once into the cache")
    if _truthy("HF_HUB_OFFLINE") or _truthy("TRANSFORMERS_OFFLINE"):
        raise BiasInheritError(f"'{repo_id}' is no folder here; as a hub id, HF_HUB_OFFLINE is set and it is not "
                               f"in the local Hugging Face cache: {fix}", field=field)
    host, port = _hub_address()
    try:
        with socket.create_connection((host, port), timeout=HUB_PROBE_SECONDS):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise BiasInheritError(f"'{repo_id}' is no folder here; as a hub id, the hub cannot be reached ({host}:{port}: "
                               f"{reason}) and it is not in the local Hugging Face cache: {fix}", field=field) from None
