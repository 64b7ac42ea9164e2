"""How long a study of tiny models will take on this project's reference machine (2 CPU cores),
for ``biasinherit study --dry-run``: the work counted from the config (tokens trained, task items
scored, records audited) times throughputs measured here (``benchmarks/study_estimate.py``
runs a study and prints the estimate beside the measured time).

hf models depend on the model and the hardware, so no estimate is given for them.
"""

from __future__ import annotations

import math
from typing import Any

from biasinherit.studies.config import StudyConfig
from biasinherit.studies.grid import Cell

# Measured inside studies on the reference machine (2 cores, nothing else running): two worker
# processes of one torch thread each, with the audit thread beside them, so every figure already
# holds the contention of a real run (see benchmarks/study_estimate.py, which prints the
# estimate beside a measured run). tiny-s and the evaluation were measured in a quick-sized and
# a power study; the other shapes are their earlier measurements scaled by tiny-s's speed-up
# since then (1.29: the fused optimizer step, the output head on labelled positions only).
TRAIN_TOKENS_PER_SECOND = {"tiny-xs": 8000.0, "tiny-s": 6450.0, "tiny-m": 2770.0, "tiny-l": 1160.0}
TOKENS_PER_RECORD = 34.5  # the built-in corpus and its augmentations (BPE of the tiny tokenizer)
LOSS_MITIGATION_COST = 1.3  # the loss mitigation's extra forward pass on counterfactuals
# seconds per item scored, per task, with the tiny-s model (generation tasks dominate)
EVAL_SECONDS_PER_ITEM = {
    "stereo_pairs": 0.0013, "coref": 0.0018, "bias_qa": 0.0024, "toxicity_detection": 0.0022,
    "sentiment_cf": 0.0032, "general_knowledge": 0.0010, "story": 0.0130, "salary": 0.0165,
    "hiring": 0.0077, "values": 0.0038,
}
AUDIT_SECONDS_PER_RECORD = 0.02  # embedding (empty cache), permutation tests and the rest, per record
STARTUP_SECONDS = 18.0  # imports, the corpus, generation, worker start-up
REPORT_SECONDS = 15.0


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


def estimate_seconds(config: StudyConfig, cells: list[Cell], *, cores: int = 2) -> dict[str, Any] | None:
    """Estimated wall seconds and their parts, or None for hf models."""
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
    wall = STARTUP_SECONDS + pretrain + (cell_seconds + audit_left) / max(1, workers) + REPORT_SECONDS
    return {"seconds": wall, "pretrain": pretrain, "cells_cpu": cell_seconds, "audits_cpu": audits,
            "evaluation_per_cell": evaluation, "workers": workers, "cores": cores,
            "per_cell_mean": cell_seconds / len(cells) if cells else math.nan}


def format_minutes(seconds: float) -> str:
    """'1.7 min' under ten minutes (so a 100-s study does not read '~2 min'), else whole minutes."""
    minutes = seconds / 60
    return f"{minutes:.1f} min" if minutes < 10 else f"{minutes:.0f} min"
