"""``biasinherit evaluate``: the ten tasks and real benchmarks on one model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from biasinherit.cli._common import as_flags, console, log_warnings_to_stderr, parse_mapping, seed_option
from biasinherit.limits import MAX_BATCH, MAX_THREADS


def evaluate(
    model: Annotated[str, typer.Option(help="model folder (with or without hf:), hf:<hub id>, or openai:<model>")],
    tasks: Annotated[Optional[str], typer.Option(
        help="'all' or comma-separated task names (default: all, or none when --benchmark is given)")] = None,
    benchmark: Annotated[Optional[list[str]], typer.Option(
        help="real benchmark NAME=PATH (crows_pairs, bbq, winobias, winogender); repeatable")] = None,
    protocol: Annotated[str, typer.Option(help="benchmark protocol: original | lm-eval")] = "original",
    out: Annotated[Path, typer.Option(help="output folder for results.csv and results.json")] = Path("eval"),
    limit: Annotated[Optional[str], typer.Option(
        help="at most this many items per task: N, or TASK=N,TASK=N (other tasks keep their size)")] = None,
    full: Annotated[bool, typer.Option("--full", help="all built-in items instead of the quick sample")] = False,
    seed: Annotated[int, seed_option("seed for item sampling, generation and bootstrap")] = 0,
    n_boot: Annotated[int, typer.Option(help="bootstrap resamples per metric", min=0, max=1_000_000)] = 200,
    batch_size: Annotated[int, typer.Option(help="rows per forward pass (a row packs requests that share prefixes); "
                                                 "compare models at one batch size: its rounding can change greedy generations",
                                            min=1, max=MAX_BATCH)] = 32,
    threads: Annotated[Optional[int], typer.Option(
        help="torch CPU threads (1 is fastest for tiny models on a busy machine; default: torch's)",
        min=1, max=MAX_THREADS)] = None,
    base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible base URL (openai:)")] = None,
    api_key_env: Annotated[str, typer.Option(help="environment variable with the API key (openai:)")] = "OPENAI_API_KEY",
    chat_template: Annotated[str, typer.Option(
        help="generation tasks: prompt through the model's chat template: auto (when it has one; "
             "openai: chat messages) | on | off (the corpus's own prompt format)")] = "auto",
    save_generations: Annotated[bool, typer.Option(
        help="write each generation task's prompts, outputs and parsed values to "
             "OUT/generations/<task>.jsonl")] = True,
) -> None:
    """Evaluate a model on the bias tasks; writes a tidy results table and prints it."""
    import biasinherit
    from biasinherit.tasks.base import parse_limit

    log_warnings_to_stderr()  # retries of an openai: model are said as they happen
    from rich.table import Table

    con = console()
    with as_flags(biasinherit.evaluate, {"benchmarks": "--benchmark"}), con.status("evaluating") as status:
        frame = biasinherit.evaluate(
            model, tasks=tasks, benchmarks=parse_mapping(benchmark, "--benchmark"), protocol=protocol,
            limit=parse_limit(limit), full=full, seed=seed, n_boot=n_boot, batch_size=batch_size, threads=threads,
            base_url=base_url, api_key_env=api_key_env, chat_template=chat_template,
            save_generations=save_generations, out=out,
            on_task=lambda name, k, n: status.update(f"task {k + 1}/{n}: {name}"))
    table = Table(title=f"results ({protocol if benchmark else 'built-in'})")
    for col in ("task", "metric", "value", "95% CI", "n", "ideal"):
        table.add_column(col, justify="right" if col not in ("task", "metric") else "left")
    for r in frame.itertuples():
        ci = f"[{r.ci_low:.3f}, {r.ci_high:.3f}]" if r.ci_low == r.ci_low else "-"
        ideal = "" if r.ideal is None or r.ideal != r.ideal else f"{r.ideal:g}"
        table.add_row(r.task, r.metric, f"{r.value:.4f}", ci, str(r.n), ideal)
    from rich.console import Console

    Console().print(table)
    csv_path = Path(frame.attrs["path"])
    con.print(f"wrote {csv_path} and {csv_path.with_suffix('.json')}")
    generations = out / "generations"
    if save_generations and generations.is_dir():
        con.print(f"generations: {generations}/<task>.jsonl")


def register(app: typer.Typer) -> None:
    app.command()(evaluate)
