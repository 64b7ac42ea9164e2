"""Support of the bad-input suite: a library of good and damaged inputs built once, a fresh
workspace per case holding copies of what the case names, and an in-process runner (the
fixtures that use them are in conftest.py).

The runner calls ``biasinherit.cli.main`` in this process (the same function the console script
calls; the exit status is what ``sys.exit`` gets), which keeps a case to milliseconds instead of
an interpreter start. Interrupts and the study lock need real processes and live elsewhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

MICRO_STUDY = """
name = "micro"
bias_types = ["gender.association"]
ratios = [0.0, 1.0]
[data]
corpus_size = 40
[mitigation]
names = ["mask"]
[tasks]
names = ["coref"]
limit = 4
[model]
model = "tiny-xs"
epochs = 1
batch_size = 8
[audit]
enabled = false
"""


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def _records_library(root: Path) -> dict[str, Path]:
    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.generators import GenerationRequest, get_generator
    from biasinherit.records import write_jsonl, write_records

    corpus = build_corpus(CorpusConfig(size=60, seed=0))
    aug = get_generator("builtin").generate(corpus, GenerationRequest(bias_type="gender.association", n=60, seed=0))
    lib = {"corpus": root / "corpus.jsonl", "aug": root / "aug.jsonl"}
    write_jsonl(corpus, lib["corpus"])
    write_jsonl(aug, lib["aug"])
    write_records(corpus[:20], root / "corpus.csv")
    lib["csv"] = root / "corpus.csv"
    good = '{"response": "A nurse helped.", "id": "r1"}\n'
    lib.update({
        "binary": _write(root / "binary.jsonl", bytes(range(256)) * 4),
        "latin1": _write(root / "latin1.jsonl", '{"response": "café"}\n'.encode("latin-1")),
        "nul": _write(root / "nul.jsonl", good + '{"response": "a\x00b"}\n'),
        "deep": _write(root / "deep.jsonl", good + "[" * 100_000 + "]" * 100_000 + "\n"),
        "surrogate": _write(root / "surrogate.jsonl", good + '{"response": "\\ud800 lone"}\n'),
        "wrong_type": _write(root / "wrong_type.jsonl", '{"response": 5}\n'),
        "not_object": _write(root / "not_object.jsonl", '["a", "list"]\n'),
        "bad_span": _write(root / "bad_span.jsonl",
                           '{"response": "ab", "spans": [{"start": 0, "end": 99999999999999999999}]}\n'),
        "empty": _write(root / "empty.jsonl", ""),
        "dup_ids": _write(root / "dup_ids.jsonl", good + good),
        "binary_csv": _write(root / "binary.csv", b"\xff\xfe\x00garbage\x00" * 50),
        "binary_parquet": _write(root / "binary.parquet", b"PAR1" + os.urandom(300)),
        "no_suffix": _write(root / "records", good),
        "folder": root / "a_folder",
        "file": _write(root / "plain.txt", "just a file\n"),
    })
    lib["folder"].mkdir()
    (lib["folder"] / "note.txt").write_text("not a model, not records\n")
    # same ids in the corpus and an "augmented" file
    _write(root / "shares_ids.jsonl", lib["corpus"].read_text().splitlines()[0] + "\n")
    lib["shares_ids"] = root / "shares_ids.jsonl"
    # a record whose response is cut away by --max-length 8
    _write(root / "long_prompt.jsonl", json.dumps({"prompt": "word " * 200, "response": "yes"}) + "\n")
    lib["long_prompt"] = root / "long_prompt.jsonl"
    return lib


def _model_library(root: Path) -> dict[str, Path]:
    from tiny_lm import build_tiny_lm, save_tiny_lm

    model, tokenizer = build_tiny_lm()
    good = save_tiny_lm(model, tokenizer, root / "model")
    lib = {"model": good}

    def variant(name: str, damage: Callable[[Path], None]) -> None:
        folder = root / name
        shutil.copytree(good, folder)
        damage(folder)
        lib[name] = folder

    def truncate(folder: Path) -> None:
        weights = folder / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])

    variant("truncated_model", truncate)
    variant("empty_weights", lambda f: (f / "model.safetensors").write_bytes(b""))
    variant("corrupt_metadata", lambda f: _write(f / "biasinherit_model.json", '{"backend": "tiny", '))
    variant("bad_metadata", lambda f: _write(f / "biasinherit_model.json",
                                             '{"backend": "tiny", "base_model": "x", "seed": "many"}'))
    variant("binary_metadata", lambda f: _write(f / "biasinherit_model.json", b"\xff\xfe\x00\x01"))
    variant("corrupt_config", lambda f: _write(f / "config.json", "{not json"))
    variant("no_tokenizer", lambda f: [(f / n).unlink() for n in ("tokenizer.json", "tokenizer_config.json")
                                       if (f / n).exists()])
    return lib


def _run_library(root: Path) -> dict[str, Path]:
    import pandas as pd

    rows = [{"bias_type": "gender.association", "ratio": r, "mitigation": "none", "seed": 0, "task": "coref",
             "metric": "accuracy", "kind": "performance", "value": 0.5 + r / 10, "ci_low": 0.4, "ci_high": 0.6,
             "n": 8, "higher_is_better": True, "ideal": 1.0, "inheritance": r / 10, "bias_shift": 0.0}
            for r in (0.0, 1.0)]
    good = root / "run"
    good.mkdir(parents=True)
    pd.DataFrame(rows).to_parquet(good / "results.parquet", index=False)
    _write(good / "manifest.json", json.dumps({"config": {}, "config_hash": "x", "stages": {}, "cells": {}}))
    lib = {"run": good}

    def variant(name: str, damage: Callable[[Path], None]) -> None:
        folder = root / name
        shutil.copytree(good, folder)
        damage(folder)
        lib[name] = folder

    table = good / "results.parquet"
    variant("corrupt_results", lambda f: _write(f / "results.parquet", os.urandom(2000)))
    variant("truncated_results", lambda f: _write(f / "results.parquet", table.read_bytes()[:-40]))
    variant("foreign_results", lambda f: pd.DataFrame({"a": [1]}).to_parquet(f / "results.parquet"))
    variant("corrupt_manifest", lambda f: _write(f / "manifest.json", "{\"config\": "))
    variant("binary_manifest", lambda f: _write(f / "manifest.json", b"\x00\xff" * 30))
    variant("corrupt_audit", lambda f: _write(f / "audit" / "gender.association.json", "[1, 2"))
    variant("no_results", lambda f: (f / "results.parquet").unlink())
    variant("report_is_folder", lambda f: (f / "report.html").mkdir())
    return lib


def _study_library(root: Path, records: dict[str, Path]) -> dict[str, Path]:
    lib = {
        "study": _write(root / "micro.toml", MICRO_STUDY),
        "study_binary": _write(root / "binary.toml", bytes(range(256))),
        "study_latin1": _write(root / "latin1.toml", 'name = "café"\n'.encode("latin-1")),
        "study_bad_toml": _write(root / "bad.toml", "name = [unclosed\n"),
        "study_unknown_key": _write(root / "unknown.toml", MICRO_STUDY + "\nratioz = [0.5]\n"),
        "study_huge": _write(root / "huge.toml", MICRO_STUDY.replace("corpus_size = 40",
                                                                       "corpus_size = 99999999999999999999")),
        "study_bad_seed": _write(root / "seed.toml", MICRO_STUDY.replace('ratios = [0.0, 1.0]',
                                                                          'ratios = [0.0, 1.0]\nseeds = [-1]')),
        "study_yaml_list": _write(root / "list.yaml", "- a\n- b\n"),
        "study_wrong_type": _write(root / "wrong_type.yaml", "ratios: half\n"),
        "study_suffix": _write(root / "study.ini", "[x]\n"),
        "study_binary_data": _write(root / "binary_data.toml", MICRO_STUDY.replace(
            "corpus_size = 40", f'path = "{records["binary"]}"')),
        "study_empty_data": _write(root / "empty_data.toml", MICRO_STUDY.replace(
            "corpus_size = 40", f'path = "{records["empty"]}"')),
        "study_missing_model": _write(root / "missing_model.toml", MICRO_STUDY.replace(
            'model = "tiny-xs"', 'model = "hf:./no-such-model"')),
    }
    damaged = root / "damaged_run"
    damaged.mkdir(parents=True)
    _write(damaged / "manifest.json", "{\"config_hash\": ")
    lib["damaged_run"] = damaged
    return lib


def build_library(root: Path) -> dict[str, Path]:
    """Name -> path of every input the cases use (each case works on copies)."""
    lib = _records_library(root / "records")
    lib.update(_model_library(root / "models"))
    lib.update(_run_library(root / "runs"))
    lib.update(_study_library(root / "studies", lib))
    return lib


def _unwritable_folder(root: Path) -> Path | None:
    """A folder this process cannot write in: a read-only folder for a normal user; for root
    (which ignores permission bits) a read-only system folder, if there is one."""
    if os.geteuid() != 0:
        folder = root / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    for candidate in ("/sys", "/proc/self"):
        try:
            with tempfile.TemporaryFile(dir=candidate):
                pass
        except OSError:
            return Path(candidate)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` with a digest of its bytes (a study folder's
    ``.lock`` is the lock itself, not an output, and may appear in an existing run folder)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.name == ".lock":
            continue
        rel = str(path.relative_to(folder))
        out[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


class Workspace:
    """A case's folder: ``{name}`` in an argument is a copy of the library's ``name`` here."""

    def __init__(self, root: Path, library: dict[str, Path]) -> None:
        self.root = root
        self.library = library
        self.unwritable: Path | None = None

    def resolve(self, arg: str) -> str:
        if "{" not in arg:
            return arg
        out = arg
        while "{" in out:
            start = out.index("{")
            end = out.index("}", start)
            name = out[start + 1:end]
            out = out[:start] + self._value(name) + out[end + 1:]
        return out

    def _value(self, name: str) -> str:
        if name == "ws":
            return str(self.root)
        if name == "free_port":
            return str(free_port())
        if name == "unwritable":
            if self.unwritable is None:
                self.unwritable = _unwritable_folder(self.root.parent)
            if self.unwritable is None:
                pytest.skip("no folder here is unwritable for this user")
            return str(self.unwritable)
        source = self.library[name]
        target = self.root / source.name
        if not target.exists():
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
        return str(target)


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    """``biasinherit ARGV`` through ``cli.main`` in this process: (exit status, stdout, stderr)."""
    from biasinherit.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()
