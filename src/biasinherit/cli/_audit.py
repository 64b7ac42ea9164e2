"""``biasinherit audit``: misalignment of augmented data against the original."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from biasinherit.cli._common import console, flag_error, seed_option


def audit(
    original: Annotated[Path, typer.Argument(help="original records (JSONL, CSV, Parquet)")],
    augmented: Annotated[Path, typer.Argument(help="augmented records (JSONL, CSV, Parquet)")],
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
) -> None:
    """Compare augmented data with the original: values, group data, data distribution."""
    from pydantic import ValidationError
    from rich.progress import Progress
    from rich.table import Table

    from biasinherit.analysis.audit import AuditConfig, run_audit, write_audit
    from biasinherit.analysis.embeddings import EmbeddingModel
    from biasinherit.errors import BiasInheritError
    from biasinherit.outputs import check_output_folder
    from biasinherit.records import load_records

    if out is not None:  # before the work: a bad --out used to fail after minutes of auditing
        check_output_folder(out, inputs=[original, augmented], files=["audit.json", "audit.html"])
    if cache_dir is not None:
        check_output_folder(cache_dir, inputs=[original, augmented], field="--cache-dir")
    try:
        config = AuditConfig(embedding_model=embedding_model, cache_dir=cache_dir, max_embedded=max_embedded,
                             n_permutations=permutations, seed=seed, include_parse_failed=include_parse_failed,
                             min_count=min_count)
    except ValidationError as exc:
        raise flag_error(exc, {"n_permutations": "--permutations"}) from None
    embedder = EmbeddingModel(config.embedding_model, cache_dir=config.cache_dir)  # fail fast on a bad path
    orig = load_records(original)
    aug = load_records(augmented)
    if not orig:
        raise BiasInheritError("no records: nothing to compare with", path=original)
    if not aug:
        raise BiasInheritError("no records: nothing to audit", path=augmented)
    con = console()
    with Progress(console=con, transient=True) as bar:
        task = bar.add_task("auditing", total=3)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        report = run_audit(orig, aug, config, embedder=embedder, progress=progress)
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
        paths = write_audit(report, out, inputs={"original": str(original), "augmented": str(augmented)})
        con.print(f"wrote {paths['json']} and {paths['html']}")


def register(app: typer.Typer) -> None:
    app.command()(audit)
