"""Ctrl-C during a long command: exit status 130, one line saying so, no traceback, nothing
half-written, no process left behind. Real processes, interrupted the way a terminal does it
(SIGINT to the whole process group) once the command is busy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")]


def _start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """The command as a terminal starts it: its own process group, Ctrl-C at its default (a test
    run before this one may leave the worker ignoring it, and an ignored signal is inherited)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "biasinherit", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_default_interrupts)


def _default_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_busy(proc: subprocess.Popen[str], ready: callable, timeout: float = 60.0) -> None:  # type: ignore[valid-type]
    """Until ``ready()`` says the command is in its work (imports done, output begun)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the command never got busy"
        time.sleep(0.1)


def _interrupt(proc: subprocess.Popen[str], within: float = 60.0) -> tuple[int, str]:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=within)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10.0
    while _running_in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running_in_group(proc.pid), "processes of the command are still running"
    return proc.returncode, err


def _running_in_group(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, read from /proc."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            live.append(int(stat.parent.name))
    return live


def _assert_interrupted(code: int, err: str) -> None:
    """Exit 130, the message last, and nothing else but progress lines (a study's bar)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 130, err
    assert "Traceback" not in err and "Warning" not in err, err
    assert lines and lines[-1].startswith("interrupted"), err
    assert all(line.startswith("cells") for line in lines[:-1]), err


def _no_temporary_files(folder: Path) -> None:
    leftovers = [p for p in folder.rglob("*") if p.name.startswith(".") and ".tmp" in p.name or
                 p.name.endswith(".tmp")]
    assert not leftovers, leftovers


def test_interrupted_corpus_writes_nothing(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = _start("corpus", "--size", "1000000", "--out", "corpus.jsonl", cwd=tmp_path)
    _wait_busy(proc, lambda: time.monotonic() - started > 4.0)  # imports take ~1 s; building ~100 s
    _assert_interrupted(*_interrupt(proc, within=20))
    assert list(tmp_path.iterdir()) == []


def test_interrupted_training_leaves_no_model(tmp_path: Path) -> None:
    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.records import write_jsonl

    write_jsonl(build_corpus(CorpusConfig(size=400, seed=0)), tmp_path / "data.jsonl")
    proc = _start("train", "--data", "data.jsonl", "--model", "tiny-xs", "--epochs", "200", "--out", "model",
                  cwd=tmp_path)
    started = time.monotonic()
    _wait_busy(proc, lambda: time.monotonic() - started > 8.0)  # imports, tokenizer, first steps
    _assert_interrupted(*_interrupt(proc, within=30))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl"]


def test_interrupted_study_stops_its_workers_and_releases_the_folder(tmp_path: Path) -> None:
    config = tmp_path / "study.toml"
    config.write_text("""
bias_types = ["gender.association"]
ratios = [0.0, 0.5, 1.0]
[data]
corpus_size = 400
[mix]
size = 400
[mitigation]
names = ["mask"]
bias_types = ["gender.association"]
[tasks]
names = ["coref"]
limit = 8
[model]
model = "tiny-xs"
epochs = 30
batch_size = 8
[audit]
max_records = 60
permutations = 20
[executor]
workers = 2
""")
    run = tmp_path / "run"
    proc = _start("study", "--config", str(config), "--out", str(run), cwd=tmp_path)
    # busy once the shared data is written and the cells have been handed to the workers
    _wait_busy(proc, lambda: (run / "manifest.json").exists() and
               '"pending"' in (run / "manifest.json").read_text(), timeout=120)
    time.sleep(2.0)
    code, err = _interrupt(proc, within=30)
    _assert_interrupted(code, err)
    _no_temporary_files(run)
    from biasinherit.studies.lock import study_lock

    with study_lock(run):  # the lock died with the process
        pass
