"""The README's quickstarts run as written: audit your own data, evaluate your own model, a study
on your data and model, on the command line and in Python (see ``markdown_blocks``)."""

from __future__ import annotations

import pytest
from markdown_blocks import ROOT, failure_message, run_page, runnable_blocks

BLOCKS = runnable_blocks((ROOT / "README.md").read_text(encoding="utf-8"), "README.md")


def test_the_three_quickstarts_are_marked_runnable():
    assert {b.lang for b in BLOCKS} >= {"bash", "python", "toml"}
    assert len([b for b in BLOCKS if b.lang == "python"]) == 3  # one Python twin per quickstart


@pytest.mark.slow
def test_the_readme_quickstarts_run_as_written(tmp_path, smollm2_dir):
    result = run_page(BLOCKS, tmp_path, models_cache=smollm2_dir.parent)
    assert result.returncode == 0, failure_message("README.md", result)
    work = tmp_path / "work"
    for made in ["audit/audit.json", "eval/results.csv", "runs/mine/findings.csv", "runs/mine/report.html"]:
        assert (work / made).is_file(), made
