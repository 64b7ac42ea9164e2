"""The on-disk request cache and the retry timing helpers."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from biasinherit.generators.cache import RequestCache, request_key
from biasinherit.generators.retry import backoff_delay, parse_retry_after

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


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    rng = random.Random(0)
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (6, 10.0), (20, 10.0)):
        delays = [backoff_delay(attempt, base=0.5, cap=10.0, rng=rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > 0.8 * ceiling and min(delays) < 0.2 * ceiling  # spread, not fixed
    with pytest.raises(ValueError):
        backoff_delay(0, base=1, cap=1, rng=rng)


def test_retry_after_seconds_and_http_dates() -> None:
    now = 1_700_000_000.0  # 2023-11-14 22:13:20 GMT
    assert parse_retry_after("3", now=now) == 3.0
    assert parse_retry_after(" 1.5 ", now=now) == 1.5
    assert parse_retry_after("-4", now=now) == 0.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now=now) == pytest.approx(10.0)
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now=now) == 0.0  # in the past
    for unreadable in (None, "", "soon", "nan"):
        assert parse_retry_after(unreadable, now=now) is None
