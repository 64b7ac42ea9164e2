"""Run a study: shared work once, then every cell of the grid, resumably, then the table and
the report (DESIGN §10).

Resumption: a cell is finished when its result file exists (written by atomic rename), so the
same command run again skips finished cells and redoes an interrupted one. A folder that holds a
study with another config is refused unless ``force``, which discards its results.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.records import Record
from biasinherit.studies.cell import cell_dir, load_result, write_result
from biasinherit.studies.config import StudyConfig, config_hash
from biasinherit.studies.findings import write_findings
from biasinherit.studies.grid import Cell, build_grid
from biasinherit.studies.lock import holds_study_lock
from biasinherit.studies.manifest import Manifest
from biasinherit.studies.results import build_table, write_table
from biasinherit.studies.shared import (
    audit_path,
    prepare_audit,
    prepare_augmented,
    prepare_base,
    prepare_original,
)

log = logging.getLogger(__name__)


class StudyProgress:
    """Callbacks a front end implements to show progress; the defaults log."""

    def stage(self, name: str) -> None:
        log.info("%s", name)

    def grid(self, done: int, total: int) -> None:
        log.info("cells %d/%d", done, total)

    def cell_started(self, cell: Cell) -> None:
        log.info("cell %s", cell.key)

    def cell_step(self, cell: Cell, step: int, total: int, loss: float) -> None:
        pass

    def running(self, cells: list[Cell]) -> None:
        """Cells running at once (in worker processes or on a cluster)."""
        log.info("running %s", ", ".join(c.label for c in cells))


@dataclass
class StudyOutcome:
    run_dir: Path
    cells_total: int
    cells_run: int
    cells_skipped: int
    seconds: float
    table_rows: int
    stage_seconds: dict[str, float] = field(default_factory=dict)


def describe_grid(config: StudyConfig) -> dict[str, Any]:
    """The cells and an estimate of the work, for ``--dry-run``."""
    from biasinherit.studies.estimate import estimate_seconds

    cells = build_grid(config)
    estimate = estimate_seconds(config, cells)
    return {
        "cells": [c.to_dict() for c in cells],
        "n_cells": len(cells),
        "n_training_runs": len(cells),
        "n_generations": len(config.bias_types),
        "n_audits": len(config.bias_types) if config.audit.enabled else 0,
        "estimated_seconds": None if estimate is None else estimate["seconds"],
        "estimate": estimate,
    }


def _cluster_slots(config: StudyConfig) -> int:
    """Cells a Ray cluster runs at once (its CPUs over the CPUs a cell asks for)."""
    try:
        import ray

        return int(ray.cluster_resources().get("CPU", 1) // config.executor.threads) if ray.is_initialized() else 1
    except Exception:  # no Ray, or no cluster yet: the bar just names fewer cells
        return 1


def _clear(run_dir: Path) -> None:
    for name in ("cells", "data", "audit", "base", "results.parquet", "results.csv", "findings.csv", "summary.csv",
                 "checks.json", "report.html", "manifest.json"):
        path = run_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _run_audits(config: StudyConfig, run_dir: Path, original: list[Record],
                augmented: dict[str, list[Record]], progress: StudyProgress) -> float:
    """Audit every bias type's augmented data (one embedding model for all); returns seconds."""
    if not _audits_pending(config, run_dir):
        return 0.0
    import torch
    from threadpoolctl import threadpool_limits

    from biasinherit.analysis.embeddings import DEFAULT_MODEL, EmbeddingModel

    started = time.perf_counter()
    torch.set_num_threads(config.executor.threads)
    embedder = EmbeddingModel(DEFAULT_MODEL)
    # numpy's BLAS on one thread while the audits run beside the cells: OpenBLAS's fork handler
    # waits for its worker threads, so a fork in the main thread (Ray starting its processes, the
    # process pool starting a worker) during a threaded BLAS call here would hang the study
    with threadpool_limits(limits=1, user_api="blas"):
        for bias_type in config.bias_types:
            progress.stage(f"audit {bias_type}")
            prepare_audit(config, run_dir, bias_type, original, augmented[bias_type], embedder=embedder)
    return time.perf_counter() - started


def _audits_pending(config: StudyConfig, run_dir: Path) -> bool:
    return config.audit.enabled and not all(audit_path(run_dir, bt).exists() for bt in config.bias_types)


def open_run_dir(config: StudyConfig, out: str | Path, *, force: bool = False) -> tuple[Path, Manifest]:
    """Create or reopen the run folder; refuses another config's folder unless ``force``."""
    run_dir = Path(out)
    if run_dir.exists() and not run_dir.is_dir():
        raise BiasInheritError("output exists and is not a folder", path=run_dir)
    digest = config_hash(config)
    manifest_path = run_dir / "manifest.json"
    if force and manifest_path.exists():
        import json

        try:
            old_hash = json.loads(manifest_path.read_bytes()).get("config_hash")
        except (ValueError, AttributeError):  # damaged: --force discards it
            old_hash = None
        if old_hash != digest:
            _clear(run_dir)  # --force with another config: its results no longer apply
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest.open(run_dir, config=config.model_dump(mode="json"), config_hash=digest, force=force)
    manifest.save()
    return run_dir, manifest


