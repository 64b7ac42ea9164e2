"""Data commands: ``corpus``, ``generate``, ``mix``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from biasinherit.cli._common import console, flag_error, log_warnings_to_stderr, parse_mapping, seed_option
from biasinherit.limits import MAX_BATCH, MAX_CORPUS_SIZE, MAX_RECORDS

if TYPE_CHECKING:
    from biasinherit.records import Record


def corpus(
    out: Annotated[Path, typer.Option(help="output JSONL file")] = Path("corpus.jsonl"),
    size: Annotated[int, typer.Option(help=f"number of records (1 to {MAX_CORPUS_SIZE:,}; gender-balanced at every size)",
                                      min=1, max=MAX_CORPUS_SIZE)] = 2000,
    seed: Annotated[int, seed_option()] = 0,
) -> None:
    """Write the built-in original corpus (seeded, counterbalanced)."""
    from biasinherit.corpora import CorpusConfig, build_corpus
    from biasinherit.outputs import check_output_file
    from biasinherit.records import write_jsonl

    check_output_file(out)
    records = build_corpus(CorpusConfig(size=size, seed=seed))
    n = write_jsonl(records, out)
    console().print(f"wrote {n} records to {out}")


def generate(
    input: Annotated[Path, typer.Option("--input", help="original records (JSONL, CSV, Parquet)")],
    out: Annotated[Path, typer.Option(help="output JSONL file")],
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
    column: Annotated[Optional[list[str]], typer.Option(help="map a foreign column: ours=theirs")] = None,
) -> None:
    """Write augmented records for one bias type (or plain augmentation)."""
    from pydantic import ValidationError

    from biasinherit.generators import GenerationRequest, get_generator
    from biasinherit.outputs import check_output_file
    from biasinherit.records import load_records, write_jsonl
    from biasinherit.taxonomy import load_taxonomy

    check_output_file(out, inputs=[input])
    if cache_dir is not None:
        from biasinherit.outputs import check_output_folder

        check_output_folder(cache_dir, inputs=[input, out], field="--cache-dir")
    try:
        request = GenerationRequest(
            bias_type=bias_type, intensity=intensity, polarity=polarity, n=n, seed=seed  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        raise flag_error(exc) from None
    request.validate_against(load_taxonomy())
    columns = parse_mapping(column, "--column") or None
    options: dict[str, object] = {}
    if generator == "openai":
        options = dict(model=model, base_url=base_url, api_key_env=api_key_env,
                       concurrency=concurrency, cache_dir=cache_dir, temperature=temperature,
                       max_tokens=max_new_tokens, timeout=timeout, max_retries=max_retries,
                       on_unparseable=on_unparseable, parse_retries=parse_retries,
                       request_style=request_style, chat_template=chat_template)
    elif generator == "hf":
        options = dict(model=model, temperature=temperature, max_new_tokens=max_new_tokens,
                       batch_size=batch_size, on_unparseable=on_unparseable, parse_retries=parse_retries,
                       request_style=request_style, chat_template=chat_template)
    gen = get_generator(generator, **options)  # a bad option or model fails before the input is read
    originals = load_records(input, columns=columns)
    if not originals:
        from biasinherit.errors import BiasInheritError

        raise BiasInheritError("no records: nothing to augment", path=input)
    log_warnings_to_stderr()  # retries and skipped replies are said as they happen
    from rich.progress import Progress

    with Progress(console=console(), transient=True) as bar:
        task = bar.add_task(f"generating ({generator})", total=request.n)
        records = gen.generate(originals, request, progress=lambda done, total: bar.update(task, completed=done, total=total))
    written = write_jsonl(records, out)
    console().print(f"wrote {written} augmented records to {out}")
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
    original: Annotated[Path, typer.Option(help="original records")],
    augmented: Annotated[Path, typer.Option(help="augmented records")],
    ratio: Annotated[float, typer.Option(help="share of augmented records (0-1)", min=0.0, max=1.0)],
    out: Annotated[Path, typer.Option(help="output JSONL file")],
    size: Annotated[Optional[int], typer.Option(
        help=f"total size (replace mode; 1 to {MAX_RECORDS:,}; default: all originals)", min=1, max=MAX_RECORDS)] = None,
    mode: Annotated[str, typer.Option(help="replace | add")] = "replace",
    seed: Annotated[int, seed_option()] = 0,
) -> None:
    """Mix original and augmented records at a bias ratio."""
    from biasinherit.errors import BiasInheritError
    from biasinherit.mixing import check_unique_ids, mix_at_ratio, mix_counts
    from biasinherit.outputs import check_output_file, same_path
    from biasinherit.records import load_records, write_jsonl

    if mode not in ("replace", "add"):
        raise BiasInheritError(f"unknown mix mode '{mode}' (use replace or add)", field="--mode")
    if size is not None and mode == "add":
        raise BiasInheritError("--size applies to replace mode; add mode keeps every original record", field="--size")
    if original.exists() and same_path(original, augmented):
        raise BiasInheritError("the same file is given as --original and --augmented", path=augmented,
                               field="--augmented")
    check_output_file(out, inputs=[original, augmented])
    mix_counts(ratio, size=size, n_original=0 if mode == "replace" else 1, mode=mode)  # type: ignore[arg-type]
    orig = load_records(original)
    aug = load_records(augmented)
    check_unique_ids(orig, path=original)
    check_unique_ids(aug, path=augmented, others=orig, others_path=original)
    if not orig and mode == "add":
        raise BiasInheritError("no records: add mode needs original records", path=original)
    mixed = mix_at_ratio(orig, aug, ratio=ratio, size=size, mode=mode, seed=seed)  # type: ignore[arg-type]
    if not mixed:
        raise BiasInheritError("the mix would be empty (no original records and ratio 0)", path=original)
    n = write_jsonl(mixed, out)
    n_aug = sum(r.source == "augmented" for r in mixed)
    console().print(f"wrote {n} records ({n_aug} augmented, {n - n_aug} original) to {out}")


def register(app: typer.Typer) -> None:
    app.command()(corpus)
    app.command()(generate)
    app.command()(mix)
