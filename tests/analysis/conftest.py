"""Shared fixtures for the analysis tests: one embedding model per session, cached in a temp dir."""

from __future__ import annotations

import pytest

from biasinherit.analysis.embeddings import EmbeddingModel


@pytest.fixture(scope="session")
def embed_cache(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("embeddings")


@pytest.fixture(scope="session")
def embedder(embed_cache) -> EmbeddingModel:
    return EmbeddingModel(cache_dir=embed_cache)
