"""How long a study of tiny models will take on this machine, for ``biasinherit study --dry-run``:
the work counted from the config (tokens trained, task items scored, records audited) times
throughputs measured on the project's reference machine (2 CPU cores), scaled by a one-second
probe of how fast this machine is now (``benchmarks/study_estimate.py`` runs a study and prints
the estimate beside the measured time).

hf models depend on the model and the hardware, so no estimate is given for them.
"""

from __future__ import annotations

import math
from typing import Any

from biasinherit.studies.config import StudyConfig
from biasinherit.studies.grid import Cell

# Measured inside studies on the reference machine (2 cores; the demo and quick presets from
# empty caches, nothing else running, 2026-12-06: 3 min 24 s and 1 min 46 s): two worker
# processes of one torch thread each, with the audit thread beside them, so every figure already
# holds the contention of a real run (benchmarks/study_estimate.py prints the estimate beside a
# measured run). tiny-s and the evaluation were measured; the other shapes are their earlier
# measurements scaled by tiny-s's speed-up on this machine (2.68).
TRAIN_TOKENS_PER_SECOND = {"tiny-xs": 21440.0, "tiny-s": 17300.0, "tiny-m": 7420.0, "tiny-l": 3110.0}
TOKENS_PER_RECORD = 34.5  # the built-in corpus and its augmentations (BPE of the tiny tokenizer)
LOSS_MITIGATION_COST = 1.3  # the loss mitigation's extra forward pass on counterfactuals
# seconds per item scored, per task, with the tiny-s model (generation tasks dominate)
EVAL_SECONDS_PER_ITEM = {
    "stereo_pairs": 0.00063, "coref": 0.00087, "bias_qa": 0.0012, "toxicity_detection": 0.0011,
    "sentiment_cf": 0.0016, "general_knowledge": 0.00049, "story": 0.0063, "salary": 0.0080,
    "hiring": 0.0037, "values": 0.0018,
}
AUDIT_SECONDS_PER_RECORD = 0.0088  # embedding (empty cache), permutation tests and the rest, per record
STARTUP_SECONDS = 4.0  # imports, the corpus, generation, worker start-up
REPORT_SECONDS = 8.0  # the results table, the findings and the report

# The reference machine's time for :func:`machine_slowness`'s workload, measured when the figures
# above were (median of five, nothing else running). Machines of this kind differ about twofold,
# and a busy machine is slower still, so the estimate scales by what the probe sees.
PROBE_REFERENCE_SECONDS = 0.090


def _probe_once() -> float:
    """One tiny-model-sized training workload on one thread: a transformer layer's forward and
    backward passes and an AdamW step, as a study's cells run them."""
    import time

    import torch

    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=256, batch_first=True)
    optimizer = torch.optim.AdamW(layer.parameters(), lr=1e-3)
    x = torch.randn(8, 48, 128)
    start = time.perf_counter()
    for _ in range(12):
        optimizer.zero_grad()
        layer(x).pow(2).mean().backward()
        optimizer.step()
    return time.perf_counter() - start


def machine_slowness() -> float:
    """How many times slower this machine is, now, than the reference machine was (1.0 there; 2
    on a machine half as fast or with its cores busy): the median of five short probes."""
    import statistics

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a study's workers train on one thread each
    try:
        _probe_once()  # warm-up: allocations, kernels
        return statistics.median(_probe_once() for _ in range(5)) / PROBE_REFERENCE_SECONDS
    finally:
        torch.set_num_threads(threads)


def _preset(config: StudyConfig) -> str | None:
    from biasinherit.models.tiny import TINY_PRESETS, tiny_preset

    model = str(config.model.get("model", "tiny"))
    if model.startswith("hf:"):
        return None
    name = tiny_preset(model).name
    return name if name in TINY_PRESETS else None


def _eval_seconds(config: StudyConfig) -> float:
    from biasinherit.tasks.registry import resolve_tasks

    total = 0.0
    for task in resolve_tasks(",".join(config.tasks.names)):
        n = len(task.build_items(seed=0, full=config.tasks.full))
        if config.tasks.limit is not None:
            n = min(n, config.tasks.limit)
        total += n * EVAL_SECONDS_PER_ITEM.get(task.name, 0.003)
    return total


def estimate_seconds(config: StudyConfig, cells: list[Cell], *, cores: int = 2,
                     slowness: float | None = None) -> dict[str, Any] | None:
    """Estimated wall seconds on this machine and their parts, or None for hf models.
    ``slowness``: this machine against the reference (default: measured by
    :func:`machine_slowness`, about a second); 1.0 gives the reference machine's time."""
    from biasinherit.mixing import mix_counts

    preset = _preset(config)
    if preset is None:
        return None
    speed = TRAIN_TOKENS_PER_SECOND[preset]
    n_original = config.data.corpus_size if config.data.path is None else None
    if n_original is None:
        from biasinherit.records import load_records

        n_original = len(load_records(config.data.path, columns=config.data.columns or None))
    epochs = config.model.get("epochs") or 4
    pretrain = (n_original * TOKENS_PER_RECORD * config.pretrain.epochs / speed) if config.uses_base else 0.0
    evaluation = _eval_seconds(config)
    cell_seconds = 0.0
    for cell in cells:
        size = mix_counts(cell.ratio, size=config.mix.size, n_original=n_original, mode=config.mix.mode).total
        train = size * TOKENS_PER_RECORD * epochs / speed
        if cell.mitigation == "loss":
            train *= LOSS_MITIGATION_COST
        cell_seconds += train + evaluation
    audits = 0.0
    if config.audit.enabled:
        audits = len(config.bias_types) * 2 * config.audit.max_records * AUDIT_SECONDS_PER_RECORD
    workers = min(config.executor.resolved_workers(config.model), cores)
    # the base trains on one core while the audits start on the other; then the cells share all
    # cores with whatever audit work is left
    audit_left = max(0.0, audits - pretrain)
    reference = STARTUP_SECONDS + pretrain + (cell_seconds + audit_left) / max(1, workers) + REPORT_SECONDS
    if slowness is None:
        slowness = machine_slowness()
    return {"seconds": reference * slowness, "reference_seconds": reference, "slowness": slowness,
            "pretrain": pretrain, "cells_cpu": cell_seconds, "audits_cpu": audits,
            "evaluation_per_cell": evaluation, "workers": workers, "cores": cores,
            "per_cell_mean": cell_seconds / len(cells) if cells else math.nan}


def format_minutes(seconds: float) -> str:
    """'1.7 min' under ten minutes (so a 100-s study does not read '~2 min'), else whole minutes."""
    minutes = seconds / 60
    return f"{minutes:.1f} min" if minutes < 10 else f"{minutes:.0f} min"
