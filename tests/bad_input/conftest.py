"""Fixtures of the bad-input suite (the helpers they use are in bad_input_support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_input_support import Workspace, build_library


@pytest.fixture(scope="session")
def bad_library(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Name -> path of every input the cases use (each case works on copies)."""
    return build_library(tmp_path_factory.mktemp("bad-library"))


@pytest.fixture()
def workspace(tmp_path: Path, bad_library: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    monkeypatch.chdir(root)  # default outputs (corpus.jsonl, eval/, runs/quick) land here
    return Workspace(root, bad_library)


