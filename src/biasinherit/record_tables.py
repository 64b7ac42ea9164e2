"""Records as tables: pandas DataFrames, CSV, Parquet and Hugging Face ``datasets``.

Reading. A table row becomes a Record the way a user who keeps data in a table would expect:
an empty cell (None, NaN, ``pd.NA``, an Arrow null, an empty CSV field) is a missing field, not
the float NaN or the string "nan"; ``groups``/``spans``/``meta`` may be JSON strings (CSV, and
Parquet files written before this module) or real lists and dicts; whole-number ids and labels
(an integer column, a ``ClassLabel``) read as their text, as they would from CSV. The columns are
checked once, before the first row (a missing mapped column, an unknown column, no response), and
a bad row names its source and row.

Writing. The Arrow schema is ours, fixed, and the same for Parquet, a dataset folder and
:meth:`RecordList.to_dataset`: ``groups`` is a list of strings and ``spans`` a list of
``{start, end, kind}`` structs, because those have one shape in every record; ``meta`` is a JSON
string, because its keys and their types differ between records (corpus records hold ``item``,
generated ones ``generation`` and ``injected``, users' data anything) and an Arrow struct would be
the union of all keys with nulls for the absent ones: reading it back could not tell an absent
key from a null one, and two records with a different type under one key could not be written at
all. CSV has no nested types, so all three nested fields are JSON strings there.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biasinherit.atomic import atomic_path, atomic_write
from biasinherit.errors import BiasInheritError, did_you_mean
from biasinherit.records import Record, is_datasets_folder, record_from_mapping, rename_columns

if TYPE_CHECKING:
    import datasets
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "arrow_schema",
    "is_missing",
    "iter_csv",
    "iter_dataset_folder",
    "iter_dataset_object",
    "iter_frame",
    "iter_parquet",
    "load_dataset_folder",
    "records_to_dataset",
    "records_to_frame",
    "write_csv",
    "write_dataset_folder",
    "write_parquet",
]

FIELDS = tuple(Record.model_fields)
NESTED = ("groups", "spans", "meta")
_CHUNK = 2048  # rows per batch: large enough to amortise the per-batch cost, small enough to stream


def arrow_schema() -> pa.Schema:
    """The Arrow schema records are written with (see the module docstring for why ``meta`` is a
    JSON string and ``groups``/``spans`` are not)."""
    import pyarrow as pa

    span = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("kind", pa.string())])
    return pa.schema([
        ("id", pa.string()), ("prompt", pa.string()), ("response", pa.string()), ("source", pa.string()),
        ("bias_type", pa.string()), ("groups", pa.list_(pa.string())), ("spans", pa.list_(span)),
        ("label", pa.string()), ("meta", pa.string()),
    ])


# --------------------------------------------------------------------------------------------
# a table row -> a Record


def is_missing(value: Any) -> bool:
    """An empty table cell: None, a float NaN (numpy's too), ``pd.NA`` or ``pd.NaT``."""
    if value is None:
        return True
    if isinstance(value, (str, bytes, list, tuple, dict)) or (hasattr(value, "shape") and value.shape != ()):
        return False
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return bool(value != value)  # NaN is the one value unequal to itself
    except (TypeError, ValueError):
        return False


def _native(value: Any) -> Any:
    """numpy arrays and scalars (what pandas keeps in object cells) as plain Python values."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {k: _native(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_native(v) for v in value]
    tolist = getattr(value, "tolist", None)
    return _native(tolist()) if callable(tolist) else value


def _whole_number_text(value: Any) -> Any:
    """An id or label held as a number (an int column, or a float one because of a NaN) as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) or isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def _tabular_record(
    row: dict[str, Any], *, path: str | Path, line: int | None, columns: Mapping[str, str] | None,
    keep_extra: bool, empty_is_missing: bool = False,
) -> Record:
    """``empty_is_missing``: CSV has no null, so an empty field is a missing one, except in
    ``response``, which is always there and may be empty text."""
    row = rename_columns(row, columns, path=path, line=line)  # before dropping: a NaN cell is still there
    out: dict[str, Any] = {}
    for key, value in row.items():
        if is_missing(value) or (empty_is_missing and value == "" and key != "response"):
            continue
        value = _native(value)
        if key in NESTED and isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else ({} if key == "meta" else [])
            except json.JSONDecodeError as exc:
                raise BiasInheritError(f"invalid JSON in a nested column ({exc.msg})", path=path, line=line,
                                       field=key) from None
        elif key == "spans" and isinstance(value, dict) and all(isinstance(v, list) for v in value.values()):
            value = [dict(zip(value, parts)) for parts in zip(*value.values())]  # a struct of lists
        elif key in ("id", "label"):
            value = _whole_number_text(value)
        out[key] = value
    return record_from_mapping(out, path=path, line=line, keep_extra=keep_extra)


