"""``biasinherit audit``: misalignment of augmented data against the original."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from biasinherit.cli._common import COLUMN_OPTION, SPLIT_OPTION, as_flags, console, parse_mapping, seed_option


def audit(
    original: Annotated[Path, typer.Argument(help="original records (JSONL, CSV, Parquet, a dataset folder)")],
    augmented: Annotated[Path, typer.Argument(help="augmented records (JSONL, CSV, Parquet, a dataset folder)")],
    out: Annotated[Optional[Path], typer.Option(help="folder for audit.json and audit.html")] = None,
    embedding_model: Annotated[str, typer.Option(help="'all-MiniLM-L6-v2' (offline) or a local sentence-transformers folder")] = "all-MiniLM-L6-v2",
    cache_dir: Annotated[Optional[Path], typer.Option(help="embedding cache folder")] = None,
    max_embedded: Annotated[int, typer.Option(help="records of each set embedded for the distribution tests",
                                              max=1_000_000)] = 2000,
    permutations: Annotated[int, typer.Option(help="permutations for p-values (10 to 100,000)", max=100_000)] = 200,
    seed: Annotated[int, seed_option()] = 0,
    include_parse_failed: Annotated[bool, typer.Option(
        "--include-parse-failed", help="also audit records whose generator reply did not parse "
                                       "(meta.parse_failed; left out by default)")] = False,
    min_count: Annotated[int, typer.Option(
        help="records or mentions a measure must rest on; below it the measure is marked 'few data'",
        min=1, max=1_000_000)] = 20,
    column: Annotated[Optional[list[str]], COLUMN_OPTION] = None,
    split: Annotated[Optional[str], SPLIT_OPTION] = None,
) -> None:
    """Compare augmented data with the original: values, group data, data distribution."""
    from rich.progress import Progress
    from rich.table import Table

    import biasinherit

    con = console()
    with as_flags(biasinherit.audit), Progress(console=con, transient=True) as bar:
        task = bar.add_task("auditing", total=3)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        report = biasinherit.audit(
            original, augmented, embedding_model=embedding_model, cache_dir=cache_dir, max_embedded=max_embedded,
            permutations=permutations, seed=seed, include_parse_failed=include_parse_failed, min_count=min_count,
            columns=parse_mapping(column, "--column") or None, split=split, out=out, progress=progress)
    table = Table(title=f"Audit: {augmented.name} vs {original.name}", show_lines=False)
    for col in ("measure", "value", "interval / p", "reading"):
        table.add_column(col, overflow="fold")
    for row in report.summary:
        value = "—" if row["value"] is None else f"{row['value']:.4f}"
        table.add_row(row["measure"], value, row["interval"], row["reading"])
    out_con = __import__("rich.console", fromlist=["Console"]).Console()
    out_con.print(table)
    out_con.print("[bold]Findings[/bold]")
    for f in report.findings:
        out_con.print(f"  • {f}")
    for n in report.notes:
        out_con.print(f"  [dim]note: {n}[/dim]")
    if out is not None:
        con.print(f"wrote {out / 'audit.json'} and {out / 'audit.html'}")


def register(app: typer.Typer) -> None:
    app.command()(audit)
