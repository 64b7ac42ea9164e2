"""The record schema and its readers and writers.

Every dataset the toolkit reads or writes is a stream of :class:`Record`. JSONL is the native
format and is read and written one line at a time, so a million records never need to be in
memory at once. CSV, Parquet and Hugging Face ``datasets`` load into the same schema, with an
optional column mapping for foreign field names. Every writer is atomic: it writes to a temporary
file beside the target and renames it into place, so an interrupted write leaves no truncated file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from biasinherit.errors import BiasInheritError

__all__ = [
    "Record",
    "Span",
    "atomic_write",
    "read_records",
    "write_records",
    "iter_jsonl",
    "iter_json_objects",
    "write_jsonl",
    "load_hf_dataset",
    "record_id",
    "record_from_mapping",
    "load_records",
    "atomic_path",
]

Source = Literal["original", "augmented"]


class Span(BaseModel):
    """A character span ``[start, end)`` in ``response`` that carries bias."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: int = Field(ge=0, description="first character (inclusive)")
    end: int = Field(ge=0, description="last character (exclusive)")
    kind: str = Field(default="group", description="what the span is: group, attribute, name, ...")


class Record(BaseModel):
    """One training or evaluation example (DESIGN §3)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default="", description="stable id; derived from content when empty")
    prompt: str | None = Field(default=None, description="instruction; null for plain text")
    response: str = Field(description="the text the model learns")
    source: Source = Field(default="original", description="original or augmented")
    bias_type: str | None = Field(default=None, description="e.g. gender.stereotype; null if none")
    groups: list[str] = Field(default_factory=list, description="attribute:group mentions")
    spans: list[Span] = Field(default_factory=list, description="bias-bearing spans in response")
    label: str | None = Field(default=None, description="class label, where labelled")
    meta: dict[str, Any] = Field(default_factory=dict, description="anything else, kept as is")

    @field_validator("groups")
    @classmethod
    def _groups_are_qualified(cls, value: list[str]) -> list[str]:
        for g in value:
            if ":" not in g:
                raise ValueError(f"group '{g}' must be 'attribute:group', e.g. 'gender:female'")
        return value

    def model_post_init(self, __context: Any) -> None:
        if not self.id:
            self.id = record_id(self.prompt, self.response)
        for span in self.spans:
            if span.end < span.start or span.end > len(self.response):
                raise ValueError(
                    f"span [{span.start}, {span.end}) is outside response of length "
                    f"{len(self.response)}"
                )

    @property
    def text(self) -> str:
        """Prompt and response joined, as a plain-text view of the record."""
        return f"{self.prompt}\n{self.response}" if self.prompt else self.response

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=False)


def record_id(prompt: str | None, response: str) -> str:
    """A stable id derived from content."""
    digest = hashlib.sha1(f"{prompt or ''}\x1f{response}".encode()).hexdigest()
    return digest[:16]


# --------------------------------------------------------------------------------------------
# validation helpers


def _validation_error(exc: ValidationError, path: Path | str, line: int | None) -> BiasInheritError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or None
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "required field is missing"
    elif err["type"] == "extra_forbidden":
        msg = "unknown field (use --map or put it under 'meta')"
    return BiasInheritError(msg, path=path, line=line, field=field)


def record_from_mapping(
    data: Mapping[str, Any],
    *,
    path: Path | str = "<input>",
    line: int | None = None,
    columns: Mapping[str, str] | None = None,
    keep_extra: bool = False,
) -> Record:
    """Build a Record from a mapping, renaming foreign columns and validating at the boundary.

    ``columns`` maps our field names to the input's (``{"response": "text"}``). With
    ``keep_extra`` unknown input fields go into ``meta`` instead of being an error.
    """
    if not isinstance(data, Mapping):
        raise BiasInheritError("expected a JSON object", path=path, line=line)
    row = dict(data)
    if columns:
        for ours, theirs in columns.items():
            if theirs not in row:
                raise BiasInheritError(
                    f"mapped column '{theirs}' (for '{ours}') is not in the input",
                    path=path, line=line, field=theirs,
                )
            row[ours] = row.pop(theirs)
    if keep_extra:
        known = set(Record.model_fields)
        extra = {k: row.pop(k) for k in list(row) if k not in known}
        if extra:
            row.setdefault("meta", {})
            if isinstance(row["meta"], dict):
                row["meta"] = {**extra, **row["meta"]}
    try:
        return Record.model_validate(row)
    except ValidationError as exc:
        raise _validation_error(exc, path, line) from None
    except ValueError as exc:
        raise BiasInheritError(str(exc), path=path, line=line) from None


# --------------------------------------------------------------------------------------------
# atomic writing


def _umask_mode() -> int:
    """The mode a plain ``open()`` would give a new file (mkstemp uses 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        kwargs: dict[str, Any] = {} if "b" in mode else {"encoding": encoding, "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` for libraries that write files themselves."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------------------------
# JSONL


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise BiasInheritError("file not found", path=path)
    if path.is_dir() and not (path / "dataset_info.json").exists() and not any(path.glob("*.arrow")):
        raise BiasInheritError("is a folder, expected a records file", path=path)


def iter_json_objects(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a JSONL file, one line at a time.

    Malformed JSON and non-object lines are user errors that name the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        raise BiasInheritError("file not found", path=path)
    with open(path, "rb") as fh:
        for lineno, raw_bytes in enumerate(fh, start=1):
            try:
                raw = raw_bytes.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise BiasInheritError(f"not UTF-8 text (byte 0x{raw_bytes[exc.start]:02x} at column "
                                       f"{exc.start + 1}); is this a records file?", path=path, line=lineno) from None
            if not raw.strip():
                continue
            if "\x00" in raw:
                raise BiasInheritError("a NUL byte: not a text file", path=path, line=lineno)
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise BiasInheritError(f"invalid JSON ({exc.msg})", path=path, line=lineno) from None
            except RecursionError:
                raise BiasInheritError("JSON nested too deeply", path=path, line=lineno) from None
            if not isinstance(data, dict):
                raise BiasInheritError("expected a JSON object", path=path, line=lineno)
            if "\\u" in raw:
                _check_encodable(data, path, lineno)
            yield lineno, data


def _check_encodable(data: Any, path: Path, line: int) -> None:
    """A ``\\ud800`` escape decodes to a lone surrogate that no UTF-8 writer can write later."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BiasInheritError("a \\u escape encodes an invalid character (a lone surrogate)",
                               path=path, line=line) from None


def iter_jsonl(
    path: str | Path, *, columns: Mapping[str, str] | None = None, keep_extra: bool = False
) -> Iterator[Record]:
    """Stream records from a JSONL file, one line at a time; blank lines are skipped."""
    path = Path(path)
    _check_exists(path)
    for lineno, data in iter_json_objects(path):
        yield record_from_mapping(data, path=path, line=lineno, columns=columns, keep_extra=keep_extra)


def write_jsonl(records: Iterable[Record], path: str | Path) -> int:
    """Write records as JSONL atomically; returns how many were written."""
    n = 0
    with atomic_write(path) as fh:
        for rec in records:
            fh.write(rec.to_json())
            fh.write("\n")
            n += 1
    return n


# --------------------------------------------------------------------------------------------
# CSV and Parquet (tabular: nested fields stored as JSON strings)

_NESTED = ("groups", "spans", "meta")


def _row_to_mapping(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (isinstance(value, float) and value != value):  # NaN from pandas
            continue
        if key in _NESTED and isinstance(value, str):
            value = json.loads(value) if value.strip() else ([] if key != "meta" else {})
        out[key] = value
    return out


def _iter_table(path: Path, kind: str, columns: Mapping[str, str] | None, keep_extra: bool) -> Iterator[Record]:
    import pandas as pd

    try:
        if kind == "csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
            frame = frame.replace({"": None})
        else:
            frame = pd.read_parquet(path)
    except Exception as exc:  # pandas raises many types for malformed files
        raise BiasInheritError(f"cannot read {kind.upper()} file ({exc})", path=path) from None
    first_data_line = 2 if kind == "csv" else 1
    for i, row in enumerate(frame.to_dict(orient="records")):
        line = i + first_data_line
        try:
            mapping = _row_to_mapping(row)
        except json.JSONDecodeError as exc:
            raise BiasInheritError(f"invalid JSON in a nested column ({exc.msg})", path=path, line=line) from None
        yield record_from_mapping(mapping, path=path, line=line, columns=columns, keep_extra=keep_extra)


def _records_frame(records: Iterable[Record]) -> Any:
    import pandas as pd

    rows = []
    for rec in records:
        d = rec.model_dump(mode="json")
        for key in _NESTED:
            d[key] = json.dumps(d[key], ensure_ascii=False)
        rows.append(d)
    return pd.DataFrame(rows, columns=list(Record.model_fields))


# --------------------------------------------------------------------------------------------
# Hugging Face datasets


def load_hf_dataset(
    name_or_path: str,
    *,
    split: str = "train",
    columns: Mapping[str, str] | None = None,
    keep_extra: bool = True,
) -> Iterator[Record]:
    """Records from a local ``datasets`` folder (``save_to_disk``) or a hub dataset id."""
    import datasets

    path = Path(name_or_path)
    try:
        if path.exists():
            ds: Any = datasets.load_from_disk(str(path))
        else:
            ds = datasets.load_dataset(name_or_path, split=split)
    except Exception as exc:
        raise BiasInheritError(f"cannot load dataset ({exc})", path=name_or_path) from None
    if isinstance(ds, datasets.DatasetDict):
        if split not in ds:
            raise BiasInheritError(
                f"no split '{split}' (available: {', '.join(ds)})", path=name_or_path
            )
        ds = ds[split]
    for i, row in enumerate(ds):
        yield record_from_mapping(
            _row_to_mapping(row), path=name_or_path, line=i + 1, columns=columns, keep_extra=keep_extra
        )


# --------------------------------------------------------------------------------------------
# format dispatch


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if path.is_dir():
        return "hf"
    raise BiasInheritError(
        f"unknown file type '{suffix or '(none)'}': use .jsonl, .csv, .parquet or a datasets folder",
        path=path,
    )


def read_records(
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    keep_extra: bool = False,
    split: str = "train",
) -> Iterator[Record]:
    """Stream records from JSONL, CSV, Parquet or a local ``datasets`` folder."""
    p = Path(path)
    if p.suffix.lower() in (".jsonl", ".json", ".ndjson", ".csv", ".parquet", ".pq"):
        _check_exists(p)
    elif not p.exists():
        raise BiasInheritError("file not found", path=p)
    fmt = _format_of(p)
    if fmt == "jsonl":
        return iter_jsonl(p, columns=columns, keep_extra=keep_extra)
    if fmt == "hf":
        return load_hf_dataset(str(p), split=split, columns=columns, keep_extra=keep_extra)
    return _iter_table(p, fmt, columns, keep_extra)


def write_records(records: Iterable[Record], path: str | Path) -> int:
    """Write records atomically in the format named by the file's suffix."""
    p = Path(path)
    fmt = _format_of(p) if p.suffix else "jsonl"
    if fmt == "jsonl":
        return write_jsonl(records, p)
    if fmt == "hf":
        raise BiasInheritError("writing a datasets folder is not supported; use .jsonl", path=p)
    frame = _records_frame(records)
    with atomic_path(p) as tmp:
        if fmt == "csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
    return len(frame)


def load_records(path: str | Path, **kwargs: Any) -> list[Record]:
    """All records of a file as a list (for data that fits in memory)."""
    return list(read_records(path, **kwargs))
