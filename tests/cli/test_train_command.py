"""``biasinherit train`` through the real entry point: a run, and bad input as one line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from toy_mix import toy_mix

from biasinherit.records import write_jsonl


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "biasinherit", "train", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def mix_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mix") / "mix.jsonl"
    write_jsonl(toy_mix(1), path)
    return path


def test_train_writes_a_model_folder(mix_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "m"
    proc = _run("--model", "tiny-xs", "--data", str(mix_file), "--out", str(out), "--seed", "1",
                "--epochs", "1", "--mitigation", "token", "--tag-original")
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((out / "biasinherit_model.json").read_text())
    assert meta["seed"] == 1 and meta["eval_prefix"] == "<|orig|>"
    assert (out / "config.json").exists() and (out / "tokenizer.json").exists()


def _one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_unknown_mitigation_suggests_the_right_one(mix_file: Path, tmp_path: Path) -> None:
    line = _one_line_error(_run("--data", str(mix_file), "--out", str(tmp_path / "m"), "--mitigation", "mask2"))
    assert "Unknown mitigation 'mask2'. Did you mean: mask?" in line


def test_negative_lambda_is_rejected(mix_file: Path, tmp_path: Path) -> None:
    line = _one_line_error(_run("--data", str(mix_file), "--out", str(tmp_path / "m"), "--mitigation",
                                "loss", "--lambda", "-1"))
    assert "lambda_aug must be >= 0, got -1.0" in line


def test_token_mitigation_without_source_fields(tmp_path: Path) -> None:
    path = tmp_path / "nosource.jsonl"
    path.write_text("\n".join(json.dumps({"prompt": r.prompt, "response": r.response})
                              for r in toy_mix(1)) + "\n")
    line = _one_line_error(_run("--data", str(path), "--out", str(tmp_path / "m"), "--mitigation", "token"))
    assert f"{path}:1 field 'source': record has no 'source' field" in line
    assert not (tmp_path / "m").exists()  # nothing half-written
