"""One study per run folder at a time.

Two processes working in one folder would both run every cell and lose manifest updates, so a
study holds an exclusive ``flock`` on ``RUN_DIR/.lock`` while it runs and a second process is
refused at once with one line naming the holder. The kernel drops the lock when its process
dies, ``kill -9`` included, so a crash never leaves the folder locked; the pid, host and start
time written into the file are only there to name the holder in that line. The file itself is
kept: removing it could let a process that opened the old file and one that creates a new one
both hold "the" lock.

The lock is re-entrant within a process (the command line takes it before it touches the folder,
:func:`run_study` takes it again), and the descriptor is not inherited by worker processes.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from biasinherit.errors import BiasInheritError

__all__ = ["LOCK_FILE", "holds_study_lock", "study_lock"]

log = logging.getLogger(__name__)

LOCK_FILE = ".lock"

_held: dict[str, list[int]] = {}  # real path of the folder -> [descriptor, depth]
_held_guard = threading.Lock()

F = TypeVar("F", bound=Callable[..., Any])


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096).decode("utf-8"))
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(info["started"])))
        return f"pid {int(info['pid'])} on {info['host']}, started {started}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not yet written its name"


def _acquire(path: Path) -> int:
    import fcntl

    fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise BiasInheritError(f"another study is running in this folder ({holder}); wait for it to "
                               "finish or use another --out", path=path) from None
    except OSError as exc:  # a file system without locks
        os.close(fd)
        raise BiasInheritError(f"cannot lock the run folder ({exc.strerror})", path=path) from None
    info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
    return fd


@contextlib.contextmanager
def study_lock(run_dir: str | Path) -> Iterator[Path]:
    """Hold the run folder (created if missing) for this process; refuses a folder another
    process holds."""
    path = Path(run_dir)
    path.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(path)
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
        else:
            try:
                fd = _acquire(path)
            except ImportError:  # no fcntl (Windows): run unguarded rather than not at all
                log.warning("no file locks on this platform: do not run two studies in %s at once", path)
                fd = -1
            _held[key] = [fd, 1]
    try:
        yield path
    finally:
        with _held_guard:
            entry = _held[key]
            entry[1] -= 1
            if entry[1] == 0:
                del _held[key]
                if entry[0] >= 0:
                    os.close(entry[0])  # closing the only descriptor releases the flock


def holds_study_lock(func: F) -> F:
    """Decorate ``f(config, out, ...)`` so it runs holding ``out``'s study lock."""

    @functools.wraps(func)
    def wrapper(config: Any, out: str | Path, *args: Any, **kwargs: Any) -> Any:
        with study_lock(out):
            return func(config, out, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
