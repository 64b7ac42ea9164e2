"""Reading benchmark rows from a local file or the Hugging Face hub, with one-line errors."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.records import iter_json_objects

__all__ = ["NEEDS", "check_file_kind", "describe_kind", "iter_csv", "iter_jsonl", "iter_hub", "require", "sniff", "wrong_kind"]

# what each benchmark reads, said whenever a file is of the wrong kind
NEEDS = {
    "crows_pairs": "a CSV file with the columns sent_more, sent_less, stereo_antistereo, bias_type "
                   "(CrowS-Pairs' crows_pairs_anonymized.csv)",
    "bbq": "a JSONL file (one JSON object per line) with the fields context, question, ans0, ans1, ans2, label, "
           "context_condition, question_polarity, answer_info, additional_metadata, category (BBQ's "
           "data/<Category>.jsonl), or a folder of them",
    "winobias": "WinoBias text files named pro_* and anti_* (e.g. pro_stereotyped_type1.txt.test) whose lines read "
                "'N sentence' with the mention and its pronoun in [brackets], or their folder",
    "winogender": "a TSV file with the columns sentid, sentence (Winogender's all_sentences.tsv), or its folder",
}

_KIND_WORDS = {"jsonl": "JSONL (JSON objects)", "json array": "a JSON array", "csv": "CSV", "tsv": "TSV",
               "text": "plain text", "empty": "empty"}


def sniff(path: Path) -> str:
    """What a file looks like from its first line: ``jsonl``, ``json array``, ``csv``, ``tsv``,
    ``text``, ``empty``, or ``undecodable`` (not UTF-8 text; the readers say so themselves)."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if b"\x00" in head:
        return "undecodable"
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the block
            return "undecodable"
        text = head[:exc.start].decode("utf-8-sig", errors="ignore")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        return "empty"
    if first.startswith("{"):
        return "jsonl"
    if first.startswith("["):
        return "json array"
    tabs, commas = first.count("\t"), first.count(",")
    if tabs and tabs >= commas:
        return "tsv"
    return "csv" if commas else "text"


def wrong_kind(benchmark: str, path: Path | str, found: str, *, line: int | None = None) -> BiasInheritError:
    """One line: what the file is (``found``), and what ``benchmark`` needs."""
    return BiasInheritError(f"{found}; {benchmark} needs {NEEDS[benchmark]}", path=path, line=line)


def check_file_kind(benchmark: str, path: Path, expected: tuple[str, ...]) -> None:
    """Refuse a file that does not look like one of ``expected`` (see :func:`sniff`)."""
    if not path.is_file():
        return
    kind = sniff(path)
    if kind == "undecodable":
        raise wrong_kind(benchmark, path, "not UTF-8 text (a binary file?)")
    if kind in (*expected, "empty"):
        return
    raise wrong_kind(benchmark, path, f"this file looks like {describe_kind(kind)}")


def describe_kind(kind: str) -> str:
    """``jsonl`` -> ``JSONL (JSON objects)``, as :func:`sniff`'s kinds are said in messages."""
    return _KIND_WORDS.get(kind, kind)


def require(row: dict[str, Any], fields: Sequence[str], path: Path | str, line: int) -> None:
    for f in fields:
        if f not in row or row[f] is None:
            raise BiasInheritError("required column is missing", path=path, line=line, field=f)


def _header_text(header: Sequence[str], limit: int = 120) -> str:
    text = ", ".join(h for h in header if h) or "none"
    return text if len(text) <= limit else text[:limit].rsplit(",", 1)[0] + ", ..."


def iter_csv(path: Path, *, delimiter: str = ",", required: Sequence[str] = (),
             benchmark: str | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV/TSV file with a header (a UTF-8 byte-order mark is allowed); extra columns,
    an unnamed index column among them, are kept as they are. A header without the ``required``
    columns says, for a ``benchmark``, what that benchmark needs."""
    if not path.is_file():
        raise BiasInheritError("file not found", path=path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        try:
            header = reader.fieldnames or []
            missing = [f for f in required if f not in header]
            if missing and benchmark is not None:
                raise wrong_kind(benchmark, path, f"no column {', '.join(missing)} (its header: "
                                                  f"{_header_text(header)})", line=1)
            for f in missing:
                raise BiasInheritError(f"required column is missing (columns: {_header_text(header)})",
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
