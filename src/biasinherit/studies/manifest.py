"""The run manifest: config and its hash, versions, seeds, stage timings and each cell's state.

Cell results are the source of truth for resumption (a cell is done when its result file exists,
and that file is written by atomic rename); the manifest mirrors their state for people and the
report, and is rewritten atomically after every change.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.records import atomic_write

MANIFEST = "manifest.json"


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("biasinherit", "torch", "transformers", "tokenizers", "peft", "sentence-transformers",
                "fairlearn", "ray", "pandas", "pyarrow", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


class Manifest:
    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    @classmethod
    def open(cls, run_dir: Path, *, config: dict[str, Any], config_hash: str, force: bool) -> Manifest:
        path = run_dir / MANIFEST
        if path.exists():
            try:
                old = json.loads(path.read_bytes())
                if not isinstance(old, dict):
                    raise ValueError("not a JSON object")
            except ValueError:  # JSON and UTF-8 errors
                if not force:
                    raise BiasInheritError(
                        "manifest.json is damaged (not a JSON object), so which config made these results is "
                        "unknown; use --force to discard them, or another --out", path=run_dir) from None
                old = None
            if old is not None and old.get("config_hash") != config_hash and not force:
                raise BiasInheritError(
                    f"this folder holds a study with another config (hash {old.get('config_hash')}, "
                    f"now {config_hash}); use another --out, or --force to discard its results",
                    path=run_dir,
                )
            if old is not None and old.get("config_hash") == config_hash:
                old["config"] = config
                old.setdefault("runs", [])
                return cls(path, old)
        data = {
            "config": config,
            "config_hash": config_hash,
            "versions": package_versions(),
            "seeds": config.get("seeds"),
            "created": time.time(),
            "runs": [],
            "stages": {},
            "cells": {},
        }
        return cls(path, data)

    def save(self) -> None:
        with atomic_write(self.path) as fh:
            json.dump(self.data, fh, indent=2, sort_keys=True)
            fh.write("\n")

    def set_cell(self, key: str, **state: Any) -> None:
        self.data["cells"].setdefault(key, {}).update(state)
        self.save()

    def add_stage_time(self, stage: str, seconds: float) -> None:
        stages = self.data["stages"]
        stages[stage] = round(stages.get(stage, 0.0) + seconds, 3)
        self.save()

    def start_run(self) -> None:
        self.data["runs"].append({"started": time.time()})
        self.save()

    def finish(self) -> None:
        self.data["runs"][-1]["finished"] = time.time()
        self.save()
