"""Study commands: ``study`` and ``report``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from biasinherit.cli._common import console, log_warnings_to_stderr
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

        def stage(self, name: str) -> None:
            self.bar.update(self.grid_task, description=f"cells  [dim]{name}[/]")

        def grid(self, done: int, total: int) -> None:
            self.bar.update(self.grid_task, completed=done, total=total)

        def cell_started(self, cell: Any) -> None:
            self.bar.update(self.cell_task, description=f"  {cell.key}", completed=0, total=None, visible=True)

        def running(self, cells: list[Any]) -> None:
            self.bar.update(self.grid_task, description="cells  [dim]running " + "; ".join(c.label for c in cells) + "[/]")

        def cell_step(self, cell: Any, step: int, total: int, loss: float) -> None:
            self.bar.update(self.cell_task, completed=step, total=total,
                            description=f"  {cell.key} (loss {loss:.3f})")

    return RichStudyProgress()


def _check_data(cfg: Any, out: Path) -> None:
    """Check a study's model folder and read its own data file once before the run folder is
    made, so a bad input leaves nothing behind (a resumed run has its data under data/)."""
    from biasinherit.errors import BiasInheritError
    from biasinherit.records import load_records
    from biasinherit.studies.shared import original_path

    model = str(cfg.model.get("model", "tiny"))
    if model.startswith("hf:"):
        from biasinherit.models.check import check_model_spec

        check_model_spec(model, field="model.model", allow_openai=False)
    from biasinherit.studies.evaluation import load_benchmark_items

    for name, path in cfg.tasks.benchmarks.items():
        if not Path(path).exists():
            raise BiasInheritError("benchmark file not found", path=path, field=f"tasks.benchmarks.{name}")
        load_benchmark_items(name, path, cfg.tasks.protocol)  # read and validated before any work
    if cfg.data.path is None or original_path(out).exists():
        return
    if not load_records(cfg.data.path, columns=cfg.data.columns or None):
        raise BiasInheritError("no records: nothing to study", path=cfg.data.path, field="data.path")


def study(
    config: Annotated[Optional[Path], typer.Option(help="study config (TOML or YAML)")] = None,
    preset: Annotated[Optional[str], typer.Option(help="quick | power | paper (default: quick)")] = None,
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

    from biasinherit.errors import BiasInheritError
    from biasinherit.studies import describe_grid, load_study_config, run_study
    from biasinherit.studies.executors import check_executor

    cfg = load_study_config(config, preset=preset)
    if executor is not None or address is not None:
        if executor is not None:
            check_executor(executor)
        section = cfg.executor.model_copy(update={k: v for k, v in
                                                  {"name": executor, "address": address}.items() if v is not None})
        cfg = cfg.model_copy(update={"executor": section})
    if cfg.executor.address and cfg.executor.name != "ray":
        raise BiasInheritError("--address needs --executor ray", field="--address")
    con = console()
    if dry_run:
        plan = describe_grid(cfg)
        table = Table(title=f"study '{cfg.name}': {plan['n_cells']} cells")
        for col in ("seed", "bias_type", "ratio", "mitigation"):
            table.add_column(col)
        for c in plan["cells"]:
            table.add_row(str(c["seed"]), str(c["bias_type"]), f"{c['ratio']:g}", str(c["mitigation"]))
        out_con = __import__("rich.console", fromlist=["Console"]).Console()
        out_con.print(table)
        est = plan["estimated_seconds_on_2_cpu_cores"]
        out_con.print(f"{plan['n_generations']} generations, {plan['n_audits']} audits, "
                      f"{plan['n_training_runs']} training runs + evaluations; estimate: "
                      + (f"~{format_minutes(est)} on 2 CPU cores" if est is not None else "depends on the model and hardware"))
        return
    from biasinherit.outputs import check_output_folder
    from biasinherit.studies.lock import study_lock
    from biasinherit.studies.run import open_run_dir

    check_output_folder(out, inputs=[config, cfg.data.path])
    _check_data(cfg, out)
    log_warnings_to_stderr()
    with contextlib.ExitStack() as held:
        if out.is_dir():  # a busy folder is refused before a Ray is started or joined
            held.enter_context(study_lock(out))
        if cfg.executor.name == "ray":
            from biasinherit.studies.executors import check_ray_address, start_ray

            if cfg.executor.address:
                check_ray_address(cfg.executor.address)
            if start_ray(cfg.executor.address):  # a refused cluster is said before any work
                held.callback(__import__("ray").shutdown)
        held.enter_context(study_lock(out))  # one study per folder (re-entrant; makes a new folder)
        open_run_dir(cfg, out, force=force)  # refuse another config's folder before any output
        ui = _progress_ui(con)
        with ui.bar:
            outcome = run_study(cfg, out, force=force, keep_models=keep_models, progress=ui)
    con.print(f"{outcome.cells_run} cells run, {outcome.cells_skipped} reused, "
              f"{outcome.table_rows} result rows in {outcome.seconds:.0f} s")
    if profile:
        t = Table(title="time per stage (s)")
        t.add_column("stage")
        t.add_column("seconds", justify="right")
        for stage, seconds in sorted(outcome.stage_seconds.items()):
            t.add_row(stage, f"{seconds:.1f}")
        con.print(t)
    print(f"results: {outcome.run_dir / 'results.csv'}")
    if outcome.report is not None:
        print(f"report: {outcome.report}")


def report(run_dir: Annotated[Path, typer.Argument(help="a study's run folder")]) -> None:
    """Rebuild RUN_DIR/report.html from its results table."""
    from biasinherit.reporting import write_report
    from biasinherit.studies.run_folder import check_run_folder

    check_run_folder(run_dir)
    print(f"report: {write_report(run_dir)}")


def register(app: typer.Typer) -> None:
    app.command()(study)
    app.command()(report)
