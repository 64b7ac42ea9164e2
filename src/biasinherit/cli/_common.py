"""Small helpers shared by the command modules."""

from __future__ import annotations

import json
from pathlib import Path

from biasinherit.errors import BiasInheritError


def parse_mapping(pairs: list[str] | None, flag: str) -> dict[str, str]:
    """``["response=text", ...]`` -> ``{"response": "text"}``."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise BiasInheritError(f"expected KEY=VALUE, got '{pair}'", field=flag)
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True)


def write_json(path: Path, data: object) -> None:
    from biasinherit.records import atomic_write

    with atomic_write(path) as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
