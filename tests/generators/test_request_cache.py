"""The on-disk request cache (the retry timing helpers moved with retry.py: tests/clients/test_retry.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biasinherit.generators.cache import RequestCache, request_key

CONTENT = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.7,
           "max_tokens": 16, "seed": 1}


def test_request_key_depends_on_content_only() -> None:
    reordered = dict(reversed(list(CONTENT.items())))
    assert request_key(reordered) == request_key(CONTENT)
    assert request_key({**CONTENT, "stream": False}) == request_key(CONTENT)  # not a key field
    for field, value in (("model", "n"), ("seed", 2), ("temperature", 0.0), ("max_tokens", 17),
                         ("messages", [{"role": "user", "content": "hi!"}])):
        assert request_key({**CONTENT, field: value}) != request_key(CONTENT)
    with pytest.raises(ValueError, match="seed"):
        request_key({k: v for k, v in CONTENT.items() if k != "seed"})


def test_cache_round_trip_and_counts_only_complete_entries(tmp_path: Path) -> None:
    cache = RequestCache(tmp_path)
    key = request_key(CONTENT)
    assert cache.get(key) is None and key not in cache and len(cache) == 0
    cache.put(key, {"content": "reply"})
    assert cache.get(key) == {"content": "reply"} and key in cache
    # a temporary file left by a killed write and a damaged entry are not complete entries
    (cache.path_of(key).parent / f".{key}.json.abc.tmp").write_text('{"content": "re')
    other = request_key({**CONTENT, "seed": 2})
    cache.path_of(other).parent.mkdir(parents=True, exist_ok=True)
    cache.path_of(other).write_text('{"content": "trunc')
    assert cache.get(other) is None  # read as a miss, so it is simply asked again
    assert sorted(cache.keys()) == sorted([key, other])
    cache.put(other, {"content": "fixed"})
    assert json.loads(cache.path_of(other).read_text()) == {"content": "fixed"}


def test_default_cache_dir_is_under_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("BIASINHERIT_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert RequestCache().root == tmp_path / ".cache" / "biasinherit" / "requests"
    monkeypatch.setenv("BIASINHERIT_CACHE", str(tmp_path / "elsewhere"))
    assert RequestCache().root == tmp_path / "elsewhere" / "requests"


def test_completions_requests_have_keys_and_chat_keys_are_unchanged() -> None:
    # chat_template="off" sends a prompt to /completions; its key used to fail ("lacks messages")
    completion = {**{k: v for k, v in CONTENT.items() if k != "messages"}, "prompt": "hi"}
    assert request_key(completion) != request_key(CONTENT)
    assert request_key({**completion, "prompt": "hi!"}) != request_key(completion)
    assert request_key({**completion, "stop": ["\n"]}) == request_key(completion)  # not a key field
    # a chat request's key is the one the cache always gave it, so existing caches stay valid
    assert request_key(CONTENT) == "2b7c3903966f32abbf345afd20371fd1d3558746b35a751c058e249e297e3e30"
    with pytest.raises(ValueError, match="messages or prompt"):
        request_key({k: v for k, v in CONTENT.items() if k != "messages"})
    with pytest.raises(ValueError, match="both messages and prompt"):
        request_key({**CONTENT, "prompt": "hi"})
