"""One study per run folder: a second process is refused with one line while the first runs, and
a study killed with SIGKILL leaves no lock behind (the kernel drops it with the process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from biasinherit.studies.lock import LOCK_FILE, study_lock

LONG_STUDY = """
bias_types = ["gender.association"]
ratios = [0.0, 1.0]
[data]
corpus_size = 300
[mix]
size = 300
[mitigation]
names = ["mask"]
bias_types = ["gender.association"]
[tasks]
names = ["coref"]
limit = 8
[model]
model = "tiny-xs"
epochs = 500
batch_size = 8
[audit]
enabled = false
[executor]
workers = 1
"""


def _holder_pid(run: Path) -> int | None:
    try:
        return int(json.loads((run / LOCK_FILE).read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def _study(config: Path, run: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "biasinherit", "study", "--config", str(config), "--out", str(run)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.slow
def test_a_second_study_is_refused_and_kill_9_leaves_no_stuck_lock(tmp_path: Path) -> None:
    config = tmp_path / "long.toml"
    config.write_text(LONG_STUDY)
    run = tmp_path / "run"
    first = _study(config, run)
    try:
        deadline = time.monotonic() + 60
        while _holder_pid(run) != first.pid:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first study never took the lock"
            time.sleep(0.1)

        second = subprocess.run([sys.executable, "-m", "biasinherit", "study", "--config", str(config),
                                 "--out", str(run)], capture_output=True, text=True, timeout=60)
        lines = second.stderr.strip().splitlines()
        assert second.returncode == 2, second.stderr
        assert len(lines) == 1 and "another study is running in this folder" in lines[0], second.stderr
        assert f"pid {first.pid}" in lines[0]
        assert first.poll() is None  # the first one goes on

        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    assert _holder_pid(run) == first.pid  # the dead holder's name is still in the file ...
    third = subprocess.run([sys.executable, "-c", "import sys; from biasinherit.studies.lock import study_lock\n"
                            "with study_lock(sys.argv[1]): print('held')", str(run)],
                           capture_output=True, text=True, timeout=60)
    assert third.returncode == 0 and third.stdout.strip() == "held", third.stderr  # ... but it is not held


def test_the_lock_is_reentrant_in_a_process_and_exclusive_across_processes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with study_lock(run), study_lock(run):  # the command line and run_study both take it
        other = subprocess.run([sys.executable, "-c", "import sys; from biasinherit.studies.lock import study_lock\n"
                                "from biasinherit.errors import BiasInheritError\n"
                                "try:\n    study_lock(sys.argv[1]).__enter__()\nexcept BiasInheritError as e:\n"
                                "    print(e.one_line())", str(run)], capture_output=True, text=True, timeout=60)
        assert f"pid {os.getpid()}" in other.stdout, other.stdout + other.stderr
    released = subprocess.run([sys.executable, "-c", "import sys; from biasinherit.studies.lock import study_lock\n"
                               "with study_lock(sys.argv[1]): print('held')", str(run)],
                              capture_output=True, text=True, timeout=60)
    assert released.stdout.strip() == "held", released.stderr  # free once the outer hold ended
