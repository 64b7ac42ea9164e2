"""Evaluate a model trained in a study cell on the study's tasks, in memory."""

from __future__ import annotations

import math
from typing import Any

from biasinherit.studies.config import StudyConfig

_BENCHMARK_ITEMS: dict[tuple[str, str, str], list[Any]] = {}


def load_benchmark_items(name: str, path: str, protocol: str) -> tuple[Any, list[Any]]:
    """A benchmark task and its items, read once per process (every cell of a worker scores the
    same items, as for the built-in tasks)."""
    from biasinherit.tasks.benchmarks import get_benchmark

    task = get_benchmark(name, protocol)
    key = (name, str(path), protocol)
    if key not in _BENCHMARK_ITEMS:
        _BENCHMARK_ITEMS[key] = task.load(path)
    return task, _BENCHMARK_ITEMS[key]


def merge_for_scoring(trained: Any) -> Any:
    """``trained`` with its LoRA adapter folded into the base weights, for scoring only.

    Scoring through an unmerged adapter runs two extra rank-r matmuls per adapted projection
    per forward pass, memory-bound on a CPU; merged, each projection is one matmul. On
    SmolLM2-135M a cell's evaluation is about 1.15x faster, but float32 rounding of the merged
    weights moves log-likelihoods by up to a few 1e-3 (CrowS-Pairs token log-probabilities;
    metric values within 1e-5), more than the 1e-5 a study cell promises, so study cells do
    not merge: ``benchmarks/real_cell_cost.py`` measures both. The merge is in place (the
    adapter is gone afterwards: save the model first). Weights in a half dtype are left
    unmerged, since folding the update into bfloat16 weights rounds it further; so is any
    model that is not a PEFT model.
    """
    import torch

    merge = getattr(trained.model, "merge_and_unload", None)
    if merge is None or not callable(merge):
        return trained
    if any(p.dtype != torch.float32 for p in trained.model.parameters()):
        return trained
    merged = merge()
    merged.eval()
    return type(trained)(merged, trained.tokenizer, trained.metadata, trained.loss_curve)


def evaluate_trained(trained: Any, config: StudyConfig, *, seed: int, seconds: dict[str, float] | None = None,
                     batch_size: int | None = None) -> tuple[list[dict[str, Any]], dict[str, list[float | None]]]:
    """Rows ``task, metric, kind, value, ci_low, ci_high, n, ...``, and each metric's bootstrap
    replicates (``"task|metric" -> values``, 6 significant digits, NaN as None). Every cell
    resamples the same items, so a study can pair replicates across cells. ``seconds``, when
    given, receives each task's (and benchmark's) time. ``batch_size``: rows per forward pass
    (None: the backend's default, which every cell of a study uses: greedy generations can change
    with the batch's shape, see ``benchmarks/real_cell_cost.py --after batch64``)."""
    from biasinherit.models.backend import HFBackend
    from biasinherit.tasks.base import EvalSettings
    from biasinherit.tasks.registry import resolve_tasks
    from biasinherit.tasks.runner import run_tasks

    meta = trained.metadata
    backend = HFBackend(trained.model, trained.tokenizer, name=f"study-cell-seed{seed}",
                        eval_prefix=meta.eval_prefix, add_bos=bool(meta.add_bos),
                        metadata=meta.model_dump(), **({} if batch_size is None else {"batch_size": batch_size}))
    tasks = resolve_tasks(",".join(config.tasks.names))
    # the task data is the same for every cell (seed 0); the cell's seed varies training only
    settings = EvalSettings(seed=0, full=config.tasks.full, limit=config.tasks.limit,
                            chat_template=config.tasks.chat_template)
    results, task_seconds = run_tasks(backend, tasks, settings)
    if config.tasks.benchmarks:
        bench, overrides = [], {}
        for name, path in config.tasks.benchmarks.items():
            task, items = load_benchmark_items(name, path, config.tasks.protocol)
            bench.append(task)
            overrides[task.name] = items
        bench_settings = EvalSettings(seed=0, limit=config.tasks.benchmark_limit, protocol=config.tasks.protocol)
        more, bench_seconds = run_tasks(backend, bench, bench_settings, items_override=overrides)
        results.extend(more)
        task_seconds.update(bench_seconds)
    if seconds is not None:
        seconds.update(task_seconds)
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
