"""``evaluate``: one model, built-in tasks and real benchmarks, one tidy results table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError
from biasinherit.metrics import MetricResult
from biasinherit.tasks.base import EvalSettings, TaskLimit, check_limit

__all__ = ["EvaluateConfig", "Evaluation", "evaluate_model"]


@dataclass(frozen=True)
class EvaluateConfig:
    model: str  # model folder, hf:<path or id>, openai:<model>; a name only when a backend is given
    tasks: str | None = None  # 'all' or NAME,NAME; None: all unless benchmarks are given
    benchmarks: dict[str, str] = field(default_factory=dict)  # name -> path or hub id
    protocol: str = "original"  # benchmarks: original | lm-eval
    limit: TaskLimit = None  # items per task: one number, or per task name
    full: bool = False
    seed: int = 0
    n_boot: int = 200
    batch_size: int = 32
    threads: int | None = None  # torch CPU threads; None keeps torch's default
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    chat_template: str = "auto"  # generation tasks: auto | on | off
    save_generations: bool = True  # out/generations/<task>.jsonl for each generation task

    def __post_init__(self) -> None:
        from biasinherit.tasks._generation import CHAT_TEMPLATE_MODES

        if self.chat_template not in CHAT_TEMPLATE_MODES:
            raise BiasInheritError(f"chat template must be auto, on or off, got '{self.chat_template}'",
                                   field="--chat-template")
        check_limit(self.limit, "--limit")
        if self.n_boot < 0:
            raise BiasInheritError(f"n_boot must be >= 0, got {self.n_boot}", field="--n-boot")
        if self.batch_size < 1:
            raise BiasInheritError(f"batch size must be >= 1, got {self.batch_size}", field="--batch-size")


@dataclass
class Evaluation:
    """What an evaluation gives: the rows, the provenance, and where they were written (if)."""

    results: list[MetricResult]
    provenance: dict[str, Any]
    csv_path: Path | None = None


def evaluate_model(config: EvaluateConfig, *, backend: Any = None, out: Path | None = None,
                   on_task: Callable[[str, int, int], None] | None = None) -> Evaluation:
    """Run everything the config names on ``config.model`` (or on ``backend``, a model already
    open); with ``out``, write ``out/results.{csv,json}`` (the provenance says, per generation
    task, the prompt format, template use, token budget and stop strings) and
    ``out/generations/<task>.jsonl``. Nothing is written without ``out``."""
    import time
    from importlib import metadata

    from biasinherit.models.backend import open_backend
    from biasinherit.tasks.benchmarks import get_benchmark
    from biasinherit.tasks.registry import resolve_tasks
    from biasinherit.tasks.runner import GENERATIONS_DIR, run_tasks, write_results

    tasks_spec = config.tasks if config.tasks is not None else ("" if config.benchmarks else "all")
    tasks = resolve_tasks(tasks_spec) if tasks_spec else []
    if not tasks and not config.benchmarks:
        raise BiasInheritError("no tasks to run: name tasks ('all' or NAME,NAME) or a benchmark", field="--tasks")
    bench = []
    overrides: dict[str, list[Any]] = {}
    for name, path in config.benchmarks.items():
        b = get_benchmark(name, config.protocol)
        overrides[b.name] = b.load(path)  # load (and validate) before the model
        bench.append(b)
    check_limit(config.limit, "--limit", [t.name for t in [*tasks, *bench]])  # before the model loads
    if config.threads is not None:
        import torch

        torch.set_num_threads(max(1, config.threads))
    if backend is None:
        from biasinherit.models.check import check_model_spec

        check_model_spec(config.model)  # a damaged or foreign folder in one line, before anything loads
        backend = open_backend(config.model, batch_size=config.batch_size, base_url=config.base_url,
                               api_key_env=config.api_key_env)
    settings = EvalSettings(seed=config.seed, full=config.full, limit=config.limit,
                            n_boot=config.n_boot, protocol=config.protocol, chat_template=config.chat_template)
    start = time.perf_counter()
    generations_dir = out / GENERATIONS_DIR if out is not None and config.save_generations else None
    results, seconds = run_tasks(backend, [*tasks, *bench], settings, items_override=overrides,
                                 on_task=on_task, generations_dir=generations_dir)
    versions = {}
    for pkg in ("biasinherit", "torch", "transformers"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    provenance = {
        **backend.provenance(),
        "tasks": [t.name for t in tasks],
        "benchmarks": dict(config.benchmarks),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        "prompting": {t.name: t.generation_log.style for t in tasks if t.generation_log is not None},
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "total_seconds": round(time.perf_counter() - start, 3),
        "versions": versions,
    }
    csv_path = write_results(results, out, provenance)[0] if out is not None else None
    return Evaluation(results=results, provenance=provenance, csv_path=csv_path)
