"""Data commands: ``corpus``, ``generate``, ``mix``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from biasinherit.cli._common import (
    COLUMN_OPTION,
    FORMAT_OPTION,
    SPLIT_OPTION,
    as_flags,
    console,
    log_warnings_to_stderr,
    parse_mapping,
    seed_option,
)
from biasinherit.limits import MAX_BATCH, MAX_CORPUS_SIZE, MAX_RECORDS

if TYPE_CHECKING:
    from biasinherit.records import Record


def corpus(
    out: Annotated[Path, typer.Option(help="output file (.jsonl, .csv, .parquet) or, with --format hf, a "
                                           "Hugging Face dataset folder")] = Path("corpus.jsonl"),
    size: Annotated[int, typer.Option(help=f"number of records (1 to {MAX_CORPUS_SIZE:,}; gender-balanced at every size)",
                                      min=1, max=MAX_CORPUS_SIZE)] = 2000,
    seed: Annotated[int, seed_option()] = 0,
    format: Annotated[Optional[str], FORMAT_OPTION] = None,
) -> None:
    """Write the built-in original corpus (seeded, counterbalanced)."""
    import biasinherit

    with as_flags(biasinherit.corpus):
        records = biasinherit.corpus(size=size, seed=seed, out=out, format=format)
    console().print(f"wrote {len(records)} records to {out}")


def generate(
    input: Annotated[Path, typer.Option("--input", help="original records (JSONL, CSV, Parquet, a dataset folder)")],
    out: Annotated[Path, typer.Option(help="output file (.jsonl, .csv, .parquet) or, with --format hf, a folder")],
    generator: Annotated[str, typer.Option(help="builtin | openai | hf")] = "builtin",
    bias_type: Annotated[str, typer.Option(help="e.g. gender.association, or 'plain'")] = "plain",
    intensity: Annotated[float, typer.Option(help="share of outputs carrying the bias (0-1)", min=0.0, max=1.0)] = 1.0,
    polarity: Annotated[Optional[str], typer.Option(help="negative | positive (stereotype only)")] = None,
    n: Annotated[int, typer.Option(help=f"how many augmented records (1 to {MAX_RECORDS:,})", min=1, max=MAX_RECORDS)] = 1000,
    seed: Annotated[int, seed_option()] = 0,
    model: Annotated[Optional[str], typer.Option(help="model name (openai) or path (hf)")] = None,
    base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible base URL")] = None,
    api_key_env: Annotated[str, typer.Option(help="environment variable holding the API key")] = "OPENAI_API_KEY",
    concurrency: Annotated[int, typer.Option(help="parallel requests (openai)", min=1, max=1024)] = 8,
    cache_dir: Annotated[Optional[Path], typer.Option(help="request cache folder (openai)")] = None,
    temperature: Annotated[float, typer.Option(help="sampling temperature (openai, hf)", min=0.0, max=2.0)] = 0.7,
    max_new_tokens: Annotated[int, typer.Option(help="tokens per reply (openai, hf)", min=1, max=32768)] = 256,
    timeout: Annotated[float, typer.Option(help="seconds per request before retrying (openai)", min=0.001,
                                           max=86400.0)] = 60.0,
    max_retries: Annotated[int, typer.Option(help="retries per request (openai)", min=0, max=100)] = 8,
    batch_size: Annotated[int, typer.Option(help="prompts per generation batch (hf)", min=1, max=MAX_BATCH)] = 8,
    on_unparseable: Annotated[str, typer.Option(
        help="a reply that does not parse after --parse-retries new tries: 'error' (fail with the "
             "count) or 'raw' (keep the text as the response, marked meta.parse_failed) (openai, hf)")] = "error",
    parse_retries: Annotated[int, typer.Option(
        help="new tries (new seed) for a reply that does not parse (openai, hf)")] = 2,
    request_style: Annotated[str, typer.Option(
        help="'rewrite': the model rewrites the original's answer (plain-text reply; small models "
             "follow it) or 'example': it writes a new example as a JSON object {prompt, response} "
             "(openai, hf)")] = "rewrite",
    chat_template: Annotated[str, typer.Option(
        help="auto: prompt through the model's chat template when it has one (openai: chat "
             "messages) | on | off (raw text; openai: the completions endpoint) (openai, hf)")] = "auto",
    column: Annotated[Optional[list[str]], COLUMN_OPTION] = None,
    split: Annotated[Optional[str], SPLIT_OPTION] = None,
    format: Annotated[Optional[str], FORMAT_OPTION] = None,
) -> None:
    """Write augmented records for one bias type (or plain augmentation)."""
    from rich.progress import Progress

    import biasinherit

    log_warnings_to_stderr()  # retries and skipped replies are said as they happen
    with as_flags(biasinherit.generate, {"input": "--input"}), \
            Progress(console=console(), transient=True) as bar:
        task = bar.add_task(f"generating ({generator})", total=n)
        records = biasinherit.generate(
            input, generator=generator, bias_type=bias_type, intensity=intensity, polarity=polarity, n=n,
            seed=seed, model=model, base_url=base_url, api_key_env=api_key_env, concurrency=concurrency,
            cache_dir=cache_dir, temperature=temperature, max_new_tokens=max_new_tokens, timeout=timeout,
            max_retries=max_retries, batch_size=batch_size, on_unparseable=on_unparseable,
            parse_retries=parse_retries, request_style=request_style, chat_template=chat_template,
            columns=parse_mapping(column, "--column") or None, split=split, out=out, format=format,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    console().print(f"wrote {len(records)} augmented records to {out}")
    if generator != "builtin" and records:
        console().print(reply_summary(records))


def reply_summary(records: Sequence[Record]) -> str:
    """'parsed 27 of 30 replies (rewrite 27); 3 kept raw, marked meta.parse_failed'."""
    from collections import Counter

    formats = Counter(r.meta.get("generation", {}).get("reply_format") for r in records
                      if not r.meta.get("parse_failed"))
    failed = sum(bool(r.meta.get("parse_failed")) for r in records)
    parsed = len(records) - failed
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(formats.items()) if k)
    line = f"parsed {parsed} of {len(records)} replies ({parsed / len(records):.0%}{'; ' + kinds if kinds else ''})"
    if failed:
        line += f"; {failed} kept raw, marked meta.parse_failed (audit leaves them out)"
    return line


def mix(
    original: Annotated[Path, typer.Option(help="original records (JSONL, CSV, Parquet, a dataset folder)")],
    augmented: Annotated[Path, typer.Option(help="augmented records")],
    ratio: Annotated[float, typer.Option(help="share of augmented records (0-1)", min=0.0, max=1.0)],
    out: Annotated[Path, typer.Option(help="output file (.jsonl, .csv, .parquet) or, with --format hf, a folder")],
    size: Annotated[Optional[int], typer.Option(
        help=f"total size (replace mode; 1 to {MAX_RECORDS:,}; default: all originals)", min=1, max=MAX_RECORDS)] = None,
    mode: Annotated[str, typer.Option(help="replace | add")] = "replace",
    seed: Annotated[int, seed_option()] = 0,
    column: Annotated[Optional[list[str]], COLUMN_OPTION] = None,
    split: Annotated[Optional[str], SPLIT_OPTION] = None,
    format: Annotated[Optional[str], FORMAT_OPTION] = None,
) -> None:
    """Mix original and augmented records at a bias ratio."""
    import biasinherit

    with as_flags(biasinherit.mix):
        mixed = biasinherit.mix(original, augmented, ratio=ratio, size=size, mode=mode, seed=seed,
                                columns=parse_mapping(column, "--column") or None, split=split, out=out,
                                format=format)
    n_aug = sum(r.source == "augmented" for r in mixed)
    console().print(f"wrote {len(mixed)} records ({n_aug} augmented, {len(mixed) - n_aug} original) to {out}")


def register(app: typer.Typer) -> None:
    app.command()(corpus)
    app.command()(generate)
    app.command()(mix)
