"""How long a study will take on this machine, for ``biasinherit study --dry-run``: the work
counted from the config (tokens trained, task items scored, records audited) times throughputs
measured on the project's reference machine (2 CPU cores), scaled by a one-second probe of how
fast this machine is now (``benchmarks/study_estimate.py`` runs a study and prints the estimate
beside the measured time).

Tiny models use their own measured throughputs. An ``hf:`` model folder is estimated from
SmolLM2-135M-Instruct's (LoRA fine-tuning and scoring on the CPU), scaled by the model's
matrix-multiply parameters per token (from its ``config.json``) and its tokenizer's tokens per
record. A study whose data an LLM writes (the ``openai`` and ``hf`` generators), a hub id that
is not a local folder, or cells on a GPU get no estimate.
"""

from __future__ import annotations

import math
from pathlib import Path
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


# SmolLM2-135M-Instruct fine-tuned with LoRA (rank 8) and scored inside a study on the
# reference machine: one worker of two torch threads (examples/real_six_types.toml, 2026-12-06).
# Per-item seconds are per task and, for generation tasks, per prompt format ("chat": through the
# model's chat template; "corpus": without); benchmarks per item. Other models scale by their
# matrix-multiply parameters per token against SmolLM2's.
HF_REFERENCE_MATMUL_PARAMS = 134.5e6  # 30 layers of width 576 (MLP 1536, 3 key-value heads) + the output head
HF_REFERENCE_THREADS = 2
HF_TRAIN_TOKENS_PER_SECOND = 310.0  # LoRA rank 8, batches of 8
HF_FULL_FINE_TUNING_COST = 1.5  # weight gradients add a third matmul to the two of a LoRA step (FLOP count)
HF_CELL_OVERHEAD_SECONDS = 1.0  # loading the model and its adapter, the mix
HF_EVAL_SECONDS_PER_ITEM = {  # the null twin's six cells (examples/real_null.toml at three seeds)
    "stereo_pairs": 0.0180, "coref": 0.0378, "bias_qa": 0.0343, "toxicity_detection": 0.0335,
    "sentiment_cf": 0.0642, "general_knowledge": 0.0129,  # general_knowledge: one evaluate run
}
HF_GENERATION_SECONDS_PER_ITEM = {  # corpus: the null twin's cells; chat: one evaluate run of all ten tasks
    "story": {"chat": 0.715, "corpus": 0.429}, "salary": {"chat": 1.60, "corpus": 0.485},
    "hiring": {"chat": 0.216, "corpus": 0.216},  # hiring without the template: not measured, the chat figure
    "values": {"chat": 0.114, "corpus": 0.0506},
}
# WinoBias and Winogender: not measured; coref's figure (the same kind of item)
HF_BENCHMARK_SECONDS_PER_ITEM = {"crows_pairs": 0.0308, "bbq": 0.0451, "winobias": 0.0378, "winogender": 0.0378}


def limit_of(config: StudyConfig, task: str) -> int | None:
    """``[tasks] limit`` for one task (None: its whole seeded set)."""
    from biasinherit.tasks.base import EvalSettings

    return EvalSettings(limit=config.tasks.limit).limit_for(task)


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
        n = min(n, limit_of(config, task.name) or n)
        total += n * EVAL_SECONDS_PER_ITEM.get(task.name, 0.003)
    return total


def estimate_seconds(config: StudyConfig, cells: list[Cell], *, cores: int = 2,
                     slowness: float | None = None) -> dict[str, Any] | None:
    """Estimated wall seconds on this machine and their parts, or None for hf models.
    ``slowness``: this machine against the reference (default: measured by
    :func:`machine_slowness`, about a second); 1.0 gives the reference machine's time."""

    preset = _preset(config)
    if preset is None:
        return _estimate_hf(config, cells, cores=cores, slowness=slowness)
    speed = TRAIN_TOKENS_PER_SECOND[preset]
    n_original = _n_original(config)
    pretrain = (n_original * TOKENS_PER_RECORD * config.pretrain.epochs / speed) if config.uses_base else 0.0
    evaluation = _eval_seconds(config)
    cell_seconds = _cells_seconds(config, cells, n_original, tokens_per_record=TOKENS_PER_RECORD,
                                  epochs=config.model.get("epochs") or 4, speed=speed, per_cell=evaluation)
    audits = _audit_seconds(config)
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


def _n_original(config: StudyConfig) -> int:
    """Records of original data: the built-in corpus's size, or the file's."""
    if config.data.path is None:
        return config.data.corpus_size
    from biasinherit.records import load_records

    return len(load_records(config.data.path, columns=config.data.columns or None))


def _cells_seconds(config: StudyConfig, cells: list[Cell], n_original: int, *, tokens_per_record: float,
                   epochs: int, speed: float, per_cell: float) -> float:
    """Reference seconds of every cell: its fine-tuning (tokens over ``speed``) and ``per_cell``
    (the evaluation, and for hf models loading the model)."""
    from biasinherit.mixing import mix_counts

    total = 0.0
    for cell in cells:
        size = mix_counts(cell.ratio, size=config.mix.size, n_original=n_original, mode=config.mix.mode).total
        train = size * tokens_per_record * epochs / speed
        if cell.mitigation == "loss":
            train *= LOSS_MITIGATION_COST
        total += train + per_cell
    return total


def _audit_seconds(config: StudyConfig) -> float:
    if not config.audit.enabled:
        return 0.0
    return len(config.bias_types) * 2 * config.audit.max_records * AUDIT_SECONDS_PER_RECORD


