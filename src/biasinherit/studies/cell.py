"""One study cell: mix, train, evaluate; the driver writes ``cells/<key>/result.json`` atomically.

``compute_cell`` is a plain function of records and a config, so any executor (this process, a
Ray worker on another machine) runs it the same way and gets the same numbers: the torch thread
count is fixed by the config and every random choice is seeded. The driver alone writes results.

A cell the Ray executor schedules runs on the GPUs Ray gave it (``CUDA_VISIBLE_DEVICES``, which
Ray sets per task, so they are ``cuda:0``, ...) or, given none, on the CPU; its result records
where it ran (``placement``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.records import Record, atomic_write
from biasinherit.studies.config import StudyConfig
from biasinherit.studies.grid import Cell

log = logging.getLogger(__name__)


def cell_dir(run_dir: Path, cell: Cell) -> Path:
    return run_dir / "cells" / cell.key


def result_path(run_dir: Path, cell: Cell) -> Path:
    return cell_dir(run_dir, cell) / "result.json"


def load_result(run_dir: Path, cell: Cell) -> dict[str, Any] | None:
    path = result_path(run_dir, cell)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_bytes())
    except ValueError:  # damaged (results are written by atomic rename, so not by us): redo the cell
        logging.getLogger(__name__).warning("%s is damaged; the cell is run again", path)
        return None
    return data if isinstance(data, dict) else None


def write_result(run_dir: Path, cell: Cell, result: dict[str, Any]) -> None:
    with atomic_write(result_path(run_dir, cell)) as fh:
        json.dump(result, fh, indent=1)


BaseSpec = str | dict[str, bytes] | None  # a model folder's path, or its files (for remote workers)
_LOADED_BASES: dict[str, Any] = {}  # a worker keeps the base it loaded for the next cell


def base_files(path: Path) -> dict[str, bytes]:
    """A model folder as ``{file name: bytes}``, to send to a worker without the run folder."""
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}


def _load_base(base: BaseSpec) -> Any:
    import hashlib
    import tempfile

    from biasinherit.models import load_model
    from biasinherit.training.trainer import TrainResult

    if base is None:
        return None
    if isinstance(base, str):
        key = base
    else:
        key = hashlib.sha256(b"".join(base[k] for k in sorted(base))).hexdigest()
    if key not in _LOADED_BASES:
        if isinstance(base, str):
            loaded = load_model(base, device="cpu")
        else:
            with tempfile.TemporaryDirectory() as tmp:
                for name, data in base.items():
                    (Path(tmp) / name).write_bytes(data)
                loaded = load_model(tmp, device="cpu")
        _LOADED_BASES.clear()
        _LOADED_BASES[key] = TrainResult(loaded.model, loaded.tokenizer, loaded.metadata, [])
    return _LOADED_BASES[key]


def cell_device(requested: str, gpus: list[str] | None, *, cuda_available: bool | None = None) -> str:
    """The device a cell trains and scores on.

    ``gpus``: the GPUs an executor gave the cell (Ray's ids; ``None`` where no executor assigns
    GPUs: the ``[model]`` device as is). Given GPUs, ``auto`` is the first of them, ``cuda``
    (``CUDA_VISIBLE_DEVICES`` numbers a cell's own GPUs from 0); given none, ``auto`` is never a
    GPU: one the scheduler did not give the cell may be another cell's. ``cuda_available``:
    whether torch sees a CUDA device (default: ask torch).
    """
    from biasinherit.models.hf import pick_device

    if gpus is None:
        return pick_device(requested)
    if requested.startswith("cuda"):
        if not gpus:
            raise BiasInheritError(f"model.device is '{requested}' but the executor gave this cell no GPU",
                                   field="executor.gpus_per_cell")
        return requested
    if requested != "auto":
        return requested
    if cuda_available is None:
        import torch

        cuda_available = torch.cuda.is_available()
    if gpus and cuda_available:
        return "cuda"
    if gpus:
        log.warning("the executor gave this cell GPU %s, but torch sees no CUDA device (a CPU build of torch?); "
                    "it runs on the CPU", ",".join(gpus))
    picked = pick_device("auto")
    return "cpu" if picked.startswith("cuda") else picked


def compute_cell(
    cell: Cell,
    config_data: dict[str, Any],
    original: list[Record],
    augmented: list[Record],
    *,
    base: BaseSpec = None,
    model_dir: str | None = None,
    progress: Callable[[int, int, float], None] | None = None,
    gpus: list[str] | None = None,
) -> dict[str, Any]:
    """Mix, train (fine-tuning ``base`` when given) and evaluate one cell in this process;
    nothing is written unless ``model_dir`` asks for the trained model. ``gpus``: the GPUs the
    executor gave the cell (:func:`cell_device`)."""
    import torch

    from biasinherit.mixing import mix_at_ratio
    from biasinherit.models.hf import pick_device
    from biasinherit.studies.evaluation import evaluate_trained
    from biasinherit.training.trainer import save_trained, train_model

    started = time.time()
    config = StudyConfig.model_validate(config_data)
    torch.set_num_threads(config.executor.threads)
    train_config = config.train_config(seed=cell.seed, mitigation=cell.mitigation, bias_type=cell.bias_type)
    device = cell_device(train_config.device, gpus)
    if device != pick_device(train_config.device):
        train_config = train_config.model_copy(update={"device": device})
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    mix = mix_at_ratio(original, [] if cell.is_baseline else augmented, ratio=cell.ratio,
                       size=config.mix.size, mode=config.mix.mode, seed=cell.seed,
                       draw_seed=config.mix.draw_seed)
    pretrained = _load_base(base)
    timings["mix"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    trained = train_model(train_config, mix, progress=progress, base=pretrained)
    timings["train"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    task_seconds: dict[str, float] = {}
    rows, replicates = evaluate_trained(trained, config, seed=cell.seed, seconds=task_seconds)
    timings["evaluate"] = time.perf_counter() - t0

    if model_dir is not None:
        target = Path(model_dir)
        tmp = target.with_name(target.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        save_trained(trained, tmp)
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    return {
        "cell": cell.to_dict(),
        "rows": rows,
        "replicates": replicates,
        "n_train": len(mix),
        "n_augmented": sum(r.source == "augmented" for r in mix),
        "final_loss": trained.metadata.final_loss,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "task_seconds": {k: round(v, 3) for k, v in task_seconds.items()},  # where evaluate's time went
        "train_tokens_per_second": trained.metadata.tokens_per_second,
        "placement": _placement(trained.model, gpus, started),
    }


def _placement(model: Any, gpus: list[str] | None, started: float) -> dict[str, Any]:
    """Where the cell ran: the device and dtype its model used, the GPUs the executor gave it and
    the ``CUDA_VISIBLE_DEVICES`` it saw, its process, and when (wall clock, seconds since the epoch)."""
    import socket

    import torch

    weight = next(model.parameters())
    return {
        "device": str(weight.device),
        "dtype": str(weight.dtype).removeprefix("torch."),
        "gpus": gpus,
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "cuda_available": torch.cuda.is_available(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": round(started, 3),
        "finished": round(time.time(), 3),
    }
