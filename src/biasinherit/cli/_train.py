"""``biasinherit train``: fine-tune a model on a mix, with optional mitigations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from biasinherit.cli._common import COLUMN_OPTION, SPLIT_OPTION, as_flags, console, parse_mapping, seed_option
from biasinherit.limits import MAX_BATCH, MAX_THREADS
from biasinherit.training.config import TrainConfig

_HELP = {name: field.description for name, field in TrainConfig.model_fields.items()}


def train(
    data: Annotated[Path, typer.Option(help="the training mix (JSONL, CSV, Parquet, a dataset folder)")],
    out: Annotated[Path, typer.Option(help="output model folder")],
    model: Annotated[str, typer.Option(help=_HELP["model"])] = "tiny",
    mitigation: Annotated[
        Optional[list[str]], typer.Option(help="none | token | mask | loss (repeat or comma-separate to combine)")
    ] = None,
    seed: Annotated[int, seed_option(_HELP["seed"])] = 0,
    epochs: Annotated[Optional[int], typer.Option(help=_HELP["epochs"], max=10_000)] = None,
    batch_size: Annotated[int, typer.Option(help=_HELP["batch_size"], max=MAX_BATCH)] = TrainConfig.model_fields["batch_size"].default,
    learning_rate: Annotated[Optional[float], typer.Option(help=_HELP["learning_rate"], max=10.0)] = None,
    max_length: Annotated[Optional[int], typer.Option(help=_HELP["max_length"], max=1_048_576)] = None,
    lora: Annotated[bool, typer.Option("--lora", help=_HELP["lora"])] = False,
    lora_r: Annotated[int, typer.Option(help=_HELP["lora_r"], max=4096)] = 8,
    lora_alpha: Annotated[int, typer.Option(help=_HELP["lora_alpha"], max=65536)] = 16,
    grad_accum_steps: Annotated[int, typer.Option(help=_HELP["grad_accum_steps"], max=65536)] = 1,
    gradient_checkpointing: Annotated[
        bool, typer.Option("--gradient-checkpointing", help=_HELP["gradient_checkpointing"])
    ] = False,
    dtype: Annotated[str, typer.Option(help=_HELP["dtype"])] = "auto",
    device: Annotated[str, typer.Option(help=_HELP["device"])] = "auto",
    threads: Annotated[Optional[int], typer.Option("--threads", "--num-threads", help=_HELP["num_threads"],
                                                   max=MAX_THREADS)] = None,
    tag_original: Annotated[bool, typer.Option("--tag-original", help=_HELP["tag_original"])] = False,
    mask_replace_input: Annotated[
        bool, typer.Option("--mask-replace-input", help=_HELP["mask_replace_input"])
    ] = False,
    mask_source: Annotated[str, typer.Option(help=_HELP["mask_source"] + " (lexicon | annotations)")] = "lexicon",
    lambda_aug: Annotated[
        float, typer.Option("--lambda", "--lambda-aug", help=_HELP["lambda_aug"], max=1e6)
    ] = TrainConfig.model_fields["lambda_aug"].default,
    mu_cf: Annotated[float, typer.Option("--mu", "--mu-cf", help=_HELP["mu_cf"], max=1e6)] = TrainConfig.model_fields["mu_cf"].default,
    batching: Annotated[str, typer.Option(help=_HELP["batching"] + " (length | position)")] = "length",
    column: Annotated[Optional[list[str]], COLUMN_OPTION] = None,
    split: Annotated[Optional[str], SPLIT_OPTION] = None,
) -> None:
    """Fine-tune a model on a mix and write it as a Hugging Face model folder."""
    import logging

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    import biasinherit

    logging.basicConfig(level=logging.WARNING)
    with as_flags(biasinherit.train), Progress(
        TextColumn("training"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
        TextColumn("loss {task.fields[loss]:.4f}"), TimeRemainingColumn(),
        console=console(), transient=True,
    ) as bar:
        task = bar.add_task("train", total=None, loss=float("nan"))
        result = biasinherit.train(
            data, model=model, mitigation=mitigation or None, seed=seed, epochs=epochs, batch_size=batch_size,
            learning_rate=learning_rate, max_length=max_length, lora=lora, lora_r=lora_r, lora_alpha=lora_alpha,
            grad_accum_steps=grad_accum_steps, gradient_checkpointing=gradient_checkpointing, dtype=dtype,
            device=device, threads=threads, tag_original=tag_original, mask_replace_input=mask_replace_input,
            mask_source=mask_source, lambda_aug=lambda_aug, mu_cf=mu_cf, batching=batching,
            columns=parse_mapping(column, "--column") or None, split=split, out=out,
            progress=lambda step, total, loss: bar.update(task, completed=step, total=total, loss=loss))
    meta = result.metadata
    console().print(
        f"trained {meta.base_model} on {meta.n_records} records in {meta.train_seconds:.1f}s "  # type: ignore[attr-defined]
        f"({meta.tokens_per_second:.0f} tokens/s), final loss {meta.final_loss:.6f}; "  # type: ignore[attr-defined]
        f"mitigations: {', '.join(meta.mitigations) or 'none'}; wrote {out}"
    )
    if meta.eval_prefix:
        console().print(f"evaluation prefix: {json.dumps(meta.eval_prefix)}")


def register(app: typer.Typer) -> None:
    app.command()(train)
