"""The record schema, and reading and writing records in whatever form people hold them.

Every dataset the toolkit reads or writes is a stream of :class:`Record` (DESIGN §3). A source of
records is a path (JSONL, CSV, Parquet, or a ``save_to_disk`` folder), a list or any iterable of
records or dicts, a pandas DataFrame, or a ``datasets`` Dataset / DatasetDict; :func:`iter_records`
streams any of them and :func:`read_records` collects them into a :class:`RecordList`. JSONL is
the native format and is read and written one line at a time, so a million records never need to
be in memory at once.

Tables (DataFrames, Datasets, CSV, Parquet) live in :mod:`biasinherit.record_tables` and the
dataset card in :mod:`biasinherit.dataset_card`; both are imported only when a table is read or
written, so this module imports neither pandas nor ``datasets``. Every writer is atomic: it
writes beside the target and renames into place, so an interrupted write leaves nothing half
written.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, SupportsIndex, Union, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from biasinherit.atomic import atomic_path, atomic_write
from biasinherit.errors import BiasInheritError, did_you_mean

if TYPE_CHECKING:
    import datasets
    import pandas as pd

    from biasinherit.dataset_card import CardInfo

__all__ = [
    "FORMATS",
    "Record",
    "RecordList",
    "RecordSource",
    "Span",
    "as_records",
    "atomic_path",
    "atomic_write",
    "is_datasets_folder",
    "iter_json_objects",
    "iter_jsonl",
    "iter_records",
    "load_hf_dataset",
    "load_records",
    "output_format",
    "read_records",
    "record_from_mapping",
    "record_id",
    "write_jsonl",
    "write_records",
]

Source = Literal["original", "augmented"]
OutputFormat = Literal["jsonl", "csv", "parquet", "hf"]
FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet", "hf")
SUFFIX_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
                  ".parquet": "parquet", ".pq": "parquet"}
_DATASETS_FOLDER_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")


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


class RecordList(list[Record]):
    """Records in memory, with the two hand-offs people ask for next: a DataFrame and a Dataset.

    A plain ``list`` otherwise (equal to a list of the same records), so every function that takes
    a list of records takes it; a slice is a RecordList too (``records[:100].to_pandas()``).
    """

    @overload
    def __getitem__(self, index: SupportsIndex) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> RecordList: ...

    def __getitem__(self, index: SupportsIndex | slice) -> Record | RecordList:
        if isinstance(index, slice):
            return RecordList(super().__getitem__(index))
        return super().__getitem__(index)

    def to_pandas(self) -> pd.DataFrame:
        """One column per Record field; ``groups``, ``spans`` and ``meta`` hold Python lists and
        dicts (not JSON strings), so ``read_records(frame)`` gives these records back."""
        from biasinherit.record_tables import records_to_frame

        return records_to_frame(self)

    def to_dataset(self) -> datasets.Dataset:
        """A ``datasets.Dataset`` with the schema :func:`write_records` writes with ``format="hf"``
        (``groups`` and ``spans`` as Arrow lists and structs, ``meta`` as a JSON string)."""
        from biasinherit.record_tables import records_to_dataset

        return records_to_dataset(self)


if TYPE_CHECKING:
    RecordSource = Union[
        str, "os.PathLike[str]", Iterable[Union[Record, Mapping[str, Any]]],
        "pd.DataFrame", "datasets.Dataset", "datasets.DatasetDict",
    ]
else:
    RecordSource = Any  # documented above; the real types need pandas and datasets imported


# --------------------------------------------------------------------------------------------
# validation helpers


def _validation_error(exc: ValidationError, path: Path | str, line: int | None) -> BiasInheritError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or None
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "required field is missing"
    elif err["type"] == "extra_forbidden":
        msg = "unknown field (map it onto ours with columns= / --column, or keep_extra puts it under 'meta')"
    return BiasInheritError(msg, path=path, line=line, field=field)


def check_column_mapping(columns: Mapping[str, str] | None) -> None:
    """``columns`` maps our field names to the input's (ours = theirs); a key that is not one of
    our fields is almost always the mapping written the wrong way round."""
    if not columns:
        return
    if not isinstance(columns, Mapping):
        raise BiasInheritError(f"columns must map our field names to yours, got {type(columns).__name__}",
                               field="columns")
    fields = list(Record.model_fields)
    for ours, theirs in columns.items():
        if ours not in Record.model_fields:
            raise BiasInheritError(
                f"'{ours}' is not a record field; columns maps ours to yours (e.g. response=output).{did_you_mean(ours, fields)} "
                f"Fields: {', '.join(fields)}", field="columns")
        if not isinstance(theirs, str):
            raise BiasInheritError(f"the column for '{ours}' must be a name, got {theirs!r}", field="columns")


def rename_columns(
    row: dict[str, Any], columns: Mapping[str, str] | None, *, path: Path | str, line: int | None
) -> dict[str, Any]:
    """Rename the input's columns onto ours (in place); a mapped column must be there."""
    for ours, theirs in (columns or {}).items():
        if theirs not in row:
            raise BiasInheritError(
                f"mapped column '{theirs}' (for '{ours}') is not in the input",
                path=path, line=line, field=theirs,
            )
        row[ours] = row.pop(theirs)
    return row


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
    row = rename_columns(dict(data), columns, path=path, line=line)
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
# JSONL


