"""``run_to_completion``: a coroutine's result from synchronous code, with or without a running loop."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from biasinherit.clients import run_to_completion

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


async def where_and_what(value: int) -> tuple[int, str, str]:
    await asyncio.sleep(0)  # a real suspension, so the coroutine needs a loop of its own
    return value * 2, threading.current_thread().name, REQUEST_ID.get()


async def fails() -> None:
    await asyncio.sleep(0)
    raise KeyError("from the coroutine")


def test_without_a_running_loop_it_runs_in_this_thread() -> None:
    assert run_to_completion(where_and_what(21)) == (42, threading.current_thread().name, "unset")
    with pytest.raises(KeyError, match="from the coroutine"):
        run_to_completion(fails())


def test_inside_a_running_loop_it_runs_in_a_worker_thread_and_the_caller_loop_goes_on() -> None:
    async def main() -> tuple[tuple[int, str, str], str]:
        REQUEST_ID.set("caller's")
        result = run_to_completion(where_and_what(21))  # asyncio.run here would raise RuntimeError
        with pytest.raises(KeyError, match="from the coroutine"):  # the same exception, not a wrapper
            run_to_completion(fails())
        await asyncio.sleep(0)  # the caller's loop still works afterwards
        return result, threading.current_thread().name

    (value, thread, request_id), caller = asyncio.run(main())
    assert value == 42 and request_id == "caller's"  # context variables reach the worker
    assert thread != caller and thread.startswith("biasinherit-loop")
