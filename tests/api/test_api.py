"""The Python API, the CLI's twin: data, models and studies in the forms notebook users hold.

Each test here is one of the failures a new user met before the API existed (a DataFrame given to
mix, a model in memory given to evaluate, a folder given to train without ``hf:``, a study that
returned paths), now working, plus the layering that lets the report render from a Study.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import biasinherit
from biasinherit.errors import BiasInheritError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def originals():
    return biasinherit.corpus(size=200, seed=0)


@pytest.fixture(scope="module")
def augmented(originals):
    return biasinherit.generate(originals, bias_type="gender.association", n=200, seed=0)


@pytest.fixture(scope="module")
def trained(originals, augmented):
    mixed = biasinherit.mix(originals, augmented, ratio=0.5, seed=0)
    return biasinherit.train(mixed, model="tiny-xs", epochs=1, batch_size=16)


def test_every_command_has_a_function_of_its_name_with_its_options():
    """The CLI's options and the functions' keywords are the same names (flags in kebab case),
    and each command's default is the function's default, except --out, which is optional in
    Python (nothing is written without it)."""
    import typer.main

    from biasinherit.cli import app

    command = typer.main.get_command(app)
    renamed = {("generate", "column"): "columns", ("mix", "column"): "columns", ("train", "column"): "columns",
               ("audit", "column"): "columns", ("evaluate", "benchmark"): "benchmarks",
               ("report", "run_dir"): "study"}
    cli_only = {("study", "dry_run"), ("study", "profile")}
    for name in ("corpus", "generate", "mix", "train", "evaluate", "audit", "study", "report"):
        function = getattr(biasinherit, name)
        keywords = inspect.signature(function).parameters
        for param in command.commands[name].params:
            if (name, param.name) in cli_only:
                continue
            keyword = renamed.get((name, param.name), param.name)
            assert keyword in keywords, f"{name}: --{param.name} has no keyword {keyword}"
            default = keywords[keyword].default
            if keyword == "out" or default is inspect.Parameter.empty or param.required:
                continue
            cli_default = param.default if not isinstance(param.default, list) else None
            if isinstance(cli_default, Path):
                cli_default = str(cli_default)
            assert cli_default == default or (cli_default is None and default in (None, [])), (
                f"{name}: --{param.name} defaults to {cli_default!r}, {keyword}= to {default!r}")


def test_data_functions_take_and_give_data_in_memory(originals, augmented):
    frame = originals.to_pandas()
    assert len(frame) == 200 and {"prompt", "response", "source"} <= set(frame.columns)
    mixed = biasinherit.mix(frame, augmented.to_pandas(), ratio=0.25, seed=1)
    assert len(mixed) == 200
    assert sum(r.source == "augmented" for r in mixed) == 50
    # the lower-level mix takes the same forms (it raised KeyError 0 on a DataFrame)
    from biasinherit.mixing import mix_at_ratio

    same = mix_at_ratio(frame, augmented.to_pandas(), ratio=0.25, seed=1)
    assert [r.id for r in same] == [r.id for r in mixed]


def test_data_functions_write_only_when_asked(tmp_path, originals):
    before = set(tmp_path.iterdir())
    biasinherit.generate(originals, n=10)
    assert set(tmp_path.iterdir()) == before
    out = tmp_path / "aug.jsonl"
    records = biasinherit.generate(originals, n=10, out=out)
    assert [r.id for r in biasinherit.read_records(out)] == [r.id for r in records]


def test_train_takes_a_model_folder_with_or_without_hf_prefix(tmp_path, trained, originals):
    """``train --model DIR`` failed with 'Unknown tiny model preset'; every command now names a
    folder the same way."""
    from biasinherit.training import save_trained

    folder = save_trained(trained, tmp_path / "base")
    data = originals[:32]
    plain = biasinherit.train(data, model=str(folder), epochs=1, batch_size=16, seed=3)
    prefixed = biasinherit.train(data, model=f"hf:{folder}", epochs=1, batch_size=16, seed=3)
    assert plain.final_loss == pytest.approx(prefixed.final_loss, abs=1e-6)
    assert plain.metadata.backend == "hf"
    with pytest.raises(BiasInheritError, match="hf: prefix"):
        biasinherit.train(data, model="gpt2-not-a-preset")
    with pytest.raises(BiasInheritError, match="model folder not found"):
        biasinherit.train(data, model="./no/such/folder")


def test_evaluate_a_model_in_memory_equals_its_saved_folder(tmp_path, trained):
    """``evaluate_model(EvaluateConfig(model=<GPT2LMHeadModel>))`` raised AttributeError; a model
    in memory (with its tokenizer), the result of train, and the folder it saves to give the same
    table, and nothing is written without out."""
    from biasinherit.training import save_trained

    tasks = ["stereo_pairs", "coref"]
    from_result = biasinherit.evaluate(trained, tasks=tasks, limit=12, n_boot=20)
    assert list(from_result.columns)[:5] == ["task", "metric", "value", "ci_low", "ci_high"]
    assert set(from_result["task"]) == set(tasks)
    folder = save_trained(trained, tmp_path / "m")
    out = tmp_path / "eval"
    from_folder = biasinherit.evaluate(str(folder), tasks=tasks, limit=12, n_boot=20, out=out)
    assert (out / "results.csv").exists()
    in_memory = biasinherit.evaluate(trained.model, tokenizer=trained.tokenizer, tasks=tasks, limit=12, n_boot=20)
    for other in (from_folder, in_memory):
        assert other["value"].tolist() == pytest.approx(from_result["value"].tolist(), abs=1e-9, nan_ok=True)
    with pytest.raises(BiasInheritError, match="tokenizer"):
        biasinherit.evaluate(trained.model, tasks=tasks)
    with pytest.raises(BiasInheritError, match="untrained tiny preset"):
        biasinherit.evaluate("tiny", tasks=tasks)


def test_evaluate_a_peft_model_in_memory(trained):
    """A LoRA-wrapped model in memory scores like its merged weights (the adapter starts at
    zero, so the wrapped model equals the base until trained)."""
    import copy

    from biasinherit.models.hf import apply_lora

    base = copy.deepcopy(trained.model)
    peft_model = apply_lora(copy.deepcopy(trained.model), r=4, alpha=8, dropout=0.0)
    kwargs = dict(tasks=["stereo_pairs"], limit=10, n_boot=0)
    wrapped = biasinherit.evaluate(peft_model, tokenizer=trained.tokenizer, **kwargs)
    plain = biasinherit.evaluate(base, tokenizer=trained.tokenizer, **kwargs)
    assert wrapped["value"].tolist() == pytest.approx(plain["value"].tolist(), abs=1e-6, nan_ok=True)


def test_evaluate_restores_training_mode(trained):
    trained.model.train()
    try:
        biasinherit.evaluate(trained, tasks=["coref"], limit=4, n_boot=0)
        assert trained.model.training
    finally:
        trained.model.eval()


def test_a_per_task_limit_cuts_only_the_tasks_it_names(trained):
    """``limit={"coref": 5}`` scores five coref items and every stereo_pairs item; the coref rows
    equal those of ``limit=5``. A name that is not among the tasks is refused before scoring."""
    tasks = ["coref", "stereo_pairs"]
    per_task = biasinherit.evaluate(trained, tasks=tasks, limit={"coref": 5}, n_boot=0)
    largest = per_task.groupby("task")["n"].max()
    assert largest["coref"] == 5 and largest["stereo_pairs"] > 5
    everywhere = biasinherit.evaluate(trained, tasks=["coref"], limit=5, n_boot=0)
    coref = per_task[per_task["task"] == "coref"]
    assert coref["value"].tolist() == pytest.approx(everywhere["value"].tolist(), nan_ok=True)
    with pytest.raises(BiasInheritError, match="limit names 'story', which is not among the tasks run"):
        biasinherit.evaluate(trained, tasks=["coref"], limit={"story": 3})


def test_errors_name_the_keyword_in_python_and_the_flag_on_the_command_line(originals, tmp_path):
    with pytest.raises(BiasInheritError) as info:
        biasinherit.train(originals[:8], batch_size=0)
    assert info.value.field == "batch_size"
    proc = subprocess.run([sys.executable, "-m", "biasinherit", "audit", "a.jsonl", "b.jsonl", "--permutations", "3"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "--permutations" in proc.stderr, proc.stderr


def test_train_accepts_threads_like_evaluate(tmp_path):
    """``--threads`` on evaluate was ``--num-threads`` on train; both spellings work on train."""
    proc = subprocess.run([sys.executable, "-m", "biasinherit", "train", "--help"], capture_output=True, text=True,
                          env={"COLUMNS": "200", "PATH": ""}, cwd=tmp_path)
    assert "--threads" in proc.stdout and "--num-threads" in proc.stdout


def test_studies_do_not_import_the_report():
    """The study <-> report import circle is broken: the report renders from a Study."""
    code = ("import sys, biasinherit.studies.run, biasinherit.studies.study; "
            "print(sorted(m for m in sys.modules if m.startswith('biasinherit.reporting')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


MICRO = {
    "name": "api-micro", "bias_types": ["gender.association"], "ratios": [0.0, 1.0], "seeds": [0, 1],
    "data": {"corpus_size": 160}, "mix": {"size": 160},
    "mitigation": {"names": []},
    "tasks": {"names": ["coref", "stereo_pairs"], "limit": 8},
    "model": {"model": "tiny", "epochs": 1, "batch_size": 8},
    "audit": {"max_records": 60, "permutations": 20, "frechet_permutations": 10},
    "executor": {"workers": 1},
}


def test_study_returns_tables_and_the_report_renders_from_a_study(tmp_path):
    """``run_study`` returned paths; ``study`` (a config as a mapping) returns a Study whose
    tables are DataFrames, ``load_study`` reads it back, and ``report`` renders from it."""
    out = tmp_path / "run"
    study = biasinherit.study(MICRO, out=out)
    assert study.report_path == out / "report.html" and study.report_path.exists()
    assert {"bias_type", "ratio", "seed", "task", "metric", "value", "ci_low", "ci_high"} <= set(study.results.columns)
    assert {"comparison", "effect", "q_value", "discovery"} <= set(study.findings.columns)
    assert study.findings["discovery"].dtype == bool
    assert len(study.results) > 0 and len(study.findings) > 0
    loaded = biasinherit.load_study(out)
    assert loaded.results.equals(study.results)
    assert loaded.config.name == "api-micro"
    study.report_path.unlink()
    assert biasinherit.report(loaded) == out / "report.html"
    assert "api-micro" in (out / "report.html").read_text()
    with pytest.raises(BiasInheritError, match="results.parquet"):
        biasinherit.load_study(tmp_path)
