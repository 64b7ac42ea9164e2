"""Retry timing for remote requests: exponential backoff with full jitter, and ``Retry-After``.

Both are pure functions of their inputs (the random source is passed in), so they are tested
directly. Full jitter (a uniform draw in ``[0, min(cap, base * 2**attempt)]``) spreads the
retries of many concurrent requests that failed together, instead of sending them back in one
burst when the server is already overloaded.
"""

from __future__ import annotations

import email.utils
import random
import time

__all__ = ["backoff_delay", "parse_retry_after"]


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    Returns None when the header is absent or unreadable (then backoff applies), and never a
    negative number (a date in the past means "now").
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is unreadable
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
