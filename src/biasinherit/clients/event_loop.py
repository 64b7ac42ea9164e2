"""Running a coroutine to completion from synchronous code, inside Jupyter too.

The synchronous APIs (a generator's ``generate``, a backend's ``generate``) are thin wrappers
around coroutines. ``asyncio.run`` refuses to start while an event loop is already running in
the thread, which is always the case in a Jupyter cell or inside an ``async def``; there the
coroutine runs on a fresh loop in one worker thread while the caller waits. The caller's loop is
blocked for that time, as any synchronous call blocks it: the point is a correct answer, not
concurrency with the caller's own tasks (use the ``a...`` coroutine itself for that).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_to_completion"]

T = TypeVar("T")


def run_to_completion(coroutine: Coroutine[Any, Any, T]) -> T:
    """The coroutine's result (or its exception, traceback kept), whether or not an event loop
    is running in this thread: on a new loop here when none is, in a worker thread when one is."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    context = contextvars.copy_context()  # the worker sees the caller's context variables
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="biasinherit-loop") as pool:
        return pool.submit(context.run, asyncio.run, coroutine).result()