def is_datasets_folder(path: Path) -> bool:
    """Whether ``path`` is a folder ``save_to_disk`` wrote (a ``Dataset`` or a ``DatasetDict``)."""
    return path.is_dir() and any((path / name).is_file() for name in _DATASETS_FOLDER_MARKERS)


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise BiasInheritError("file not found", path=path)
    if path.is_dir() and not is_datasets_folder(path) and not any(path.glob("*.arrow")):
        raise BiasInheritError("is a folder but not a datasets folder (save_to_disk); expected a records file "
                               "or a datasets folder", path=path)


def iter_json_objects(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a JSONL file, one line at a time.

    Malformed JSON and non-object lines are user errors that name the file and the line.
    """
    path = Path(path)
    if not path.is_file():
        raise BiasInheritError("file not found", path=path)
    first = True
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
                if first and raw.lstrip().startswith("[") and _is_json_array(path):
                    raise BiasInheritError(JSON_ARRAY, path=path, line=lineno) from None
                raise BiasInheritError(f"invalid JSON ({exc.msg})", path=path, line=lineno) from None
            except RecursionError:
                raise BiasInheritError("JSON nested too deeply", path=path, line=lineno) from None
            if not isinstance(data, dict):
                if first and isinstance(data, list) and all(isinstance(d, dict) for d in data):
                    raise BiasInheritError(JSON_ARRAY, path=path, line=lineno)
                raise BiasInheritError("expected a JSON object", path=path, line=lineno)
            first = False
            if "\\u" in raw:
                _check_encodable(data, path, lineno)
            yield lineno, data


JSON_ARRAY = ("the file is a JSON array; JSONL needs one object per line (write each record as one JSON "
              "object on its own line, e.g. with pandas: to_json(path, orient='records', lines=True))")


def _is_json_array(path: Path) -> bool:
    """Whether the whole file is one (pretty-printed) JSON array of objects."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return False
    return isinstance(data, list) and all(isinstance(d, dict) for d in data)


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
# any source: dispatch


def _read_format(path: Path) -> str:
    """The format of an input path: a folder is a datasets folder, a file goes by its suffix."""
    if path.is_dir():
        _check_exists(path)
        return "hf"
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is not None:
        _check_exists(path)
        return fmt
    if not path.exists():
        raise BiasInheritError("file not found", path=path)
    raise BiasInheritError(
        f"unknown file type '{path.suffix or '(none)'}': use .jsonl, .csv, .parquet or a datasets folder",
        path=path,
    )


def _iter_path(path: Path, columns: Mapping[str, str] | None, split: str | None,
               keep_extra: bool) -> Iterator[Record]:
    fmt = _read_format(path)
    if fmt == "jsonl":
        return iter_jsonl(path, columns=columns, keep_extra=keep_extra)
    from biasinherit import record_tables

    if fmt == "csv":
        return record_tables.iter_csv(path, columns=columns, keep_extra=keep_extra)
    if fmt == "parquet":
        return record_tables.iter_parquet(path, columns=columns, keep_extra=keep_extra)
    return record_tables.iter_dataset_folder(path, columns=columns, split=split, keep_extra=keep_extra)


def _iter_items(items: Iterable[Any], where: str, columns: Mapping[str, str] | None,
                keep_extra: bool) -> Iterator[Record]:
    """Records pass through as they are (they are already in our schema); mappings are read like
    JSON objects; anything else is a user error naming the item."""
    for i, item in enumerate(items):
        if isinstance(item, Record):
            yield item
        elif isinstance(item, Mapping):
            yield record_from_mapping(item, path=f"{where} item {i}", columns=columns, keep_extra=keep_extra)
        else:
            raise BiasInheritError(f"expected a Record or a mapping, got {type(item).__name__}",
                                   path=f"{where} item {i}")


def _loaded(module: str) -> Any:
    """A module only if the caller already imported it: a DataFrame cannot exist without pandas,
    so a source is never tested against a library it could not be an instance of."""
    return sys.modules.get(module)


def iter_records(
    source: RecordSource,
    *,
    columns: Mapping[str, str] | None = None,
    split: str | None = None,
    keep_extra: bool = False,
) -> Iterator[Record]:
    """Stream the records of ``source``, whatever form it has.

    ``source``: a path (str or Path) to JSONL, CSV or Parquet or to a ``save_to_disk`` folder; a
    list, tuple or any iterable of :class:`Record` or of dicts; a pandas DataFrame; a
    ``datasets.Dataset``; a ``datasets.DatasetDict`` (with ``split``, unless it has one split).
    ``columns`` maps our field names to the source's (``{"response": "output"}``). In tables
    (DataFrames, Datasets, CSV, Parquet) an empty cell (None, NaN, ``pd.NA``) is a missing field,
    nested fields may be JSON strings, and whole-number ids and labels read as their text.
    ``split`` picks a DatasetDict's split; sources without splits ignore it (one ``split`` may be
    passed for several sources), but a Dataset that knows it is another split is refused.
    ``keep_extra`` puts unknown fields under ``meta`` instead of refusing them.

    The source's shape (missing file, unknown suffix, missing mapped column, ambiguous split) is
    checked now; each record is validated as it is read, and a bad one raises a
    :class:`BiasInheritError` naming the source, its line or row, and the field.
    """
    check_column_mapping(columns)
    if isinstance(source, (str, os.PathLike)):
        return _iter_path(Path(source), columns, split, keep_extra)
    if isinstance(source, (list, tuple)):
        return _iter_items(source, f"<{type(source).__name__}>", columns, keep_extra)
    pd = _loaded("pandas")
    if pd is not None and isinstance(source, pd.DataFrame):
        from biasinherit.record_tables import iter_frame

        return iter_frame(source, columns=columns, keep_extra=keep_extra)
    ds = _loaded("datasets")
    if ds is not None and isinstance(source, (ds.Dataset, ds.DatasetDict, ds.IterableDataset,
                                              ds.IterableDatasetDict)):
        from biasinherit.record_tables import iter_dataset_object

        return iter_dataset_object(source, columns=columns, split=split, keep_extra=keep_extra)
    if isinstance(source, Mapping):
        raise BiasInheritError("one mapping is a record, not a source of records: pass a list of them",
                               path=f"<{type(source).__name__}>")
    if isinstance(source, Iterable) and not isinstance(source, (bytes, bytearray)):
        return _iter_items(source, f"<{type(source).__name__}>", columns, keep_extra)
    raise BiasInheritError(
        f"cannot read records from a {type(source).__name__}: pass a path, a list of records or dicts, "
        "a pandas DataFrame or a datasets Dataset/DatasetDict", path=f"<{type(source).__name__}>")


def read_records(
    source: RecordSource,
    *,
    columns: Mapping[str, str] | None = None,
    split: str | None = None,
    keep_extra: bool = False,
) -> RecordList:
    """All records of ``source`` (any form :func:`iter_records` takes) as a :class:`RecordList`,
    for data that fits in memory; use :func:`iter_records` to stream."""
    return RecordList(iter_records(source, columns=columns, split=split, keep_extra=keep_extra))


load_records = read_records  # the name the rest of the code base has always used


def as_records(
    source: RecordSource,
    *,
    columns: Mapping[str, str] | None = None,
    split: str | None = None,
    keep_extra: bool = False,
) -> Sequence[Record]:
    """``source`` as a sequence of records: a list or tuple of records as it is (no copy, no second
    validation), anything else read with :func:`read_records`. For functions that take records in
    any form but index into them (``mix_at_ratio``)."""
    if isinstance(source, (list, tuple)) and not columns and all(isinstance(r, Record) for r in source):
        return source
    return read_records(source, columns=columns, split=split, keep_extra=keep_extra)


def output_format(path: str | Path, format: str | None = None) -> OutputFormat:
    """The format :func:`write_records` will write ``path`` in, or a user error.

    The suffix decides (``.jsonl``/``.json``/``.ndjson``, ``.csv``, ``.parquet``/``.pq``) unless
    ``format`` is given; a name without a known suffix needs ``format`` (a folder-like name used to
    get a JSONL file, which surprised everyone), and a suffix that says another format than
    ``format`` is refused rather than guessed.
    """
    p = Path(path)
    by_suffix = SUFFIX_FORMATS.get(p.suffix.lower())
    if format is None:
        try:
            mode = p.stat().st_mode
        except OSError:  # not there, or a name the system refuses: the writer's checks say which
            mode = None
        if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            raise BiasInheritError("is not a regular file (a device or a pipe?): name a file", path=p)
        if by_suffix is None:
            what = "is a folder" if mode is not None and stat.S_ISDIR(mode) else \
                f"cannot tell the output format from the name (suffix '{p.suffix or '(none)'}')"
            raise BiasInheritError(
                f"{what}: name a file ending in .jsonl, .csv or .parquet, or pass format='hf' (--format hf) "
                "for a Hugging Face dataset folder", path=p, field="format")
        return by_suffix  # type: ignore[return-value]
    fmt = str(format).lower()
    if fmt not in FORMATS:
        raise BiasInheritError(f"unknown format '{format}'.{did_you_mean(fmt, FORMATS)} Use one of: "
                               f"{', '.join(FORMATS)}", field="format")
    if by_suffix is not None and by_suffix != fmt:
        raise BiasInheritError(f"the suffix '{p.suffix}' says {by_suffix} but format is '{fmt}': rename the "
                               "output or leave format out", path=p, field="format")
    return fmt  # type: ignore[return-value]


def write_records(
    records: RecordSource,
    path: str | Path,
    *,
    format: str | None = None,
    card: Mapping[str, Any] | CardInfo | None = None,
) -> int:
    """Write ``records`` (any source :func:`iter_records` reads) atomically; returns how many.

    ``format``: ``"jsonl"``, ``"csv"``, ``"parquet"`` or ``"hf"`` (a ``save_to_disk`` folder);
    by default the suffix decides (:func:`output_format`). ``card`` is what the caller knows about
    the records' provenance (:class:`biasinherit.dataset_card.CardInfo`: ``source``, ``generator``,
    ``model``, ``bias_type``, ``intensity``, ``polarity``, ``ratio``, ``config``, ``license``, ...);
    the counts come from the records themselves. A dataset folder always gets its card as
    ``README.md``; a Parquet file always gets it beside it as ``<name>.README.md`` (e.g.
    ``mix.parquet.README.md``: one card per file, next to it in a listing, and never over a
    project's own README); JSONL and CSV get that sibling only when ``card`` is given.
    """
    from biasinherit.dataset_card import RecordStats, card_info, card_path, render_card

    p = Path(path)
    fmt = output_format(p, format)
    info = card_info(card)  # a bad card is refused before anything is written
    if fmt != "hf" and p.is_dir():
        raise BiasInheritError(f"is a folder; a {fmt} file needs a file name", path=p)
    stats = RecordStats()
    stream = stats.tap(iter_records(records))

    def card_text() -> str:
        return render_card(info, stats, name=p.name, fmt=fmt)

    if fmt == "jsonl":
        n = write_jsonl(stream, p)
    else:
        from biasinherit import record_tables

        if fmt == "csv":
            n = record_tables.write_csv(stream, p)
        elif fmt == "parquet":
            n = record_tables.write_parquet(stream, p)
        else:
            return record_tables.write_dataset_folder(stream, p, readme=card_text)
    if fmt == "parquet" or card is not None:
        with atomic_write(card_path(p)) as fh:
            fh.write(card_text())
    return n


def load_hf_dataset(
    name_or_path: str,
    *,
    split: str = "train",
    columns: Mapping[str, str] | None = None,
    keep_extra: bool = True,
) -> Iterator[Record]:
    """Records from a local ``datasets`` folder (``save_to_disk``) or a hub dataset id."""
    from biasinherit.record_tables import iter_dataset_object, load_dataset_folder

    check_column_mapping(columns)
    path = Path(name_or_path)
    if path.exists():
        ds: Any = load_dataset_folder(path)
    else:
        import datasets

        try:
            ds = datasets.load_dataset(name_or_path, split=split)
        except Exception as exc:
            raise BiasInheritError(f"cannot load dataset ({exc})", path=name_or_path) from None
    if not isinstance(ds, dict):  # a single Dataset: it is the split there is
        split = None  # type: ignore[assignment]
    return iter_dataset_object(ds, columns=columns, split=split, keep_extra=keep_extra, where=name_or_path)
