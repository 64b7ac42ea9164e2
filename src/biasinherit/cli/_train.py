"""``biasinherit train``: fine-tune a model on a mix, with optional mitigations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from biasinherit.cli._common import console
from biasinherit.train.config import TrainConfig

_HELP = {name: field.description for name, field in TrainConfig.model_fields.items()}


def _record_lines(path: Path) -> list[int] | None:
    """Line numbers of the non-blank lines of a JSONL file (for errors that name a record)."""
    if path.suffix.lower() not in (".jsonl", ".json", ".ndjson") or not path.is_file():
        return None
    with open(path, encoding="utf-8") as fh:
        return [n for n, line in enumerate(fh, start=1) if line.strip()]


def train(
    data: Annotated[Path, typer.Option(help="the training mix (JSONL, CSV, Parquet)")],
    out: Annotated[Path, typer.Option(help="output model folder")],
    model: Annotated[str, typer.Option(help=_HELP["model"])] = "tiny",
    mitigation: Annotated[
        Optional[list[str]], typer.Option(help="none | token | mask | loss (repeat or comma-separate to combine)")
    ] = None,
    seed: Annotated[int, typer.Option(help=_HELP["seed"])] = 0,
    epochs: Annotated[Optional[int], typer.Option(help=_HELP["epochs"])] = None,
    batch_size: Annotated[int, typer.Option(help=_HELP["batch_size"])] = TrainConfig.model_fields["batch_size"].default,
    learning_rate: Annotated[Optional[float], typer.Option(help=_HELP["learning_rate"])] = None,
    max_length: Annotated[Optional[int], typer.Option(help=_HELP["max_length"])] = None,
    lora: Annotated[bool, typer.Option("--lora", help=_HELP["lora"])] = False,
    lora_r: Annotated[int, typer.Option(help=_HELP["lora_r"])] = 8,
    lora_alpha: Annotated[int, typer.Option(help=_HELP["lora_alpha"])] = 16,
    grad_accum_steps: Annotated[int, typer.Option(help=_HELP["grad_accum_steps"])] = 1,
    gradient_checkpointing: Annotated[
        bool, typer.Option("--gradient-checkpointing", help=_HELP["gradient_checkpointing"])
    ] = False,
    dtype: Annotated[str, typer.Option(help=_HELP["dtype"])] = "auto",
    device: Annotated[str, typer.Option(help=_HELP["device"])] = "auto",
    num_threads: Annotated[Optional[int], typer.Option(help=_HELP["num_threads"])] = None,
    tag_original: Annotated[bool, typer.Option("--tag-original", help=_HELP["tag_original"])] = False,
    mask_replace_input: Annotated[
        bool, typer.Option("--mask-replace-input", help=_HELP["mask_replace_input"])
    ] = False,
    lambda_aug: Annotated[
        float, typer.Option("--lambda", "--lambda-aug", help=_HELP["lambda_aug"])
    ] = TrainConfig.model_fields["lambda_aug"].default,
    mu_cf: Annotated[float, typer.Option("--mu", "--mu-cf", help=_HELP["mu_cf"])] = TrainConfig.model_fields["mu_cf"].default,
) -> None:
    """Fine-tune a model on a mix and write it as a Hugging Face model folder."""
    import logging

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from biasinherit.records import load_records
    from biasinherit.train import save_trained, train_model

    logging.basicConfig(level=logging.WARNING)
    options: dict[str, object] = dict(
        model=model, mitigations=mitigation or [], seed=seed, batch_size=batch_size,
        learning_rate=learning_rate, max_length=max_length, lora=lora, lora_r=lora_r,
        lora_alpha=lora_alpha, grad_accum_steps=grad_accum_steps,
        gradient_checkpointing=gradient_checkpointing, dtype=dtype, device=device, num_threads=num_threads,
        tag_original=tag_original, mask_replace_input=mask_replace_input, lambda_aug=lambda_aug,
        mu_cf=mu_cf,
    )
    if epochs is not None:
        options["epochs"] = epochs
    config = TrainConfig(**options)  # type: ignore[arg-type]
    records = load_records(data)
    with Progress(
        TextColumn("training"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
        TextColumn("loss {task.fields[loss]:.4f}"), TimeRemainingColumn(),
        console=console(), transient=True,
    ) as bar:
        task = bar.add_task("train", total=None, loss=float("nan"))
        result = train_model(
            config, records, data_path=str(data), record_lines=_record_lines(data),
            progress=lambda step, total, loss: bar.update(task, completed=step, total=total, loss=loss),
        )
    save_trained(result, out)
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