def _hf_folder(config: StudyConfig) -> Path | None:
    """The local model folder of an ``hf:`` study, when it has a ``config.json``."""
    model = str(config.model.get("model", ""))
    if not model.startswith("hf:"):
        return None
    folder = Path(model.removeprefix("hf:")).expanduser()
    return folder if (folder / "config.json").is_file() else None


def matmul_params(folder: Path) -> float | None:
    """Matrix-multiply parameters a token passes through (the attention and MLP projections of
    every layer, and the output head), from a Llama-family ``config.json``; None for a shape it
    does not describe."""
    import json

    try:
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        h, layers, inter, vocab = (int(cfg[k]) for k in ("hidden_size", "num_hidden_layers",
                                                         "intermediate_size", "vocab_size"))
        heads = int(cfg["num_attention_heads"])
        kv_heads = int(cfg.get("num_key_value_heads") or heads)
        head_dim = int(cfg.get("head_dim") or h // heads)
    except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
        return None
    attention = 2 * h * heads * head_dim + 2 * h * kv_heads * head_dim  # q and o; k and v
    mlp = 3 * h * inter  # gate, up and down projections
    return float(layers * (attention + mlp) + h * vocab)


def _tokens_per_record(folder: Path, config: StudyConfig) -> float | None:
    """Mean tokens per record of the study's original data under the model's tokenizer."""
    try:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except Exception:  # noqa: BLE001 - no tokenizer, no estimate: the study itself will say why
        return None
    if config.data.path is None:
        from biasinherit.corpora import CorpusConfig, build_corpus

        records = build_corpus(CorpusConfig(size=min(config.data.corpus_size, 200), seed=0))
    else:
        from biasinherit.records import load_records

        records = load_records(config.data.path, columns=config.data.columns or None)[:200]
    if not records:
        return None
    counts = [len(tokenizer(f"{r.prompt} {r.response}")["input_ids"]) + 2 for r in records]  # + BOS, EOS
    return sum(counts) / len(counts)


def _has_chat_template(folder: Path) -> bool:
    import json

    if (folder / "chat_template.jinja").exists():
        return True
    try:
        return bool(json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8")).get("chat_template"))
    except (OSError, ValueError, AttributeError):
        return False


def _hf_eval_seconds(config: StudyConfig, folder: Path) -> float | None:
    """Reference seconds to score one SmolLM2-sized model on the study's tasks and benchmarks."""
    from biasinherit.tasks.registry import resolve_tasks

    mode = config.tasks.chat_template
    style = "chat" if mode == "on" or (mode == "auto" and _has_chat_template(folder)) else "corpus"
    total = 0.0
    for task in resolve_tasks(",".join(config.tasks.names)):
        n = len(task.build_items(seed=0, full=config.tasks.full))
        n = min(n, limit_of(config, task.name) or n)
        if task.scoring == "generation":
            per_item = HF_GENERATION_SECONDS_PER_ITEM.get(task.name, {}).get(style)
        else:
            per_item = HF_EVAL_SECONDS_PER_ITEM.get(task.name)
        if per_item is None:
            return None
        total += n * per_item
    for name, path in config.tasks.benchmarks.items():
        per_item = HF_BENCHMARK_SECONDS_PER_ITEM.get(name)
        if per_item is None:
            return None
        n = config.tasks.benchmark_limit
        if n is None:
            try:
                from biasinherit.studies.evaluation import load_benchmark_items

                n = len(load_benchmark_items(name, path, config.tasks.protocol)[1])
            except Exception:  # noqa: BLE001 - an unreadable file is the study's own error to give
                return None
        total += n * per_item
    return total


def _estimate_hf(config: StudyConfig, cells: list[Cell], *, cores: int, slowness: float | None
                 ) -> dict[str, Any] | None:
    """:func:`estimate_seconds` for an ``hf:`` model folder (None where it cannot be told)."""

    folder = _hf_folder(config)
    if folder is None or config.generator.name != "builtin" or config.executor.gpus_per_cell:
        return None
    params = matmul_params(folder)
    per_record = _tokens_per_record(folder, config)
    evaluation = _hf_eval_seconds(config, folder)
    if params is None or per_record is None or evaluation is None:
        return None
    scale = params / HF_REFERENCE_MATMUL_PARAMS
    evaluation *= scale
    speed = HF_TRAIN_TOKENS_PER_SECOND / scale
    if not config.model.get("lora", False):
        speed /= HF_FULL_FINE_TUNING_COST
    cell_seconds = _cells_seconds(config, cells, _n_original(config), tokens_per_record=per_record,
                                  epochs=config.model.get("epochs") or 3, speed=speed,
                                  per_cell=HF_CELL_OVERHEAD_SECONDS + evaluation)
    audits = _audit_seconds(config)
    workers = min(config.executor.resolved_workers(config.model), cores)
    # the reference cells ran on HF_REFERENCE_THREADS threads: their core-seconds, spread over the
    # cores the study's workers use
    used = max(1, min(cores, workers * config.executor.threads))
    core_seconds = cell_seconds * min(HF_REFERENCE_THREADS, cores)
    reference = STARTUP_SECONDS + (core_seconds + audits) / used + REPORT_SECONDS
    if slowness is None:
        slowness = machine_slowness()
    return {"seconds": reference * slowness, "reference_seconds": reference, "slowness": slowness,
            "pretrain": 0.0, "cells_cpu": core_seconds, "audits_cpu": audits,
            "evaluation_per_cell": evaluation, "workers": workers, "cores": cores,
            "per_cell_mean": cell_seconds / len(cells) if cells else math.nan}


def format_minutes(seconds: float) -> str:
    """'1.7 min' under ten minutes (so a 100-s study does not read '~2 min'), else whole minutes."""
    minutes = seconds / 60
    return f"{minutes:.1f} min" if minutes < 10 else f"{minutes:.0f} min"
