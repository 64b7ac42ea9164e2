"""``biasinherit lm-eval-tasks``: the built-in tasks as an lm-evaluation-harness task folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from biasinherit.cli._common import as_flags, console, seed_option


def lm_eval_tasks(
    dir: Annotated[Path, typer.Argument(help="the folder to write (new, empty, or an earlier export)")],
    tasks: Annotated[Optional[str], typer.Option(
        help="'all' or comma-separated task names (default: every task lm-eval can carry)")] = None,
    limit: Annotated[Optional[str], typer.Option(
        help="at most this many items per task: N, or TASK=N,TASK=N (as biasinherit evaluate --limit)")] = None,
    full: Annotated[bool, typer.Option("--full", help="all built-in items instead of the quick sample")] = False,
    seed: Annotated[int, seed_option("seed for item sampling (as biasinherit evaluate --seed)")] = 0,
) -> None:
    """Write the tasks as an lm-eval task folder (run it with lm_eval --include_path DIR --tasks biasinherit)."""
    import json

    from biasinherit.integrations.lm_eval_tasks import GROUP, MANIFEST, write_lm_eval_tasks
    from biasinherit.tasks.base import parse_limit

    with as_flags(write_lm_eval_tasks, {"out_dir": "DIR"}):
        out = write_lm_eval_tasks(dir, tasks=tasks, limit=parse_limit(limit), full=full, seed=seed)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    con = console()
    con.print(f"wrote {len(manifest['tasks'])} tasks ({', '.join(manifest['tasks'])}) to {out}")
    for name, why in manifest["left_out"].items():
        con.print(f"left out {name}: {why}", soft_wrap=True)
    con.print(f"run: lm_eval --model hf --model_args pretrained=MODEL,dtype=float32 --include_path {out} "
              f"--tasks {GROUP}   (see {out / 'README.md'})", soft_wrap=True)
    print(out)


def register(app: typer.Typer) -> None:
    app.command("lm-eval-tasks")(lm_eval_tasks)
