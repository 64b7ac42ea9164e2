"""The documentation site builds with ``mkdocs build --strict`` (a broken link or anchor fails it);
the references generated from the code match the code; the hand-written pages keep the shape the
on-ramp promises (a short README, measurement records only in their own pages)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_blocks import fenced_blocks

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RECORD_PAGES = {"docs/validation.md", "docs/benchmarks.md", "docs/detection-power.md"}
SITE_FILES = ["mkdocs.yml", "README.md", "CONTRIBUTING.md", "CHANGELOG.md", "CITATION.cff"]


def _page_names() -> list[str]:
    return ["README.md", "CONTRIBUTING.md", "CHANGELOG.md",
            *sorted(str(p.relative_to(ROOT)) for p in DOCS.rglob("*.md"))]


def _gen_reference():
    spec = importlib.util.spec_from_file_location("docs_gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mkdocs(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)], cwd=project,
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    # mkdocs comes with the docs extra, which `make test` installs: missing, this fails (no skip)
    site = tmp_path_factory.mktemp("site")
    result = _mkdocs(ROOT, site)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-4000:]}"
    return site


def test_the_site_builds_strictly_with_every_page(site):
    for page in ["index.html", "concepts.html", "data.html", "studies.html", "validation.html",
                 "benchmarks.html", "detection-power.html", "api.html", "lm-eval.html", "CONTRIBUTING.html",
                 "CHANGELOG.html", "reference/cli.html", "reference/study-config.html",
                 "reference/metrics.html", "reference/python.html"]:
        assert (site / page).is_file(), page
    assert (site / "CITATION.cff").read_bytes() == (ROOT / "CITATION.cff").read_bytes()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'src="img/inheritance.png"' in home  # the README's picture, at the site's path
    assert 'href="data.html"' in home  # the README's docs/ links, made relative to the site
    python_api = (site / "reference" / "python.html").read_text(encoding="utf-8")
    # mkdocstrings read the API from the source: audit's signature and the first words of its docstring
    assert 'id="biasinherit.api.audit"' in python_api
    assert "max_embedded" in python_api and "Compare" in python_api


def test_a_broken_anchor_fails_the_strict_build(tmp_path):
    """--strict is what makes a dead link a failure: prove it on a copy with one broken anchor."""
    project = tmp_path / "project"
    project.mkdir()
    for name in SITE_FILES:
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(DOCS, project / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "src").symlink_to(ROOT / "src")
    with (project / "docs" / "data.md").open("a", encoding="utf-8") as fh:
        fh.write("\nSee [the ratio](concepts.md#no-such-section).\n")
    result = _mkdocs(project, tmp_path / "site")
    assert result.returncode != 0
    assert "no-such-section" in result.stderr


# ---- the references generated from the code ---------------------------------------------------

def _help_flags(args: list[str]) -> set[str]:
    env = dict(os.environ, COLUMNS="250", TERM="dumb", NO_COLOR="1")
    out = subprocess.run([sys.executable, "-m", "biasinherit", *args, "--help"], capture_output=True, text=True,
                         env=env, timeout=60).stdout
    # an option name, not one inside other text ('lm_eval --include_path' in a help line)
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*(?![\w])", out)) - {"--help"}


@pytest.mark.parametrize("command", [["corpus"], ["generate"], ["mix"], ["train"], ["evaluate"], ["audit"],
                                     ["study"], ["report"], ["lm-eval-tasks"], ["models", "fetch"],
                                     ["models", "list"]])
def test_the_cli_reference_lists_every_option_help_shows(command):
    reference = _gen_reference().cli_reference()
    heading = f"`biasinherit {' '.join(command)}`"
    assert heading in reference
    section = reference.split(heading, 1)[1].split("\n## ", 1)[0]
    if command[0] == "models":
        section = section.split("\n### ", 1)[0]
    flags = _help_flags(command)
    assert flags or command == ["report"], command  # report takes RUN_DIR only
    missing = sorted(f for f in flags if f"`{f}`" not in section)
    assert not missing, f"{command}: --help shows {missing}, the reference does not"


def test_the_cli_reference_gives_defaults_and_ranges_as_the_code_does():
    reference = _gen_reference().cli_reference()
    corpus = reference.split("`biasinherit corpus`", 1)[1].split("\n## ", 1)[0]
    assert "| `--size` | int, 1 to 1,000,000 | `2000` |" in corpus
    evaluate = reference.split("`biasinherit evaluate`", 1)[1].split("\n## ", 1)[0]
    assert "| `--out` | path | `eval` |" in evaluate
    assert "`--save-generations` / `--no-save-generations` | flag | `--save-generations`" in evaluate
    report = reference.split("`biasinherit report`", 1)[1].split("\n## ", 1)[0]
    assert "biasinherit report RUN_DIR [OPTIONS]" in report and "| `RUN_DIR` | path |" in report


def test_the_study_config_reference_has_every_key_with_each_presets_value():
    from pydantic import BaseModel

    from biasinherit.studies.config import StudyConfig
    from biasinherit.studies.presets import PRESETS
    from biasinherit.training.config import TrainConfig

    reference = _gen_reference().study_config_reference()
    for key, field in StudyConfig.model_fields.items():
        section = field.annotation
        if key == "model":
            keys = [k for k in TrainConfig.model_fields if k not in ("seed", "mitigations")]
            assert "## `[model]`" in reference
        elif isinstance(section, type) and issubclass(section, BaseModel):
            keys = list(section.model_fields)
            assert f"## `[{key}]`" in reference
        else:
            keys = [key]
        for name in keys:
            assert f"| `{name}` |" in reference, name
    data = reference.split("## `[data]`", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in data.splitlines() if line.startswith("| `corpus_size` |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    header = [c.strip() for c in data.splitlines()[2].strip("|").split("|")]
    assert header[3:-1] == list(PRESETS)  # one column per preset
    by_column = dict(zip(header, cells))
    assert by_column["default"] == "`2000`"
    assert by_column["quick"] == f"`{PRESETS['quick']['data']['corpus_size']}`" == "`1200`"
    assert by_column["paper"] == ""  # the paper preset keeps the model default


def test_the_metrics_reference_has_every_metric_of_every_task():
    from biasinherit.tasks.registry import TASK_NAMES, get_task

    reference = _gen_reference().metrics_reference()
    for name in TASK_NAMES:
        section = reference.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
        for metric in get_task(name).metrics:
            assert f"| `{metric.name}` | {metric.category} |" in section, (name, metric.name)


# ---- the hand-written pages -----------------------------------------------------------------------

def test_the_readme_is_an_on_ramp():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
    headings = [i for i, line in enumerate(lines) if line.startswith("## ")]
    assert [lines[i] for i in headings][:3] == ["## Install", "## Quickstart", "## What you get"]
    first = "\n".join(lines[:100])
    # a newcomer reaches "audit my own data" and "evaluate my own model folder", commands included
    assert "### 1. Audit your own augmented data" in first and "biasinherit audit " in first
    assert "### 2. Evaluate your own model" in first and "biasinherit evaluate --model" in first
    assert "bi.evaluate(" in first


def test_measurement_records_live_only_in_their_own_pages():
    """No run's timing or load is left outside validation, benchmarks and detection power."""
    history = re.compile(r"load average|\b\d+ min \d+ s\b|\btokens/s\b|\bpairs/s\b|\bitems/s\b")
    offenders = []
    for name in _page_names():
        if name in RECORD_PAGES:
            continue
        for n, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), 1):
            if history.search(line):
                offenders.append(f"{name}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_statements_that_were_not_true_of_the_code_are_gone():
    false = ["corpus_size = 2000", "CPU cores, up to 4", "use --map", "pip takes the CPU wheel",
             "Every command maps its flags onto a library function"]
    texts = {name: (ROOT / name).read_text(encoding="utf-8") for name in [*_page_names(), "Makefile"]}
    found = [(name, s) for name, text in texts.items() for s in false if s in text and name != "CHANGELOG.md"]
    assert not found


def test_the_record_schema_table_lists_the_records_fields_in_order():
    from biasinherit.records import Record

    text = (DOCS / "data.md").read_text(encoding="utf-8")
    table = text.split("## The record schema", 1)[1].split("\n\n", 2)[1]
    fields = [re.match(r"\| `(\w+)` \|", line).group(1) for line in table.splitlines()[2:]]
    assert fields == list(Record.model_fields)


def test_the_tasks_table_lists_the_ten_tasks_in_registry_order():
    from biasinherit.tasks.registry import TASK_NAMES

    text = (DOCS / "tasks.md").read_text(encoding="utf-8")
    table = text.split("## The ten tasks", 1)[1].split("| task |", 1)[1].split("\n\n", 1)[0]
    names = re.findall(r"^\| `(\w+)` \|", table, flags=re.M)
    assert tuple(names) == TASK_NAMES


def test_every_toml_block_is_a_valid_study_config():
    """Config examples cannot drift from the config's schema: each loads over its preset."""
    import tomllib

    from biasinherit.studies.config import load_study_config, study_config_from_mapping

    checked = 0
    for name in _page_names():
        for block in fenced_blocks((ROOT / name).read_text(encoding="utf-8"), name):
            if block.lang != "toml":
                continue
            try:
                study_config_from_mapping(tomllib.loads(block.code))
            except Exception as exc:  # noqa: BLE001  (name the block, whatever failed)
                pytest.fail(f"{block.where}: {type(exc).__name__}: {exc}")
            checked += 1
    assert checked >= 5
    load_study_config(DOCS / "img" / "inheritance.toml")  # the study behind the README's picture


def test_pictures_are_small():
    images = list((DOCS / "img").glob("*.png"))
    assert {p.name for p in images} >= {"inheritance.png", "report.png"}
    assert all(p.stat().st_size < 200_000 for p in images), [(p.name, p.stat().st_size) for p in images]


def test_the_citation_file_cites_the_paper_and_the_toolkit():
    import yaml

    import biasinherit

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software" and cff["license"] == "Apache-2.0"
    assert cff["version"] == biasinherit.__version__
    paper = cff["preferred-citation"]
    assert paper["type"] == "conference-paper" and paper["year"] == 2026
    assert [a["family-names"] for a in paper["authors"]][0] == "Li"
    assert any("2502.04419" in str(i["value"]) for i in paper["identifiers"])
