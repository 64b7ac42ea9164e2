"""Where biasinherit keeps its caches (``$BIASINHERIT_CACHE``, else ``$XDG_CACHE_HOME/biasinherit``,
else ``~/.cache/biasinherit``), and telling a local path from a hub id."""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    base = os.environ.get("BIASINHERIT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "biasinherit"
    )
    return Path(base)


# suffixes of the files a benchmark, a dataset or a records file is read from
_FILE_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".parquet", ".pq", ".txt", ".gz", ".zip", ".arrow",
                  ".safetensors", ".bin", ".gguf", ".toml", ".yaml", ".yml")


def looks_local(name: str) -> bool:
    """True when ``name`` is meant as a local path, not a hub id (``owner/name``): it starts with
    ``.``, ``/`` or ``~``, holds a backslash or more than one ``/``, or ends with a file suffix.
    Such a name that does not exist is a missing file, said at once, never a hub request."""
    if not name:
        return False
    if name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1 or name.endswith("/"):
        return True
    return name.lower().endswith(_FILE_SUFFIXES)

