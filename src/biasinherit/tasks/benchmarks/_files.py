"""Reading benchmark rows from a local file or the Hugging Face hub, with one-line errors."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.records import iter_json_objects

__all__ = ["iter_csv", "iter_jsonl", "iter_hub", "require"]


def require(row: dict[str, Any], fields: Sequence[str], path: Path | str, line: int) -> None:
    for f in fields:
        if f not in row or row[f] is None:
            raise BiasInheritError("required column is missing", path=path, line=line, field=f)


def iter_csv(path: Path, *, delimiter: str = ",", required: Sequence[str] = ()) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV/TSV file with a header (a UTF-8 byte-order mark is allowed); extra columns,
    an unnamed index column among them, are kept as they are."""
    if not path.is_file():
        raise BiasInheritError("file not found", path=path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        try:
            header = reader.fieldnames or []
            for f in required:
                if f not in header:
                    raise BiasInheritError(f"required column is missing (columns: {', '.join(header)})",
                                           path=path, line=1, field=f)
            for row in reader:
                yield reader.line_num, row
        except UnicodeDecodeError:
            raise BiasInheritError("not UTF-8 text", path=path) from None  # read in blocks: no line
        except csv.Error as exc:
            raise BiasInheritError(f"not readable as {'TSV' if delimiter == chr(9) else 'CSV'} ({exc})",
                                   path=path, line=reader.line_num) from None


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    return iter_json_objects(path)


def iter_hub(dataset_id: str, *, name: str | None = None, split: str = "test") -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of a hub dataset (needs network); ``ID`` or ``ID:config``. A name that looks like a
    local path (``nope.csv``, ``./data/x``) is a missing file, said at once with no hub request."""
    from biasinherit.paths import looks_local

    if looks_local(dataset_id):
        raise BiasInheritError("file not found", path=dataset_id)
    import datasets

    try:
        ds = datasets.load_dataset(dataset_id, name, split=split)
    except Exception as exc:  # offline, unknown id, ...: one line for the user
        raise BiasInheritError(f"not a local file and cannot load it from the hub ({type(exc).__name__})",
                               path=dataset_id) from None
    for i, row in enumerate(ds):
        yield i + 1, dict(row)
