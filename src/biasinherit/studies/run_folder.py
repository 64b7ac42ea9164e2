"""Check a run folder before a report is built from it.

``biasinherit report RUN_DIR`` reads ``results.parquet``, ``manifest.json`` and the audits; a
damaged file among them is named in one line (and ``report.html`` is checked writable) before
any work, instead of a reader's traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

from biasinherit.errors import BiasInheritError

__all__ = ["check_run_folder", "check_study_folder"]

RESULT_COLUMNS = ("bias_type", "ratio", "mitigation", "seed", "task", "metric", "value")


def _json_object(path: Path, what: str) -> None:
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, RecursionError):  # JSON and UTF-8 errors
        raise BiasInheritError(f"{what} is damaged (not valid JSON)", path=path) from None
    if not isinstance(data, dict):
        raise BiasInheritError(f"{what} is damaged (not a JSON object)", path=path)


def check_run_folder(run_dir: str | Path) -> Path:
    """A study folder that can be read (:func:`check_study_folder`) and whose ``report.html``
    can be written; returns the folder."""
    run_dir = check_study_folder(run_dir)
    from biasinherit.outputs import check_output_file

    check_output_file(run_dir / "report.html", field="RUN_DIR")
    return run_dir


def check_study_folder(run_dir: str | Path) -> Path:
    """A study folder whose table, manifest and audits can be read; returns the folder."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise BiasInheritError("run folder not found", path=run_dir)
    if not run_dir.is_dir():
        raise BiasInheritError("is a file; give a study's run folder", path=run_dir)
    table = run_dir / "results.parquet"
    if not table.is_file():
        raise BiasInheritError("no results.parquet here: is this a study folder (finished at least once)?",
                               path=run_dir)
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(table)
        pq.read_table(table)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        reason = " ".join(str(exc).split())[:160]
        raise BiasInheritError(f"results.parquet is damaged ({reason}); rerun the study to rebuild it",
                               path=table) from None
    missing = [c for c in RESULT_COLUMNS if c not in schema.names]
    if missing:
        raise BiasInheritError(f"results.parquet lacks the columns {', '.join(missing)}: not a study's results table",
                               path=table)
    manifest = run_dir / "manifest.json"
    if manifest.exists():
        _json_object(manifest, "manifest.json")
    for audit in sorted((run_dir / "audit").glob("*.json")):
        _json_object(audit, "an audit file")
    return run_dir
