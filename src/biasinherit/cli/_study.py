"""Study commands: ``study`` and ``report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from biasinherit.cli._common import as_flags, console, log_warnings_to_stderr
from biasinherit.studies.estimate import format_minutes


def _progress_ui(con: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from biasinherit.studies import StudyProgress

    class RichStudyProgress(StudyProgress):
        def __init__(self) -> None:
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=con, transient=False)
            self.grid_task = self.bar.add_task("cells", total=None)
            self.cell_task = self.bar.add_task("", total=None, visible=False)
            self.started = False

        def _update(self, task: Any, **fields: Any) -> None:
            # the bar appears with the first progress, so an input refused before any work is
            # the only line printed
            if not self.started:
                self.bar.start()
                self.started = True
            self.bar.update(task, **fields)

        def stop(self) -> None:
            if self.started:
                self.bar.stop()

        def stage(self, name: str) -> None:
            self._update(self.grid_task, description=f"cells  [dim]{name}[/]")

        def grid(self, done: int, total: int) -> None:
            self._update(self.grid_task, completed=done, total=total)

        def cell_started(self, cell: Any) -> None:
            self._update(self.cell_task, description=f"  {cell.key}", completed=0, total=None, visible=True)

        def running(self, cells: list[Any]) -> None:
            self._update(self.grid_task, description="cells  [dim]running " + "; ".join(c.label for c in cells) + "[/]")

        def cell_step(self, cell: Any, step: int, total: int, loss: float) -> None:
            self._update(self.cell_task, completed=step, total=total, description=f"  {cell.key} (loss {loss:.3f})")

    return RichStudyProgress()


def study(
    config: Annotated[Optional[Path], typer.Option(help="study config (TOML or YAML)")] = None,
    preset: Annotated[Optional[str], typer.Option(help="quick (the default: the fast smoke run) | power | demo (power + a negative control: make demo) | paper")] = None,
    out: Annotated[Path, typer.Option(help="run folder")] = Path("runs/quick"),
    executor: Annotated[Optional[str], typer.Option(help="local | ray (overrides the config)")] = None,
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address (default: a local Ray)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the cells and an estimate; run nothing")] = False,
    force: Annotated[bool, typer.Option("--force", help="discard results of another config in --out")] = False,
    keep_models: Annotated[bool, typer.Option("--keep-models", help="keep each cell's trained model")] = False,
    profile: Annotated[bool, typer.Option("--profile", help="print the time spent in each stage")] = False,
) -> None:
    """Run a bias-inheritance study (default: the offline quick preset) and write its report."""
    from rich.table import Table

    import biasinherit
    from biasinherit.api._study import study_config
    from biasinherit.studies import describe_grid

    con = console()
    if dry_run:
        with as_flags(biasinherit.study):
            cfg = study_config(config, preset=preset, executor=executor, address=address)
        plan = describe_grid(cfg)
        table = Table(title=f"study '{cfg.name}': {plan['n_cells']} cells")
        for col in ("seed", "bias_type", "ratio", "mitigation"):
            table.add_column(col)
        for c in plan["cells"]:
            table.add_row(str(c["seed"]), str(c["bias_type"]), f"{c['ratio']:g}", str(c["mitigation"]))
        out_con = __import__("rich.console", fromlist=["Console"]).Console()
        out_con.print(table)
        est = plan["estimate"]
        if est is None:
            when = ("none: it depends on the model and hardware (estimates cover the tiny models and local "
                    "hf: folders of the Llama family on the CPU, with the builtin generator)")
        else:
            when = (f"~{format_minutes(est['seconds'])} on this machine now (it runs at "
                    f"{1 / est['slowness']:.2f}x the speed of the 2-core reference machine)")
        out_con.print(f"{plan['n_generations']} generations, {plan['n_audits']} audits, "
                      f"{plan['n_training_runs']} training runs + evaluations; estimate: {when}")
        return
    log_warnings_to_stderr()
    ui = _progress_ui(con)
    try:
        with as_flags(biasinherit.study):
            result = biasinherit.study(config, preset=preset, out=out, executor=executor, address=address,
                                       force=force, keep_models=keep_models, progress=ui)
    finally:
        ui.stop()
    outcome = result.outcome
    assert outcome is not None  # set by the run that returned it
    con.print(f"{outcome.cells_run} cells run, {outcome.cells_skipped} reused, "
              f"{outcome.table_rows} result rows in {outcome.seconds:.0f} s")
    if profile:
        t = Table(title="time per stage (s)")
        t.add_column("stage")
        t.add_column("seconds", justify="right")
        for stage, seconds in sorted(result.stage_seconds.items()):
            t.add_row(stage, f"{seconds:.1f}")
        con.print(t)
    print(f"results: {result.run_dir / 'results.csv'}")
    print(f"report: {result.report_path}")


def report(run_dir: Annotated[Path, typer.Argument(help="a study's run folder")]) -> None:
    """Rebuild RUN_DIR/report.html from its results table."""
    import biasinherit

    with as_flags(biasinherit.report, {"study": "RUN_DIR"}):
        print(f"report: {biasinherit.report(run_dir)}")


def register(app: typer.Typer) -> None:
    app.command()(study)
    app.command()(report)
