"""Evaluate a model trained in a study cell on the study's tasks, in memory."""

from __future__ import annotations

import math
from typing import Any

from biasinherit.study.config import StudyConfig


def evaluate_trained(trained: Any, config: StudyConfig, *, seed: int) -> tuple[list[dict[str, Any]],
                                                                              dict[str, list[float | None]]]:
    """Rows ``task, metric, kind, value, ci_low, ci_high, n, ...``, and each metric's bootstrap
    replicates (``"task|metric" -> values``, 6 significant digits, NaN as None). Every cell
    resamples the same items, so a study can pair replicates across cells."""
    from biasinherit.models.backend import HFBackend
    from biasinherit.tasks.base import EvalSettings
    from biasinherit.tasks.registry import resolve_tasks
    from biasinherit.tasks.runner import run_tasks

    meta = trained.metadata
    backend = HFBackend(trained.model, trained.tokenizer, name=f"study-cell-seed{seed}",
                        eval_prefix=meta.eval_prefix, add_bos=bool(meta.add_bos),
                        metadata=meta.model_dump())
    tasks = resolve_tasks(",".join(config.tasks.names))
    # the task data is the same for every cell (seed 0); the cell's seed varies training only
    settings = EvalSettings(seed=0, full=config.tasks.full, limit=config.tasks.limit,
                            chat_template=config.tasks.chat_template)
    results, _seconds = run_tasks(backend, tasks, settings)
    rows = []
    replicates: dict[str, list[float | None]] = {}
    for r in results:
        row = r.as_row()
        for key in ("value", "ci_low", "ci_high"):
            if isinstance(row[key], float) and math.isnan(row[key]):
                row[key] = None
        rows.append(row)
        replicates[f"{r.task}|{r.metric}"] = [None if math.isnan(x) else float(f"{x:.6g}") for x in r.replicates]
    return rows, replicates
