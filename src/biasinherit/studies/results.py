"""The study's tables.

``results``: one row per cell x task x metric (one training run each; ``ci_low``/``ci_high`` are
the item-bootstrap interval of that run). The ratio-0 baseline of each seed stands for every
bias type at ratio 0. ``inheritance`` is a row's value minus the value of the same task and
metric in the ratio-0 baseline of its seed (DESIGN §8); ``signed_inheritance`` multiplies it by
the metric's stereotype direction (positive: toward the stereotype, or more disparity for an
unsigned metric); ``bias_shift`` is the change in distance from the metric's ideal value, the
secondary view.

``findings`` (the tests, :mod:`biasinherit.studies.findings`), ``summary`` (each cell's value and
inheritance over seeds, with seed + item intervals) and the mitigation health checks are written
beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from biasinherit.records import atomic_path
from biasinherit.studies.grid import BASELINE

COLUMNS = [
    "bias_type", "ratio", "mitigation", "seed", "task", "metric", "kind", "direction", "signed", "value",
    "ci_low", "ci_high", "n", "higher_is_better", "ideal", "inheritance", "signed_inheritance", "bias_shift",
]


def _distance(value: float, ideal: Any) -> float:
    if ideal is None or value is None or (isinstance(ideal, float) and math.isnan(ideal)):
        return math.nan
    return abs(float(value) - float(ideal))


def build_table(results: Iterable[dict[str, Any]], bias_types: Sequence[str]) -> Any:
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for result in results:
        cell = result["cell"]
        targets = list(bias_types) if cell["bias_type"] == BASELINE else [cell["bias_type"]]
        for bias_type in targets:
            for row in result["rows"]:
                rows.append({
                    "bias_type": bias_type, "ratio": cell["ratio"], "mitigation": cell["mitigation"],
                    "seed": cell["seed"], **row,
                })
    frame = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    if frame.empty:
        return frame[COLUMNS]
    base = frame[(frame["ratio"] == 0.0) & (frame["mitigation"] == "none")]
    base_value = {(r.bias_type, r.seed, r.task, r.metric): r.value for r in base.itertuples()}
    inheritance, shift = [], []
    for r in frame.itertuples():
        b = base_value.get((r.bias_type, r.seed, r.task, r.metric))
        if b is None or r.value is None or (isinstance(b, float) and math.isnan(b)):
            inheritance.append(math.nan)
            shift.append(math.nan)
            continue
        inheritance.append(float(r.value) - float(b))
        shift.append(_distance(r.value, r.ideal) - _distance(b, r.ideal))
    frame["inheritance"] = inheritance
    frame["signed_inheritance"] = [i * d if d in (1, -1) else math.nan
                                   for i, d in zip(inheritance, frame["direction"])]
    frame["bias_shift"] = shift
    extra = [c for c in frame.columns if c not in COLUMNS]
    frame = frame[COLUMNS + extra]
    return frame.sort_values(["seed", "bias_type", "mitigation", "ratio", "task", "metric"],
                             kind="stable").reset_index(drop=True)


def write_table(frame: Any, run_dir: Path) -> None:
    with atomic_path(run_dir / "results.parquet") as tmp:
        frame.to_parquet(tmp, index=False)
    with atomic_path(run_dir / "results.csv") as tmp:
        frame.to_csv(tmp, index=False)


def write_csv(rows: Sequence[dict[str, Any]], path: Path, columns: Sequence[str] | None = None) -> None:
    """A list of dicts as CSV, atomically."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(columns) if columns else None)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def read_table(run_dir: Path) -> Any:
    import pandas as pd

    return pd.read_parquet(run_dir / "results.parquet")