def _check_table_columns(names: Sequence[str], columns: Mapping[str, str] | None, keep_extra: bool,
                         where: str | Path) -> None:
    """A table's columns are known before its first row: say what is wrong with them once."""
    present = list(names)
    if len(set(present)) != len(present):
        dupes = sorted({n for n in present if present.count(n) > 1})
        raise BiasInheritError(f"duplicate column names: {', '.join(dupes)}", path=where)
    for ours, theirs in (columns or {}).items():
        if theirs not in present:
            raise BiasInheritError(
                f"mapped column '{theirs}' (for '{ours}') is not in the input.{did_you_mean(theirs, present)} "
                f"Columns: {', '.join(present)}", path=where, field=theirs)
    renamed = [n for n in present if n not in (columns or {}).values()] + list(columns or {})
    unknown = [n for n in renamed if n not in FIELDS]
    if unknown and not keep_extra:
        raise BiasInheritError(
            f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)}: map "
            "yours onto ours with columns= (e.g. {'response': 'output'}), or keep_extra=True puts them under "
            f"meta. Ours: {', '.join(FIELDS)}", path=where, field=unknown[0])
    if "response" not in renamed:
        raise BiasInheritError("no 'response' column: map the column holding the text with "
                               "columns={'response': '<your column>'}", path=where, field="response")


# --------------------------------------------------------------------------------------------
# readers


def iter_frame(frame: pd.DataFrame, *, columns: Mapping[str, str] | None = None, keep_extra: bool = False,
               where: str = "<DataFrame>") -> Iterator[Record]:
    """Records from a DataFrame, in slices (a frame's rows are not all turned into dicts at once).
    A bad row is named by its position, as in ``frame.iloc[i]``."""
    names = [str(c) for c in frame.columns]
    _check_table_columns(names, columns, keep_extra, where)
    return _frame_rows(frame, names, columns, keep_extra, where)


def _frame_rows(frame: pd.DataFrame, names: list[str], columns: Mapping[str, str] | None, keep_extra: bool,
                where: str) -> Iterator[Record]:
    for start in range(0, len(frame), _CHUNK):
        chunk = frame.iloc[start:start + _CHUNK]
        for offset, values in enumerate(chunk.itertuples(index=False, name=None)):
            yield _tabular_record(dict(zip(names, values)), path=f"{where} row {start + offset}", line=None,
                                  columns=columns, keep_extra=keep_extra)


def iter_csv(path: Path, *, columns: Mapping[str, str] | None = None, keep_extra: bool = False) -> Iterator[Record]:
    """Records from a CSV file, a chunk at a time; every cell is read as text (an empty one as
    missing), so ids like ``007`` keep their zeros."""
    import pandas as pd

    options: dict[str, Any] = dict(dtype=str, keep_default_na=False, na_values=[])
    try:
        names = [str(c) for c in pd.read_csv(path, nrows=0, **options).columns]
    except Exception as exc:  # pandas raises many types for malformed files
        raise BiasInheritError(f"cannot read CSV file ({exc})", path=path) from None
    _check_table_columns(names, columns, keep_extra, path)
    return _csv_rows(path, options, columns, keep_extra)


def _csv_rows(path: Path, options: dict[str, Any], columns: Mapping[str, str] | None,
              keep_extra: bool) -> Iterator[Record]:
    import pandas as pd

    line = 2  # the header is line 1
    try:
        chunks = iter(pd.read_csv(path, chunksize=_CHUNK, **options))
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            except Exception as exc:
                raise BiasInheritError(f"cannot read CSV file ({exc})", path=path) from None
            names = [str(c) for c in chunk.columns]
            for values in chunk.itertuples(index=False, name=None):
                yield _tabular_record(dict(zip(names, values)), path=path, line=line, columns=columns,
                                      keep_extra=keep_extra, empty_is_missing=True)
                line += 1
    except BiasInheritError:
        raise
    except Exception as exc:
        raise BiasInheritError(f"cannot read CSV file ({exc})", path=path) from None


