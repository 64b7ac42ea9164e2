"""The one user-facing error type.

A ``BiasInheritError`` is a user's mistake (bad input file, unknown name, out-of-range option).
The CLI prints it as a single line and exits with status 2; every other exception keeps its
traceback because it is a bug, not a user error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

__all__ = ["BiasInheritError", "did_you_mean", "unknown_name_error"]

EXIT_USER_ERROR = 2


class BiasInheritError(Exception):
    """A user-facing error: shown as one line, exit status 2.

    ``where`` names the place (file, ``file:line``, ``field``) and is prefixed to the message.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
        if self.field is not None:
            where += f"{' ' if where else ''}field '{self.field}'"
        text = f"{where}: {self.message}" if where else self.message
        return " ".join(text.split())  # always one line


def did_you_mean(name: str, choices: Iterable[str], n: int = 3) -> str:
    """A ' Did you mean: a, b?' suffix, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=n, cutoff=0.5)
    return f" Did you mean: {', '.join(close)}?" if close else ""


def unknown_name_error(kind: str, name: str, choices: Iterable[str]) -> BiasInheritError:
    """The standard lookup miss: ``Unknown task 'x'. Did you mean: y? Known: ...``."""
    choices = sorted(choices)
    hint = did_you_mean(name, choices)
    return BiasInheritError(f"Unknown {kind} '{name}'.{hint} Known: {', '.join(choices)}.")
