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
[mix]
size = 40
[mitigation]
names = ["mask"]
bias_types = ["gender.association"]
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


def _kind_library(root: Path, lib: dict[str, Path]) -> dict[str, Path]:
    """One folder of each kind a command writes (a study run is ``run`` and a model ``model``,
    above): a real evaluation, dataset folder and lm-eval export; the audit folder holds its
    two files only (a folder's kind is read from the names of the files in it)."""
    import biasinherit
    from biasinherit.records import read_records, write_records

    root.mkdir(parents=True)
    evaluation = root / "evaluation"
    biasinherit.evaluate(str(lib["model"]), tasks="coref", limit=2, n_boot=0, out=evaluation)
    audit = root / "audit_folder"
    _write(audit / "audit.json", json.dumps({"inputs": {"original": "o.jsonl", "augmented": "a.jsonl"}}))
    _write(audit / "audit.html", "<html></html>\n")
    dataset = root / "dataset"
    write_records(read_records(lib["corpus"])[:10], dataset, format="hf")
    lm_eval = root / "lm_eval"
    try:
        from biasinherit.integrations.lm_eval_tasks import write_lm_eval_tasks
    except ImportError:  # the export is not built yet: its marker file is what makes the kind
        _write(lm_eval / "biasinherit_lm_eval.json", "{}")
    else:
        write_lm_eval_tasks(lm_eval, tasks="coref", limit=2)
    return {"evaluation": evaluation, "audit_folder": audit, "dataset": dataset, "lm_eval": lm_eval}


# a small file in each benchmark's own format (rows written for these tests, not the benchmarks')
BENCHMARK_FILES = {
    "crows_pairs.csv": "sent_more,sent_less,stereo_antistereo,bias_type\n"
                       "Tom is a nurse.,Ann is a nurse.,antistereo,gender\n",
    "bbq.jsonl": json.dumps({"context": "Two people met.", "question": "Who was late?", "ans0": "the man",
                             "ans1": "the woman", "ans2": "Unknown", "label": 2, "context_condition": "ambig",
                             "question_polarity": "neg", "category": "Gender_identity",
                             "answer_info": {"ans0": ["man", "M"], "ans1": ["woman", "F"], "ans2": ["Unknown", "unknown"]},
                             "additional_metadata": {"stereotyped_groups": ["F"]}}) + "\n",
    "pro_stereotyped_type1.txt.test": "1 [The developer] argued with the designer because [he] was late.\n",
    "all_sentences.tsv": "sentid\tsentence\ntechnician.customer.1.male.txt\tThe technician told the customer that he "
                         "could pay with cash.\n",
}
BENCHMARK_OWN_FILE = {"crows_pairs": "crows_pairs.csv", "bbq": "bbq.jsonl", "winobias": "pro_stereotyped_type1.txt.test",
                      "winogender": "all_sentences.tsv"}


def _benchmark_library(root: Path, lib: dict[str, Path]) -> dict[str, Path]:
    out = {f"bench:{name}": _write(root / name, text) for name, text in BENCHMARK_FILES.items()}
    out["bench:records.jsonl"] = lib["corpus"]
    out["bench:array.json"] = _write(root / "array.json", json.dumps([{"response": "a"}, {"response": "b"}]))
    return out


def _misc_library(root: Path, lib: dict[str, Path]) -> dict[str, Path]:
    """Inputs of the newer kinds: a JSON array given as JSONL, a run folder whose findings are
    empty (a study of an older version with an empty grid), a symlink loop kept in the library
    (a loop cannot be copied into a workspace) and a study config whose data is that loop."""
    out = {
        "array_jsonl": _write(root / "array.jsonl", json.dumps([{"response": "a"}, {"response": "b"}]) + "\n"),
        "array_pretty": _write(root / "pretty.json", json.dumps([{"response": "a"}, {"response": "b"}], indent=2)),
    }
    empty_run = root / "empty_findings_run"
    shutil.copytree(lib["run"], empty_run)
    _write(empty_run / "findings.csv", "")
    _write(empty_run / "summary.csv", "")
    out["empty_findings_run"] = empty_run
    loop = root / "loop.jsonl"
    os.symlink(loop.name, loop)
    out["lib_loop"] = loop
    out["study_loop_data"] = _write(root / "loop_data.toml", MICRO_STUDY.replace(
        "corpus_size = 40\n[mix]\nsize = 40", f'path = "{loop}"'))
    return out