def iter_parquet(path: Path, *, columns: Mapping[str, str] | None = None,
                 keep_extra: bool = False) -> Iterator[Record]:
    """Records from a Parquet file, a row group batch at a time (row numbers count from 1)."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        index = {c for c in (pf.schema_arrow.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)}
        names = [n for n in pf.schema_arrow.names if n not in index]  # pandas' saved index is not data
    except Exception as exc:
        raise BiasInheritError(f"cannot read Parquet file ({exc})", path=path) from None
    _check_table_columns(names, columns, keep_extra, path)
    return _parquet_rows(pf, names, path, columns, keep_extra)


def _parquet_rows(pf: Any, names: list[str], path: Path, columns: Mapping[str, str] | None,
                  keep_extra: bool) -> Iterator[Record]:
    line = 1
    batches = pf.iter_batches(batch_size=_CHUNK, columns=names)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except Exception as exc:
            raise BiasInheritError(f"cannot read Parquet file ({exc})", path=path) from None
        for row in batch.to_pylist():
            yield _tabular_record(row, path=path, line=line, columns=columns, keep_extra=keep_extra)
            line += 1


def load_dataset_folder(path: Path) -> datasets.Dataset | datasets.DatasetDict:
    """What ``save_to_disk`` wrote into ``path``: a Dataset or a DatasetDict."""
    import datasets

    try:
        return datasets.load_from_disk(str(path))
    except Exception as exc:
        raise BiasInheritError(f"cannot load datasets folder ({exc})", path=path) from None


def iter_dataset_folder(path: Path, *, columns: Mapping[str, str] | None = None, split: str | None = None,
                        keep_extra: bool = False) -> Iterator[Record]:
    return iter_dataset_object(load_dataset_folder(path), columns=columns, split=split, keep_extra=keep_extra,
                               where=str(path))


def _select_split(splits: Mapping[str, Any], split: str | None, where: str) -> tuple[str, Any]:
    names = list(splits)
    if not names:
        raise BiasInheritError("the DatasetDict has no splits", path=where, field="split")
    if split is None:
        if len(names) == 1:
            return names[0], splits[names[0]]
        raise BiasInheritError(f"a DatasetDict with splits {', '.join(names)}: name one with split= "
                               f"(--split), e.g. split='{names[0]}'", path=where, field="split")
    if split not in splits:
        raise BiasInheritError(f"no split '{split}' (available: {', '.join(names)}).{did_you_mean(split, names)}",
                               path=where, field="split")
    return split, splits[split]


def iter_dataset_object(
    ds: Any, *, columns: Mapping[str, str] | None = None, split: str | None = None, keep_extra: bool = False,
    where: str | None = None,
) -> Iterator[Record]:
    """Records from a ``datasets`` Dataset, IterableDataset or (one split of) a DatasetDict.

    Rows are read in Arrow batches with the dataset's format reset (a dataset set to torch or
    numpy format still reads as Python values); a ``ClassLabel`` column reads as its names. A bad
    row is named by its position, as in ``ds[i]``.
    """
    import datasets

    if isinstance(ds, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        label = where or f"<{type(ds).__name__}>"
        name, ds = _select_split(ds, split, label)
        where = f"{label}[{name!r}]"
    else:
        where = where or f"<{type(ds).__name__}>"
        declared = getattr(ds, "split", None)
        if split is not None and declared is not None and str(declared) != split:
            raise BiasInheritError(f"this dataset is the '{declared}' split, not '{split}'", path=where, field="split")
    if ds.column_names is not None:  # an IterableDataset may not know its columns before reading
        _check_table_columns(ds.column_names, columns, keep_extra, where)
    labels = {k: f for k, f in (ds.features or {}).items() if isinstance(f, datasets.ClassLabel)}
    return _dataset_rows(ds.with_format(None), labels, where, columns, keep_extra)


def _dataset_rows(ds: Any, labels: Mapping[str, Any], where: str, columns: Mapping[str, str] | None,
                  keep_extra: bool) -> Iterator[Record]:
    i = 0
    for batch in ds.iter(batch_size=_CHUNK):
        names = list(batch)
        for values in zip(*(batch[k] for k in names)):
            row = dict(zip(names, values))
            for name, feature in labels.items():
                if isinstance(row.get(name), int):  # -1 is ClassLabel's "no label"
                    row[name] = feature.int2str(row[name]) if row[name] >= 0 else None
            yield _tabular_record(row, path=f"{where} row {i}", line=None, columns=columns, keep_extra=keep_extra)
            i += 1


# --------------------------------------------------------------------------------------------
# writers


def records_to_frame(records: Iterable[Record]) -> pd.DataFrame:
    """One column per Record field; nested fields as Python lists and dicts."""
    import pandas as pd

    return pd.DataFrame([r.model_dump() for r in records], columns=list(FIELDS))


def _arrow_row(record: Record) -> dict[str, Any]:
    row = record.model_dump(mode="json")
    row["meta"] = json.dumps(row["meta"], ensure_ascii=False)
    return row


def _arrow_batches(records: Iterable[Record]) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    schema = arrow_schema()
    rows: list[dict[str, Any]] = []
    for record in records:
        rows.append(_arrow_row(record))
        if len(rows) == _CHUNK:
            yield pa.RecordBatch.from_pylist(rows, schema=schema)
            rows = []
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=schema)


def records_to_dataset(records: Iterable[Record]) -> datasets.Dataset:
    """A ``datasets.Dataset`` in our Arrow schema (an empty one keeps the schema)."""
    import datasets

    rows = [_arrow_row(r) for r in records]
    features = datasets.Features.from_arrow_schema(arrow_schema())
    return datasets.Dataset.from_dict({k: [row[k] for row in rows] for k in FIELDS}, features=features)


def write_parquet(records: Iterable[Record], path: Path) -> int:
    """Stream records into a Parquet file, a batch at a time, atomically."""
    import pyarrow.parquet as pq

    n = 0
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, arrow_schema()) as writer:
        for batch in _arrow_batches(records):
            writer.write_batch(batch)
            n += batch.num_rows
    return n


def write_csv(records: Iterable[Record], path: Path) -> int:
    """Stream records into a CSV file atomically; nested fields are JSON strings. Every field is
    quoted: unquoted, a lone carriage return in a text would end the row for most readers."""
    import pandas as pd

    n = 0
    header = True  # the first block written carries the header, even when there are no records
    with atomic_write(path) as fh:
        rows: list[dict[str, Any]] = []
        for record in records:
            row = record.model_dump(mode="json")
            for key in NESTED:
                row[key] = json.dumps(row[key], ensure_ascii=False)
            rows.append(row)
            n += 1
            if len(rows) == _CHUNK:
                pd.DataFrame(rows, columns=list(FIELDS)).to_csv(fh, index=False, header=header, quoting=csv.QUOTE_ALL)
                rows, header = [], False
        if rows or header:
            pd.DataFrame(rows, columns=list(FIELDS)).to_csv(fh, index=False, header=header, quoting=csv.QUOTE_ALL)
    return n


def write_dataset_folder(records: Iterable[Record], path: Path, *, readme: Callable[[], str]) -> int:
    """Write records as a ``save_to_disk`` folder with ``readme()`` as its ``README.md``.

    Atomic: everything is written into a temporary sibling folder that is renamed into place at
    the end. An existing empty folder or datasets folder is replaced; any other existing folder or
    file is refused (it is not ours to delete). The records stream through an Arrow file on disk,
    so they need not fit in memory. ``readme`` is called after the records are written, so a card
    can count them.
    """
    import datasets
    import pyarrow as pa

    if path.exists() and not path.is_dir():
        raise BiasInheritError("exists and is a file; format 'hf' writes a folder", path=path)
    if path.is_dir() and any(path.iterdir()) and not is_datasets_folder(path):
        raise BiasInheritError("is a folder that holds other files (not a datasets folder); refusing to "
                               "replace it: name a new or empty folder", path=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        scratch, staged = work / "records.arrow", work / "dataset"
        n = 0
        with pa.OSFile(str(scratch), "wb") as sink, pa.ipc.new_stream(sink, arrow_schema()) as stream:
            for batch in _arrow_batches(records):
                stream.write_batch(batch)
                n += batch.num_rows
        info = datasets.DatasetInfo(description="Records in the biasinherit schema; see README.md.",
                                    features=datasets.Features.from_arrow_schema(arrow_schema()))
        dataset = datasets.Dataset.from_file(str(scratch), info=info)
        quiet = datasets.are_progress_bars_disabled()
        datasets.disable_progress_bars()  # a copy of a file just written: its bar says nothing the caller wants
        try:
            dataset.save_to_disk(str(staged), num_shards=1 if n == 0 else None)  # 0 rows: still one (empty) shard
        finally:
            if not quiet:
                datasets.enable_progress_bars()
        del dataset  # release the memory map before the scratch file goes
        (staged / "README.md").write_text(readme(), encoding="utf-8")
        if path.exists():
            os.rename(path, work / "replaced")  # the old folder goes away with the work folder
        os.rename(staged, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return n
