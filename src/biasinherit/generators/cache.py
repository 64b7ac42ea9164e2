"""A request cache on disk, so an interrupted generation run resumes without paying twice.

Each entry is one small JSON file named by the SHA-256 of the request content (model, messages or
prompt, temperature, token limit, seed) and the server it is sent to: the same model name on
two servers (two vLLM instances, a local server and OpenAI) is two models, so a reply of one is
never reused for the other. OpenAI's own server (the default base URL) adds nothing to the key,
so caches written for it before the server counted stay valid; a cache written for another server
by an earlier version is a miss once (its requests are sent again). Entries are written with :func:`records.atomic_write` (a
temporary file, fsync, rename), so a run killed at any moment leaves either a complete entry or
none: never a truncated or duplicated one. Files are spread over 256 sub-folders by the first
two hex digits of the key so that a large cache stays listable.

The cache stores what the server returned (the reply text and a little metadata), never the
request headers, so an API key can not end up in it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from biasinherit.paths import cache_home
from biasinherit.records import atomic_write

__all__ = ["RequestCache", "default_cache_dir", "request_key", "server_of"]

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    return cache_home() / "requests"


_KEY_FIELDS = ("model", "temperature", "max_tokens", "seed")
_TEXT_FIELDS = ("messages", "prompt")  # a chat request has messages, a completions request a prompt


def server_of(base_url: str | None) -> str | None:
    """The server part of a request key: None for OpenAI's default server (whose keys predate
    the server's counting), else the base URL with its scheme and host lower-cased and no
    trailing slash, so spellings of one URL share a cache."""
    from urllib.parse import urlsplit, urlunsplit

    from biasinherit.clients.openai import DEFAULT_BASE_URL

    def normal(url: str) -> str:
        parts = urlsplit(url.strip().rstrip("/"))
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, ""))

    if base_url is None or normal(base_url) == normal(DEFAULT_BASE_URL):
        return None
    return normal(base_url)


def request_key(content: Mapping[str, Any], *, server: str | None = None) -> str:
    """SHA-256 (hex) of the request content that determines the reply, and of its server.

    Only the fields in ``_KEY_FIELDS`` and the request's text (``messages`` for a chat request,
    ``prompt`` for a completions request) count, serialised canonically (sorted keys, no spaces),
    so the same request always maps to the same key whatever order its dict was built in.
    ``server`` is the base URL the request goes to (:func:`server_of`): another server is another
    key. A chat request to OpenAI's server has the key it had before completions requests were
    cached and before the server counted, so old caches stay valid.
    """
    texts = [k for k in _TEXT_FIELDS if k in content]
    missing = [k for k in _KEY_FIELDS if k not in content] + ([] if texts else [" or ".join(_TEXT_FIELDS)])
    if missing:
        raise ValueError(f"request content lacks {', '.join(missing)}")
    if len(texts) > 1:
        raise ValueError("request content has both messages and prompt")
    fields = (*_KEY_FIELDS, texts[0])
    keyed = {k: content[k] for k in fields}
    where = server_of(server)
    if where is not None:
        keyed["server"] = where
    canonical = json.dumps(keyed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RequestCache:
    """One JSON file per request key under ``root``."""

    def __init__(self, root: str | Path | None = None) -> None:
        base = Path(root) if root is not None else default_cache_dir()
        self.root = base.expanduser()

    def path_of(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored entry, or None when absent or unreadable (then it is simply redone)."""
        path = self.path_of(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            # atomic writes make this unlikely; treat a damaged entry as a miss, never a crash
            log.warning("ignoring unreadable cache entry %s (%s)", path, exc)
            return None
        return data if isinstance(data, dict) else None

    def put(self, key: str, entry: Mapping[str, Any]) -> None:
        with atomic_write(self.path_of(key)) as fh:
            json.dump(dict(entry), fh, ensure_ascii=False, sort_keys=True)
            fh.write("\n")

    def __contains__(self, key: str) -> bool:
        return self.path_of(key).is_file()

    def keys(self) -> Iterator[str]:
        """Keys of every complete entry (temporary files of an interrupted write are skipped)."""
        if not self.root.is_dir():
            return
        for sub in sorted(self.root.iterdir()):
            if not sub.is_dir():
                continue
            for name in sorted(os.listdir(sub)):
                if name.endswith(".json") and not name.startswith("."):
                    yield name[: -len(".json")]

    def __len__(self) -> int:
        return sum(1 for _ in self.keys())
