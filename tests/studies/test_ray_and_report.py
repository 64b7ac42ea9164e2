"""The Ray executor gives the local executor's table; the report renders in Chromium."""

import os

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def _table(run_dir):
    frame = pd.read_parquet(run_dir / "results.parquet")
    return frame.sort_values(["bias_type", "ratio", "mitigation", "seed", "task", "metric"]).reset_index(drop=True)


def test_ray_executor_matches_local(micro_run, micro_config, tmp_path, cli):
    out = tmp_path / "ray"
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    # a local Ray on 127.0.0.1, started and stopped by the command itself
    proc = cli("study", "--config", micro_config, "--out", out, "--executor", "ray", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pd.testing.assert_frame_equal(_table(out), _table(micro_run))


def test_report_plots_render_in_chromium(micro_run, render_in_chromium, tmp_path):
    shot = tmp_path / "report.png"
    rendered = render_in_chromium(micro_run / "report.html", screenshot=shot)
    assert len(rendered["sizes"]) >= 5
    assert all(w > 100 and h > 100 for w, h in rendered["sizes"])
    assert rendered["stddev"] > 10  # not blank
    narrow = render_in_chromium(micro_run / "report.html", width=800)
    assert narrow["scroll_width"] <= 800  # nothing forces a horizontal scroll in an 800-px window
