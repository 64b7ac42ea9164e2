"""Where biasinherit keeps its caches: ``$BIASINHERIT_CACHE``, else ``$XDG_CACHE_HOME/biasinherit``,
else ``~/.cache/biasinherit``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    base = os.environ.get("BIASINHERIT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "biasinherit"
    )
    return Path(base)
