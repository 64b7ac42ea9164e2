"""Small helpers shared by the command modules."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.limits import MAX_SEED


def _option(help: str) -> Any:
    import typer

    return typer.Option(help=help)


# options every command that reads or writes records shares
COLUMN_OPTION = _option("map a foreign column onto ours: OURS=THEIRS (e.g. response=output); repeatable")
SPLIT_OPTION = _option("the split to read from a dataset folder with several (train, test, ...)")
FORMAT_OPTION = _option("output format: jsonl | csv | parquet | hf (a Hugging Face dataset folder with a "
                        "dataset card); default: from the file's suffix")


def seed_option(help: str = "random seed") -> Any:
    import typer

    return typer.Option(help=f"{help} (0 to {MAX_SEED})", min=0, max=MAX_SEED)


def parse_mapping(pairs: list[str] | None, flag: str) -> dict[str, str]:
    """``["response=text", ...]`` -> ``{"response": "text"}``."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise BiasInheritError(f"expected KEY=VALUE, got '{pair}'", field=flag)
        key, value = pair.split("=", 1)
        if not key.strip():
            raise BiasInheritError(f"expected KEY=VALUE, got '{pair}'", field=flag)
        out[key.strip()] = value.strip()
    return out


def flag_error(exc: Exception, flags: dict[str, str] | None = None) -> BiasInheritError:
    """A pydantic ``ValidationError`` from a config built from flags, as one line naming the flag.

    ``flags`` maps config field names to flag names where they differ (``n_permutations`` ->
    ``--permutations``); other fields become ``--field-name``.
    """
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return BiasInheritError(str(exc))
    err = errors()[0]
    name = ".".join(str(p) for p in err["loc"])
    flag = (flags or {}).get(name, "--" + name.replace("_", "-"))
    from biasinherit.validation_messages import error_message

    return BiasInheritError(error_message(err), field=flag)


def console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(stderr=True)


def write_json(path: Path, data: object) -> None:
    from biasinherit.records import atomic_write

    with atomic_write(path) as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")


def log_warnings_to_stderr() -> None:
    """Library warnings (a request being retried, a damaged cell redone) as plain lines on
    stderr, whether or not stderr is a terminal."""
    import logging
    import sys

    class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
        """Writes to whatever ``sys.stderr`` is at the time (a caller may have redirected it)."""

        @property  # type: ignore[override]
        def stream(self) -> Any:
            return sys.stderr

        @stream.setter
        def stream(self, value: Any) -> None:
            pass

    root = logging.getLogger("biasinherit")
    if not any(getattr(h, "_biasinherit_cli", False) for h in root.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler._biasinherit_cli = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)


@contextlib.contextmanager
def as_flags(function: Any, renames: dict[str, str] | None = None) -> Any:
    """An API call's user error names the keyword (``field 'batch_size'``); on the command line
    it names the flag (``--batch-size``): the same option under the two spellings of it.
    ``renames`` maps a keyword to a flag where they differ."""
    import inspect

    keywords = set(inspect.signature(function).parameters)
    try:
        yield
    except BiasInheritError as exc:
        if exc.field in keywords:
            exc.field = (renames or {}).get(exc.field, "--" + exc.field.replace("_", "-"))
        raise
