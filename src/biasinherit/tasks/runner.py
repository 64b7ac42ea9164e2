"""Run tasks and benchmarks on one backend and write the tidy results table (CSV and JSON), and
each generation task's raw generations (``generations/<task>.jsonl``) when asked for."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from biasinherit.metrics import MetricResult
from biasinherit.tasks.base import EvalSettings, Task

__all__ = ["COLUMNS", "GENERATIONS_DIR", "run_tasks", "write_generations", "write_results"]

log = logging.getLogger(__name__)

COLUMNS = ("task", "metric", "value", "ci_low", "ci_high", "n", "higher_is_better", "ideal", "protocol", "kind")

TaskHook = Callable[[str, int, int], None]  # (task name, index, total)
GENERATIONS_DIR = "generations"  # beside results.csv: one <task>.jsonl per generation task


def run_tasks(
    backend: Any,
    tasks: Sequence[Task],
    settings: EvalSettings,
    *,
    items_override: dict[str, list[Any]] | None = None,
    on_task: TaskHook | None = None,
    generations_dir: Path | None = None,
) -> tuple[list[MetricResult], dict[str, float]]:
    """Every task's metrics, and the seconds each task took.

    ``items_override`` maps a task name to items to use instead of the built-in ones (benchmarks).
    With ``generations_dir``, each generation task's prompts, outputs and parsed values are
    written there as ``<task>.jsonl`` (see :func:`write_generations`); the prompt format each task
    used stays on the task (``task.generation_log.style``).
    """
    results: list[MetricResult] = []
    seconds: dict[str, float] = {}
    for k, task in enumerate(tasks):
        if on_task is not None:
            on_task(task.name, k, len(tasks))
        start = time.perf_counter()
        if items_override and task.name in items_override:
            items = items_override[task.name]
        else:
            items = task.build_items(seed=settings.seed, full=settings.full)
        limit = settings.limit_for(task.name)
        if limit is not None:
            items = items[:limit]
        task.generation_log = None
        results.extend(task.evaluate(backend, items, settings))
        if generations_dir is not None and task.generation_log is not None:
            write_generations(task.generation_log, generations_dir / f"{task.name}.jsonl")
        seconds[task.name] = time.perf_counter() - start
        log.info("task %s: %d items in %.2fs", task.name, len(items), seconds[task.name])
    return results, seconds


def write_generations(log: Any, path: Path) -> Path:
    """One JSON line per generation (``index, prompt, output, parsed`` and the task's fields, each
    with the prompt ``format`` used), written atomically."""
    import json

    from biasinherit.records import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        for row in log.rows:
            fh.write(json.dumps({"task": log.task, "format": log.style.get("format"), **row},
                                ensure_ascii=False, default=_plain) + "\n")
    return path


def _plain(value: Any) -> Any:
    """numpy scalars and other oddities in a generation row, as JSON can hold them."""
    return value.item() if hasattr(value, "item") else str(value)


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def write_results(results: Sequence[MetricResult], out: Path, provenance: dict[str, Any]) -> tuple[Path, Path]:
    """``out/results.csv`` and ``out/results.json`` (rows plus provenance), atomically."""
    import csv
    import json

    from biasinherit.records import atomic_write

    out.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out / "results.csv", out / "results.json"
    rows = [{k: r.as_row()[k] for k in COLUMNS} for r in results]
    with atomic_write(csv_path) as fh:
        writer = csv.DictWriter(fh, fieldnames=[*COLUMNS, "model"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**{k: ("" if _clean(v) is None else v) for k, v in row.items()},
                             "model": provenance.get("model", "")})
    with atomic_write(json_path) as fh:
        json.dump({"provenance": provenance, "results": [{k: _clean(v) for k, v in r.items()} for r in rows]},
                  fh, indent=2, sort_keys=False)
        fh.write("\n")
    return csv_path, json_path
