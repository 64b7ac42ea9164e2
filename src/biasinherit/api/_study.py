"""``study`` and ``report``: a whole bias-inheritance study, and its HTML report, as functions."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biasinherit.errors import BiasInheritError

if TYPE_CHECKING:
    from biasinherit.studies import StudyConfig, StudyProgress
    from biasinherit.studies.study import Study

__all__ = ["report", "study"]


def _config(config: Any, preset: str | None) -> StudyConfig:
    """A config file, a mapping (the file's contents), a StudyConfig, or a preset."""
    from collections.abc import Mapping

    from biasinherit.studies import StudyConfig, load_study_config

    if isinstance(config, StudyConfig):
        if preset is not None:
            raise BiasInheritError("give a config or a preset, not both", field="preset")
        from biasinherit.studies.config_checks import check_study_config

        check_study_config(config)  # built in Python: every value is the user's
        return config
    if isinstance(config, Mapping):
        from biasinherit.studies.config import study_config_from_mapping

        return study_config_from_mapping(dict(config), preset=preset)
    return load_study_config(Path(config) if config is not None else None, preset=preset)


def study_config(config: Any = None, *, preset: str | None = None, executor: str | None = None,
                 address: str | None = None) -> StudyConfig:
    """The validated config a study would run, with the executor and address overrides."""
    cfg = _config(config, preset)
    if executor is not None or address is not None:
        if executor is not None:
            from biasinherit.studies.executors import check_executor

            check_executor(executor)
        section = cfg.executor.model_copy(update={k: v for k, v in
                                                  {"name": executor, "address": address}.items() if v is not None})
        cfg = cfg.model_copy(update={"executor": section})
    if cfg.executor.address and cfg.executor.name != "ray":
        raise BiasInheritError("a Ray address needs the ray executor (--executor ray; executor='ray')", field="address")
    return cfg


def study(
    config: Any = None,
    *,
    preset: str | None = None,
    out: str | Path = "runs/quick",
    executor: str | None = None,
    address: str | None = None,
    force: bool = False,
    keep_models: bool = False,
    progress: StudyProgress | None = None,
) -> Study:
    """Run a study (default: the offline ``quick`` preset) into ``out`` and render its report;
    returns the :class:`~biasinherit.studies.study.Study` (``.results``, ``.findings``,
    ``.checks`` DataFrames, ``.report_path``). ``config`` is a TOML/YAML file, a mapping with
    the same sections, or a ``StudyConfig``. Running it again resumes: finished cells are reused."""
    from biasinherit.links import check_not_a_loop, link_target
    from biasinherit.outputs import check_output_folder
    from biasinherit.reporting import write_report
    from biasinherit.studies import run_study
    from biasinherit.studies.lock import study_lock
    from biasinherit.studies.run import open_run_dir
    from biasinherit.studies.study import load_study

    if isinstance(config, (str, Path)):
        check_not_a_loop(config, field="config")
    cfg = study_config(config, preset=preset, executor=executor, address=address)
    check_not_a_loop(out, field="out")
    config_file = Path(config) if isinstance(config, (str, Path)) else None
    check_output_folder(out, inputs=[config_file, cfg.data.path], field="out", kind="study run")
    out = link_target(out)
    check_study_inputs(cfg, out)
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
        outcome = run_study(cfg, out, force=force, keep_models=keep_models, progress=progress)
        t0 = time.perf_counter()
        if progress is not None:
            progress.stage("report")
        result = load_study(outcome.run_dir)
        write_report(result)
    result.stage_seconds = {**outcome.stage_seconds, "report": round(time.perf_counter() - t0, 3)}
    result.outcome = outcome
    return result


def check_study_inputs(cfg: StudyConfig, out: Path) -> None:
    """Check a study's model and benchmark files and read its own data once before the run
    folder is made, so a bad input leaves nothing behind (a resumed run has its data under
    data/)."""
    from biasinherit.models.check import check_model_spec
    from biasinherit.records import read_records
    from biasinherit.studies.shared import original_path

    model = str(cfg.model.get("model", "tiny"))
    if model.startswith("hf:"):
        check_model_spec(model, field="model.model", allow_openai=False)
    generator_model = cfg.generator.options.get("model")
    if cfg.generator.name == "hf" and isinstance(generator_model, str) and generator_model:
        # a folder or a hub id, checked (and a hub unreachable here said) before any work
        check_model_spec("hf:" + generator_model.removeprefix("hf:"), field="generator.options.model",
                         allow_openai=False)
    from biasinherit.studies.evaluation import load_benchmark_items

    for name, path in cfg.tasks.benchmarks.items():
        if not Path(path).exists():
            raise BiasInheritError("benchmark file not found", path=path, field=f"tasks.benchmarks.{name}")
        load_benchmark_items(name, path, cfg.tasks.protocol)  # read and validated before any work
    if cfg.data.path is None or original_path(out).exists():
        return
    from biasinherit.links import check_not_a_loop
    from biasinherit.studies.config_checks import check_study_sizes

    check_not_a_loop(cfg.data.path, field="data.path")
    records = read_records(cfg.data.path, columns=cfg.data.columns or None)
    if not records:
        raise BiasInheritError("no records: nothing to study", path=cfg.data.path, field="data.path")
    check_study_sizes(cfg, len(records), where=str(cfg.data.path))  # before pretraining, not after


def report(study: Study | str | Path) -> Path:
    """Render (or re-render) the study's ``report.html`` from its tables; returns its path."""
    from biasinherit.reporting import write_report
    from biasinherit.studies.run_folder import check_run_folder
    from biasinherit.studies.study import Study

    run_dir = study.run_dir if isinstance(study, Study) else Path(study)
    from biasinherit.links import check_not_a_loop

    check_not_a_loop(run_dir, field="study")
    check_run_folder(run_dir)
    _check_tables(run_dir)
    return write_report(study)


def _check_tables(run_dir: Path) -> None:
    """A study whose grid compared nothing (an empty ``ratios`` or ``bias_types`` in an older
    version) has empty tables; say so instead of the CSV reader's ``EmptyDataError``."""
    import pyarrow.parquet as pq

    if pq.read_metadata(run_dir / "results.parquet").num_rows == 0:
        raise BiasInheritError("results.parquet has no rows: the study ran no cells (was ratios or bias_types "
                               "empty?); fix the config and run the study again", path=run_dir)
    for name in ("findings.csv", "summary.csv"):
        path = run_dir / name
        if path.is_file() and not path.read_bytes().strip():
            raise BiasInheritError(f"{name} is empty: the study has nothing to report (was ratios or bias_types "
                                   "empty?); fix the config and run the study again", path=path)