@holds_study_lock
def run_study(
    config: StudyConfig,
    out: str | Path,
    *,
    force: bool = False,
    keep_models: bool = False,
    progress: StudyProgress | None = None,
) -> StudyOutcome:
    """Every cell of the grid (finished ones reused), then the results table and the findings.
    The report is rendered from the finished study by :func:`biasinherit.reporting.write_report`
    (``biasinherit.study`` does both)."""
    from biasinherit.studies.executors import run_local, run_ray

    progress = progress or StudyProgress()
    run_dir, manifest = open_run_dir(config, out, force=force)
    config_data = config.model_dump(mode="json")
    manifest.start_run()
    started = time.perf_counter()

    # ---- shared work, once -------------------------------------------------------------
    t0 = time.perf_counter()
    progress.stage("original data")
    original = prepare_original(config, run_dir)
    manifest.add_stage_time("original", time.perf_counter() - t0)
    augmented: dict[str, list[Record]] = {}
    for bias_type in config.bias_types:
        t0 = time.perf_counter()
        progress.stage(f"generate {bias_type}")
        augmented[bias_type] = prepare_augmented(config, run_dir, bias_type, original)
        manifest.add_stage_time("generate", time.perf_counter() - t0)
    # The audits need no trained model: they run in a thread beside the cells (the driver is
    # otherwise idle while worker processes train) and are joined before the report.
    from concurrent.futures import ThreadPoolExecutor

    # import what both threads use before the audit thread starts: two threads importing a
    # lazily initialised package (transformers) at once can see it half-initialised. A study
    # whose audits are all done (a resumed or finished one) imports nothing for them here.
    if _audits_pending(config, run_dir):
        import sentence_transformers  # noqa: F401
        import transformers  # noqa: F401
        from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast  # noqa: F401
    audit_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit")
    audit_job = audit_pool.submit(_run_audits, config, run_dir, original, augmented, progress)

    # the base every cell fine-tunes: trained here once, while the audits use the other core
    t0 = time.perf_counter()
    if config.uses_base:
        progress.stage("pretrain the base model")
    base = prepare_base(config, run_dir, original)
    manifest.add_stage_time("pretrain", time.perf_counter() - t0)

    # ---- the grid ------------------------------------------------------------------------
    cells = build_grid(config)
    results: dict[str, dict[str, Any]] = {}
    todo: list[Cell] = []
    for cell in cells:
        found = load_result(run_dir, cell)
        if found is not None:
            results[cell.key] = found
            manifest.data["cells"].setdefault(cell.key, {})["state"] = "done"
        else:
            todo.append(cell)
            manifest.data["cells"][cell.key] = {"state": "pending"}
    manifest.save()
    skipped = len(results)
    progress.grid(len(results), len(cells))

    def inputs(cell: Cell) -> tuple[list[Record], list[Record]]:
        return original, [] if cell.is_baseline else augmented[cell.bias_type]

    def model_dir(cell: Cell) -> str | None:
        return str(cell_dir(run_dir, cell) / "model") if keep_models else None

    def step(cell: Cell, s: int, total: int, loss: float) -> None:
        progress.cell_step(cell, s, total, loss)

    workers = config.executor.resolved_workers(config.model)
    one_at_a_time = config.executor.name == "local" and workers == 1
    if config.executor.name == "ray":
        stream = run_ray(todo, config_data, inputs, model_dir=model_dir, address=config.executor.address,
                         threads=config.executor.threads, base=base)
    else:
        stream = run_local(todo, config_data, inputs, model_dir=model_dir, progress=step, workers=workers,
                           base=base)
    # a process pool takes cells in the order they were submitted, so the running ones are the
    # first unfinished ones (a Ray cluster runs as many as it has CPUs, in the same order)
    at_once = workers if config.executor.name == "local" else max(1, _cluster_slots(config))

    def show_running() -> None:
        running = [c for c in todo if c.key not in results][:at_once]
        if running:
            progress.running(running)

    if todo:
        if one_at_a_time:
            progress.cell_started(todo[0])
        else:
            show_running()
    for cell, result in stream:
        write_result(run_dir, cell, result)
        results[cell.key] = result
        manifest.data["cells"][cell.key] = {"state": "done", "finished": time.time(), **result["timings"]}
        for stage in ("train", "evaluate"):
            manifest.data["stages"][stage] = round(manifest.data["stages"].get(stage, 0.0)
                                                   + result["timings"][stage], 3)
        manifest.save()
        progress.grid(len(results), len(cells))
        nxt = next((c for c in todo if c.key not in results), None)
        if nxt is not None and one_at_a_time:
            progress.cell_started(nxt)
        elif not one_at_a_time:
            show_running()

    # ---- results ----------------------------------------------------------------------------
    manifest.add_stage_time("audit", audit_job.result())
    audit_pool.shutdown()
    t0 = time.perf_counter()
    progress.stage("results table")
    ordered = [results[c.key] for c in cells]
    frame = build_table(ordered, config.bias_types)
    write_table(frame, run_dir)
    write_findings(config, ordered, run_dir)
    manifest.add_stage_time("results", time.perf_counter() - t0)
    manifest.data["seconds"] = round(time.perf_counter() - started, 1)
    manifest.data["seconds_last_run"] = manifest.data["seconds"]
    manifest.finish()
    return StudyOutcome(
        run_dir=run_dir, cells_total=len(cells), cells_run=len(cells) - skipped, cells_skipped=skipped,
        seconds=time.perf_counter() - started, table_rows=len(frame),
        stage_seconds=dict(manifest.data["stages"]),
    )
