"""Output paths are checked before any work starts.

A command that would fail to write its result after minutes of work (the output is a folder, its
parent is a file, the place is not writable, or the output is one of the inputs) is refused at
once with one line naming the path and the flag. Nothing is created here: the writability probe
is an anonymous temporary file in the nearest existing folder, gone when closed.

An output folder is also refused when it is a folder of another kind (an evaluation in a study's
run folder; :mod:`biasinherit.folder_kinds`), and any output when it is a symlink loop; an output
that is a symlink is checked (and written) at its target.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from biasinherit.errors import BiasInheritError
from biasinherit.folder_kinds import check_folder_kind
from biasinherit.links import check_not_a_loop, link_target

__all__ = ["check_output_file", "check_output_folder", "same_path"]

# atomic writers name their temporary file ".NAME.XXXXXXXX.tmp" beside the target
_MAX_NAME_BYTES = 255 - 14


def same_path(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` name the same file or folder (links and hard links included;
    a symlink loop is never the same as anything but itself, and never raises)."""
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except (OSError, ValueError):
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _nearest_folder(path: Path, field: str) -> Path:
    """The nearest existing ancestor of ``path``; refuses a file on the way."""
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise BiasInheritError(f"cannot write here: {parent} is a file, not a folder", path=path, field=field)
            return parent
    raise BiasInheritError("cannot write here: no existing folder above it", path=path, field=field)  # pragma: no cover


def _probe(folder: Path, path: Path, field: str) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise BiasInheritError(f"cannot write in {folder} ({exc.strerror or exc})", path=path, field=field) from None


def _check_name(path: Path, field: str) -> None:
    for part in path.parts:
        if len(part.encode("utf-8", "surrogateescape")) > _MAX_NAME_BYTES:
            raise BiasInheritError(f"a name in the path is longer than {_MAX_NAME_BYTES} bytes", field=field)


def _not_an_input(path: Path, inputs: Iterable[str | Path | None], field: str, what: str = "output") -> None:
    for inp in inputs:
        if inp is not None and str(inp) and same_path(path, inp):
            raise BiasInheritError(f"the {what} is also an input ({inp}); write to another file", path=path, field=field)


def check_output_file(path: str | Path, *, inputs: Iterable[str | Path | None] = (), field: str = "--out") -> Path:
    """Refuse an output file that cannot be written or would overwrite an input. A symlink is
    checked at its target (it is written through). A record writer also calls
    :func:`biasinherit.folder_kinds.check_file_not_owned` (a study's ``results.csv`` is no place
    for a corpus), which a command writing its own folder's file (``report.html``) does not."""
    path = Path(path)
    _check_name(path, field)
    check_not_a_loop(path, field=field)
    target = link_target(path)
    if target.is_dir():
        raise BiasInheritError("is a folder; give a file name", path=path, field=field)
    if target.exists() and not target.is_file():  # a device, a pipe: renaming onto it would replace it
        raise BiasInheritError("is not a regular file (a device or a pipe); give a file name", path=path, field=field)
    _not_an_input(path, inputs, field)
    folder = target.parent if target.parent.is_dir() else _nearest_folder(target, field)
    _probe(folder, path, field)
    return path


def check_output_folder(path: str | Path, *, inputs: Iterable[str | Path | None] = (), field: str = "--out",
                        files: Iterable[str] = (), kind: str | None = None) -> Path:
    """Refuse an output folder that is a file, cannot be written, or is (or holds) an input.

    ``files`` are the names the command will write inside the folder; each must not be a folder
    and must not be an input. ``kind`` (``"evaluation"``, ``"study run"``, ...; see
    :data:`biasinherit.folder_kinds.KINDS`) refuses an existing folder of another kind.
    """
    path = Path(path)
    _check_name(path, field)
    check_not_a_loop(path, field=field)
    inputs = [i for i in inputs if i is not None and str(i)]
    if path.exists() and not path.is_dir():
        raise BiasInheritError("is a file; give a folder", path=path, field=field)
    _not_an_input(path, inputs, field, what="output folder")
    if kind is not None:
        check_folder_kind(path, kind, field=field)
    for name in files:
        target = path / name
        if target.is_dir():
            raise BiasInheritError(f"{name} in the output folder is a folder; remove it or use another --out",
                                   path=path, field=field)
        _not_an_input(target, inputs, field, what=f"output {name}")
    folder = path if path.is_dir() else _nearest_folder(path, field)
    _probe(folder, path, field)
    return path
