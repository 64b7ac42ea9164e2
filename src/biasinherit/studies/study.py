"""A finished study as an object: its tables as DataFrames, its config, audits and report.

:func:`load_study` reads a run folder that ``biasinherit study`` wrote; the report is rendered
from a :class:`Study`, so the report depends on the study and never the other way round.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biasinherit.studies.config import StudyConfig

if TYPE_CHECKING:
    from biasinherit.studies.run import StudyOutcome

__all__ = ["Study", "load_study"]


@dataclass
class Study:
    """A study's run folder, read lazily: ``results`` (one row per cell x task x metric),
    ``findings`` (one row per test, with q-values and the ``discovery`` flag), ``summary``
    (values and inheritance over seeds), ``checks`` (mitigations' performance and task health)
    and ``audits`` (the misalignment audit of each bias type's augmented data)."""

    run_dir: Path
    manifest: dict[str, Any] = field(repr=False)
    stage_seconds: dict[str, float] = field(default_factory=dict, repr=False)
    # what the run that returned this Study did (cells run and reused, seconds); None when loaded
    outcome: StudyOutcome | None = field(default=None, repr=False)

    @property
    def config(self) -> StudyConfig:
        return StudyConfig.model_validate(self.manifest["config"])

    @property
    def name(self) -> str:
        return str(self.manifest.get("config", {}).get("name", "study"))

    @cached_property
    def results(self) -> Any:
        import pandas as pd

        return pd.read_parquet(self.run_dir / "results.parquet")

    @cached_property
    def findings(self) -> Any:
        import pandas as pd

        frame = pd.read_csv(self.run_dir / "findings.csv")
        frame["discovery"] = frame["discovery"].astype(bool)
        return frame

    @cached_property
    def summary(self) -> Any:
        import pandas as pd

        return pd.read_csv(self.run_dir / "summary.csv")

    @cached_property
    def checks(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.checks_records)

    @cached_property
    def checks_records(self) -> list[dict[str, Any]]:
        path = self.run_dir / "checks.json"
        return json.loads(path.read_text()) if path.exists() else []

    @cached_property
    def audits(self) -> dict[str, dict[str, Any]]:
        return {p.stem: json.loads(p.read_text()) for p in sorted((self.run_dir / "audit").glob("*.json"))}

    @property
    def discoveries(self) -> Any:
        """The findings that survive the false-discovery-rate control."""
        return self.findings[self.findings["discovery"]]

    @property
    def report_path(self) -> Path | None:
        path = self.run_dir / "report.html"
        return path if path.exists() else None

    def _repr_html_(self) -> str:  # a notebook shows the discoveries
        found = self.discoveries
        head = f"<p><b>Study '{self.name}'</b> in {self.run_dir}: {len(found)} discoveries of {len(self.findings)} tests</p>"
        return head + found[["comparison", "bias_type", "task", "metric", "effect", "ci_low", "ci_high",
                             "q_value"]].to_html(index=False)


def load_study(run_dir: str | Path) -> Study:
    """A finished study folder (``results.parquet`` and the manifest present); the findings are
    rebuilt from the cells' results if an older run did not write them."""
    from biasinherit.errors import BiasInheritError
    from biasinherit.studies.run_folder import check_study_folder

    run_dir = check_study_folder(run_dir)
    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    if not ((run_dir / "findings.csv").exists() and (run_dir / "summary.csv").exists()):
        from biasinherit.studies.findings import write_findings

        results = [json.loads(p.read_text()) for p in sorted((run_dir / "cells").glob("*/result.json"))]
        if not results or "config" not in manifest:
            raise BiasInheritError("no findings.csv and no cell results to rebuild it from", path=run_dir)
        write_findings(StudyConfig.model_validate(manifest["config"]), results, run_dir)
    return Study(run_dir=run_dir, manifest=manifest, stage_seconds=dict(manifest.get("stages", {})))
