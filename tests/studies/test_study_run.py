"""A micro study end to end: table, resume, refusal of a changed config, kill -9 and resume."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from biasinherit.studies.results import COLUMNS

pytestmark = pytest.mark.slow


def _table(run_dir):
    frame = pd.read_parquet(run_dir / "results.parquet")
    return frame.sort_values(["bias_type", "ratio", "mitigation", "seed", "task", "metric"]).reset_index(drop=True)


def test_results_table_and_manifest(micro_run):
    frame = _table(micro_run)
    assert set(COLUMNS) <= set(frame.columns)
    assert set(frame["ratio"]) == {0.0, 1.0}
    assert set(frame["mitigation"]) == {"none", "mask"}
    assert set(frame["task"]) == {"coref", "stereo_pairs", "story", "toxicity_detection"}
    base = frame[frame["ratio"] == 0.0]
    assert (base["inheritance"].dropna() == 0).all() and len(base) > 0
    csv = pd.read_csv(micro_run / "results.csv")
    assert len(csv) == len(frame)
    manifest = json.loads((micro_run / "manifest.json").read_text())
    assert len(manifest["config_hash"]) == 16 and "torch" in manifest["versions"]
    assert {c["state"] for c in manifest["cells"].values()} == {"done"}
    assert {"generate", "audit", "train", "evaluate"} <= set(manifest["stages"])
    assert not list((micro_run / "cells").rglob("model.safetensors"))  # cell models are not kept by default
    assert (micro_run / "base" / "model.safetensors").exists()  # the pretrained base they fine-tuned is
    assert (micro_run / "audit" / "gender.association.json").exists()


def test_rerun_skips_every_cell(micro_run, micro_config, cli):
    before = {p: p.stat().st_mtime_ns for p in micro_run.glob("cells/*/result.json")}
    proc = cli("study", "--config", micro_config, "--out", micro_run)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "0 cells run, 3 reused" in proc.stderr
    assert {p: p.stat().st_mtime_ns for p in micro_run.glob("cells/*/result.json")} == before


def test_changed_config_is_refused_unless_forced(micro_run, micro_config, tmp_path, cli):
    changed = tmp_path / "changed.toml"
    changed.write_text(micro_config.read_text().replace("ratios = [0.0, 1.0]", "ratios = [0.0, 0.5, 1.0]"))
    proc = cli("study", "--config", changed, "--out", micro_run, "--dry-run")
    assert proc.returncode == 0  # a dry run touches nothing
    proc = cli("study", "--config", changed, "--out", micro_run)
    assert proc.returncode == 2
    assert "another config" in proc.stderr and "--force" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_kill_and_resume_gives_the_same_table(micro_run, micro_config, tmp_path, cli):
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "biasinherit", "study", "--config", str(micro_config),
                             "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list(out.glob("cells/*/result.json")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p: p.stat().st_mtime_ns for p in out.glob("cells/*/result.json")}
    assert finished, "no cell finished before the deadline"
    assert not (out / "results.parquet").exists()
    rerun = cli("study", "--config", micro_config, "--out", out)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"{len(finished)} reused" in rerun.stderr
    assert {p: p.stat().st_mtime_ns for p in finished} == finished  # no finished cell redone
    pd.testing.assert_frame_equal(_table(out), _table(micro_run))


def test_report_command_rebuilds_the_page(micro_run, cli):
    page = micro_run / "report.html"
    page.unlink()
    proc = cli("report", micro_run)
    assert proc.returncode == 0 and page.exists()
    text = page.read_text()
    assert "Inheritance curves" in text and "<svg" in text and "findings.csv" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:|url\(\s*["']?https?:""", text)  # nothing fetched


def test_report_of_a_folder_without_results(tmp_path, cli):
    proc = cli("report", tmp_path)
    assert proc.returncode == 2 and "no results.parquet" in proc.stderr
