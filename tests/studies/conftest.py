import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MICRO = """
name = "micro"
bias_types = ["gender.association"]
ratios = [0.0, 1.0]
seeds = [0]
[data]
corpus_size = 160
[mix]
size = 160
[mitigation]
names = ["mask"]
ratios = [1.0]
bias_types = ["gender.association"]
[tasks]
names = ["coref", "stereo_pairs", "story", "toxicity_detection"]
limit = 8
[model]
model = "tiny"
epochs = 1
batch_size = 8
[audit]
max_records = 60
permutations = 20
frechet_permutations = 10
[executor]
# three one-second cells: in this process, without starting worker processes (their imports
# cost more than the cells); tests/bad_input/test_interrupts.py runs a pool of two
workers = 1
"""


@pytest.fixture(scope="session")
def micro_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("study-config") / "micro.toml"
    path.write_text(MICRO)
    return path


def run_cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "biasinherit", *map(str, args)],
                          capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="session")
def cli():
    """Run ``biasinherit ARGS`` in a subprocess; returns the CompletedProcess."""
    return run_cli


@pytest.fixture(scope="session")
def micro_run(micro_config, tmp_path_factory) -> Path:
    """The micro study run once, uninterrupted, with the local executor."""
    out = tmp_path_factory.mktemp("study") / "local"
    proc = run_cli("study", "--config", micro_config, "--out", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"report: {out / 'report.html'}" in proc.stdout
    return out


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None
