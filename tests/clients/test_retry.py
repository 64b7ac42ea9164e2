"""The retry timing helpers: full-jitter backoff and ``Retry-After`` (seconds or an HTTP date)."""

from __future__ import annotations

import random

import pytest

from biasinherit.clients.retry import backoff_delay, parse_retry_after


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
