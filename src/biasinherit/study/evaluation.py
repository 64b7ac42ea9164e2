"""Evaluate a model trained in a study cell on the study's tasks, in memory."""

from __future__ import annotations

import math
from typing import Any

from biasinherit.study.config import StudyConfig


def evaluate_trained(trained: Any, config: StudyConfig, *, seed: int) -> list[dict[str, Any]]:
    """Rows ``task, metric, kind, value, ci_low, ci_high, n, higher_is_better, ideal``."""
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
    for r in results:
        row = r.as_row()
        for key in ("value", "ci_low", "ci_high"):
            if isinstance(row[key], float) and math.isnan(row[key]):
                row[key] = None
        rows.append(row)
    return rows