# study configs that are valid key by key but do not mean what they say, as edits of the micro
# study: name -> (text replaced, replacement, the config key the error must name)
CONFIG_MUTATIONS: dict[str, tuple[str, str, str]] = {
    "ratios-empty": ("ratios = [0.0, 1.0]", "ratios = []", "ratios"),
    "bias-types-empty": ('bias_types = ["gender.association"]', "bias_types = []", "bias_types"),
    "bias-types-duplicate": ('bias_types = ["gender.association"]',
                             'bias_types = ["gender.association", "gender.association"]', "bias_types"),
    "seeds-duplicate": ("ratios = [0.0, 1.0]", "ratios = [0.0, 1.0]\nseeds = [0, 0]", "seeds"),
    "ratios-duplicate": ("ratios = [0.0, 1.0]", "ratios = [0.0, 1.0, 1.0]", "ratios"),
    "tasks-empty": ('names = ["coref"]', "names = []", "tasks.names"),
    "mitigation-type-not-in-study": ('bias_types = ["gender.association"]\n[tasks]',
                                     'bias_types = ["gender.stereotype"]\n[tasks]', "mitigation.bias_types"),
    "mitigation-default-type-not-in-study": ('bias_types = ["gender.association"]\n[tasks]', "[tasks]",
                                             "mitigation.bias_types"),
    "mitigation-ratio-without-baseline": ('names = ["mask"]', 'names = ["mask"]\nratios = [0.5]', "mitigation.ratios"),
    "data-path-and-corpus-size": ("corpus_size = 40", 'corpus_size = 40\npath = "corpus.jsonl"', "data.corpus_size"),
    "mix-size-above-corpus": ("[mix]\nsize = 40", "[mix]\nsize = 600", "[data] corpus_size"),
    "mix-size-in-add-mode": ("[mix]\nsize = 40", '[mix]\nsize = 40\nmode = "add"', "mix.size"),
    "intensity-nan": ("ratios = [0.0, 1.0]", "ratios = [0.0, 1.0]\nintensity = nan", "NaN"),
    "ratio-nan": ("ratios = [0.0, 1.0]", "ratios = [0.0, nan]", "NaN"),
    "dtype-float8": ('model = "tiny-xs"', 'model = "tiny-xs"\ndtype = "float8"', "model.dtype"),
    "polarity-without-stereotype": ("ratios = [0.0, 1.0]", 'ratios = [0.0, 1.0]\npolarity = "negative"', "polarity"),
    "generator-option-value": ("ratios = [0.0, 1.0]", 'ratios = [0.0, 1.0]\n[generator]\nname = "hf"\n'
                               'options = { model = "m", temperature = -1.0 }', "generator.options.temperature"),
}


def _config_library(root: Path, lib: dict[str, Path]) -> dict[str, Path]:
    out = {}
    for name, (old, new, _) in CONFIG_MUTATIONS.items():
        assert old in MICRO_STUDY, name
        out[f"config:{name}"] = _write(root / f"{name}.toml", MICRO_STUDY.replace(old, new, 1))
    # the data file holds 60 records; the mix asks for 600 (said before pretraining, naming both)
    out["config:mix-size-above-data-file"] = _write(root / "mix-size-above-data-file.toml", MICRO_STUDY.replace(
        "corpus_size = 40\n[mix]\nsize = 40", f'path = "{lib["corpus"]}"\n[mix]\nsize = 600'))
    return out


def build_library(root: Path) -> dict[str, Path]:
    """Name -> path of every input the cases use (each case works on copies)."""
    lib = _records_library(root / "records")
    lib.update(_model_library(root / "models"))
    lib.update(_run_library(root / "runs"))
    lib.update(_study_library(root / "studies", lib))
    lib.update(_kind_library(root / "kinds", lib))
    lib.update(_benchmark_library(root / "benchmarks", lib))
    lib.update(_misc_library(root / "misc", lib))
    lib.update(_config_library(root / "configs", lib))
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
        if path.is_symlink():  # a link (a loop among them) is what it points to, never its target's bytes
            out[rel] = "link -> " + os.readlink(path)
        else:
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
        if name.startswith("loop:"):  # a symlink that leads to itself, made here under that name
            link = self.root / name[len("loop:"):]
            if not link.is_symlink():
                os.symlink(link.name, link)
            return str(link)
        if name.startswith("loop2:"):  # NAME -> NAME.other -> NAME
            link = self.root / name[len("loop2:"):]
            if not link.is_symlink():
                os.symlink(link.name + ".other", link)
                os.symlink(link.name, link.with_name(link.name + ".other"))
            return str(link)
        if name.startswith("lib:"):  # the library's own path, not a copy (a loop cannot be copied)
            return str(self.library[name[len("lib:"):]])
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
