"""Executors run cells: ``local`` (this process, one after another) or ``ray`` (one Ray task per
cell, on a local Ray or a cluster). Both call :func:`compute_cell` with the same inputs, so their
results are identical; the driver writes every result file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError, unknown_name_error
from biasinherit.records import Record
from biasinherit.study.cell import compute_cell
from biasinherit.study.grid import Cell

log = logging.getLogger(__name__)

CellInputs = Callable[[Cell], tuple[list[Record], list[Record]]]
CellProgress = Callable[[Cell, int, int, float], None]


def run_local(cells: Sequence[Cell], config_data: dict[str, Any], inputs: CellInputs, *,
              model_dir: Callable[[Cell], str | None], progress: CellProgress | None = None,
              workers: int = 1, base: Path | None = None) -> Iterator[tuple[Cell, dict[str, Any]]]:
    """Cells in this process (``workers=1``) or in a pool of worker processes; results come
    back as each cell finishes. ``base``: the model folder every cell fine-tunes."""
    base_spec = None if base is None else str(base)
    if workers <= 1 or len(cells) <= 1:
        for cell in cells:
            original, augmented = inputs(cell)
            step = (lambda s, t, loss, c=cell: progress(c, s, t, loss)) if progress else None
            yield cell, compute_cell(cell, config_data, original, augmented, base=base_spec,
                                     model_dir=model_dir(cell), progress=step)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn, not fork: torch and tokenizers threads do not survive a fork
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = {}
        for cell in cells:
            original, augmented = inputs(cell)
            future = pool.submit(compute_cell, cell, config_data, original, augmented, base=base_spec,
                                 model_dir=model_dir(cell))
            pending[future] = cell
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()


def _needs_gpu(config_data: dict[str, Any]) -> bool:
    model = config_data.get("model", {})
    device = str(model.get("device", "auto"))
    return device.startswith("cuda") or (device == "auto" and str(model.get("model", "")).startswith("hf:")
                                         and _cluster_has_gpu())


def _cluster_has_gpu() -> bool:
    import ray

    return bool(ray.cluster_resources().get("GPU", 0))


def start_ray(address: str | None) -> bool:
    """Connect to ``address`` or start a local Ray kept on 127.0.0.1; True if started here."""
    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import biasinherit

    package_dir = str(Path(biasinherit.__file__).resolve().parent)
    try:
        if address:
            # workers elsewhere get this package's code shipped with the job
            ray.init(address=address, runtime_env={"py_modules": [package_dir]},
                     log_to_driver=False, logging_level=logging.WARNING)
        else:
            ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False,
                     log_to_driver=False, logging_level=logging.WARNING,
                     num_cpus=os.cpu_count() or 1)
    except ConnectionError as exc:
        raise BiasInheritError(f"cannot reach the Ray cluster at {address} ({exc})", field="--address") from None
    return True


def run_ray(cells: Sequence[Cell], config_data: dict[str, Any], inputs: CellInputs, *,
            model_dir: Callable[[Cell], str | None], address: str | None = None,
            threads: int = 1, progress: CellProgress | None = None, base: Path | None = None,
            ) -> Iterator[tuple[Cell, dict[str, Any]]]:
    """One Ray task per cell; the base model travels as bytes (workers need no shared disk)."""
    import ray

    from biasinherit.study.cell import base_files

    started = start_ray(address)
    try:
        remote = ray.remote(num_cpus=threads, num_gpus=1 if _needs_gpu(config_data) else 0,
                            max_retries=1)(compute_cell)
        config_ref = ray.put(config_data)
        base_ref = None if base is None else ray.put(base_files(base))
        shared: dict[tuple[str, ...], Any] = {}
        pending: dict[Any, Cell] = {}
        for cell in cells:
            original, augmented = inputs(cell)
            key = ("orig",)
            if key not in shared:
                shared[key] = ray.put(original)
            aug_key = ("aug", cell.bias_type)
            if aug_key not in shared:
                shared[aug_key] = ray.put(augmented)
            ref = remote.remote(cell, config_ref, shared[key], shared[aug_key], base=base_ref,
                                model_dir=model_dir(cell))
            pending[ref] = cell
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            cell = pending.pop(done[0])
            yield cell, ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


EXECUTORS = ("local", "ray")


def check_executor(name: str) -> None:
    if name not in EXECUTORS:
        raise unknown_name_error("executor", name, EXECUTORS)
