"""Symbolic links in the paths users give.

A link that leads back to itself (a loop, ``a -> b -> a``) is one line naming it, whether it is
an input or an output; Python's own ``Path.resolve`` raises ``RuntimeError: Symlink loop`` there.
An output that is a link is written *through*: the file or folder the link points to gets the
new content and the link stays a link (an atomic rename onto the link itself would replace it
with a regular file).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from biasinherit.errors import BiasInheritError

__all__ = ["check_not_a_loop", "link_target"]


def check_not_a_loop(path: str | Path, *, field: str | None = None) -> None:
    """Refuse a path that is (or runs through) a symlink loop."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BiasInheritError("is a symlink loop (a link that leads back to itself): remove the link or "
                                   "name another path", path=path, field=field) from None
    except ValueError:  # a NUL byte in the name: the caller's own checks say so
        pass


def link_target(path: str | Path) -> Path:
    """Where writing ``path`` should land: the final target when ``path`` is a symlink (even a
    dangling one, whose target is then created), else ``path`` itself."""
    p = Path(path)
    if not p.is_symlink():
        return p
    return Path(os.path.realpath(p))
