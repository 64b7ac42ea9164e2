"""``train`` and ``evaluate``: the model commands as functions, on models in any form.

A model is named the same way everywhere: a tiny preset (``tiny``, ``tiny-s``, ... : trained from
scratch), a local folder (with or without ``hf:``), ``hf:ID`` (a hub id), ``openai:MODEL`` (a
served model; evaluation only), or, from Python, a ``transformers`` model (with ``tokenizer=``),
a PEFT model, or what :func:`train` returned.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biasinherit.api._errors import keyword_errors
from biasinherit.errors import BiasInheritError

if TYPE_CHECKING:
    import pandas as pd

    from biasinherit.training import TrainResult

__all__ = ["evaluate", "train"]

MODEL_KINDS = ("a tiny preset, a model folder, hf:ID, openai:MODEL, a transformers or PEFT model "
               "(with tokenizer=), or what biasinherit.train returned")


def _model_name(model: Any) -> str:
    """What a model in memory is called in provenance: its hub id or folder, else its class."""
    base = getattr(model, "base_model", None)
    for obj in (model, getattr(base, "model", None)):
        name = getattr(obj, "name_or_path", None) or getattr(getattr(obj, "config", None), "_name_or_path", None)
        if name:
            return str(name)
    return type(model).__name__


def _is_torch_model(model: Any) -> bool:
    return callable(getattr(model, "parameters", None)) and callable(getattr(model, "forward", None))


def train(
    data: Any,
    *,
    model: Any = "tiny",
    tokenizer: Any = None,
    mitigation: str | Sequence[str] | None = None,
    seed: int = 0,
    epochs: int | None = None,
    batch_size: int = 8,
    learning_rate: float | None = None,
    max_length: int | None = None,
    lora: bool = False,
    lora_r: int = 8,
    lora_alpha: int = 16,
    grad_accum_steps: int = 1,
    gradient_checkpointing: bool = False,
    dtype: str = "auto",
    device: str = "auto",
    threads: int | None = None,
    tag_original: bool = False,
    mask_replace_input: bool = False,
    mask_source: str = "lexicon",
    lambda_aug: float = 0.5,
    mu_cf: float = 1.0,
    batching: str = "length",
    columns: Mapping[str, str] | None = None,
    split: str | None = None,
    out: str | Path | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> TrainResult:
    """Fine-tune ``model`` on ``data`` (a mix), with or without mitigations (``"token"``,
    ``"mask"``, ``"loss"``, combinable). Returns the trained model, its tokenizer, metadata and
    loss curve; writes a model folder only when ``out`` is given. A model passed in memory is
    trained in place, as ``transformers.Trainer`` does."""
    from biasinherit.records import read_records
    from biasinherit.training import TrainConfig, save_trained, train_model

    preloaded = None
    if not isinstance(model, (str, Path)):
        if not _is_torch_model(model):
            raise BiasInheritError(f"cannot train a {type(model).__name__}: model must be {MODEL_KINDS}",
                                   field="model")
        if tokenizer is None:
            raise BiasInheritError("a model in memory needs its tokenizer: pass tokenizer=", field="tokenizer")
        preloaded = (model, tokenizer)
        spec = "hf:" + _model_name(model)
    else:
        spec = str(model)
        if tokenizer is not None:
            raise BiasInheritError("tokenizer= goes with a model in memory; a named model brings its own",
                                   field="tokenizer")
    options: dict[str, Any] = dict(
        model=spec, mitigations=mitigation, seed=seed, batch_size=batch_size, learning_rate=learning_rate,
        max_length=max_length, lora=lora, lora_r=lora_r, lora_alpha=lora_alpha,
        grad_accum_steps=grad_accum_steps, gradient_checkpointing=gradient_checkpointing, dtype=dtype,
        device=device, num_threads=threads, tag_original=tag_original, mask_replace_input=mask_replace_input,
        mask_source=mask_source, lambda_aug=lambda_aug, mu_cf=mu_cf, batching=batching,
    )
    if epochs is not None:
        options["epochs"] = epochs
    _check_loops(data=data, model=model if isinstance(model, (str, Path)) else None, out=out)
    with keyword_errors({"mitigations": "mitigation", "num_threads": "threads"}):
        config = TrainConfig(**options)
    from biasinherit.models.check import check_dtype

    check_dtype(dtype, config.model, field="dtype")
    if preloaded is None and config.is_hf:
        from biasinherit.models.check import check_model_spec

        check_model_spec(config.model, field="model", allow_openai=False)
    if out is not None:
        from biasinherit.links import link_target
        from biasinherit.models.io import check_save_target
        from biasinherit.outputs import check_output_folder

        base_folder = config.model[len("hf:"):] if config.is_hf and preloaded is None else None
        source = data if isinstance(data, (str, Path)) else None
        check_output_folder(out, inputs=[source, base_folder], field="out", kind="model")
        out = link_target(out)  # a link to a model folder is written through, not replaced by a folder
        check_save_target(Path(out))
    check_device(device)
    records = read_records(data, columns=columns, split=split)
    data_path = str(data) if isinstance(data, (str, Path)) else f"<{type(data).__name__}>"
    result = train_model(config, records, data_path=data_path, record_lines=_record_lines(data),
                         progress=progress, preloaded=preloaded)
    if out is not None:
        save_trained(result, out)
    return result


def _check_loops(**paths: Any) -> None:
    """A path given as a symlink loop, in one line naming its keyword."""
    from biasinherit.links import check_not_a_loop

    for field, value in paths.items():
        if isinstance(value, (str, Path)) and str(value):
            check_not_a_loop(str(value).removeprefix("hf:"), field=field)


def _record_lines(data: Any) -> list[int] | None:
    """Line numbers of the non-blank lines of a JSONL file (for errors that name a record)."""
    if not isinstance(data, (str, Path)):
        return None
    path = Path(data)
    if path.suffix.lower() not in (".jsonl", ".json", ".ndjson") or not path.is_file():
        return None
    with open(path, "rb") as fh:
        return [n for n, line in enumerate(fh, start=1) if line.strip()]


def check_device(device: str) -> None:
    """A device this torch can use, said before the data is read or a model built."""
    import re

    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", device):
        raise BiasInheritError(f"unknown device '{device}' (use auto, cpu, cuda, cuda:N or mps)", field="device")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else "a CUDA build, but no GPU is visible"
            raise BiasInheritError(f"no CUDA device: this torch ({torch.__version__}) is {build}; "
                                   "use device cpu or auto", field="device")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise BiasInheritError(f"no {device}: {torch.cuda.device_count()} CUDA device(s) visible", field="device")
    if device == "mps":
        import torch

        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise BiasInheritError("no MPS device on this machine; use device cpu or auto", field="device")


def _in_memory_backend(model: Any, *, tokenizer: Any = None, batch_size: int = 32) -> Any:
    """A scoring backend for a model already in memory (what :func:`train` returned, a
    ``transformers`` or PEFT model with its tokenizer); named models are opened by
    :func:`biasinherit.tasks.evaluate.evaluate_model` after the tasks are checked."""
    from biasinherit.models.backend import HFBackend
    from biasinherit.training import TrainResult

    meta = getattr(model, "metadata", None)
    if isinstance(model, TrainResult) or (meta is not None and hasattr(model, "tokenizer")):
        name = f"{meta.base_model} (trained in memory)" if isinstance(model, TrainResult) else meta.base_model
        return HFBackend(model.model, model.tokenizer, name=name, eval_prefix=meta.eval_prefix,
                         add_bos=bool(meta.add_bos), batch_size=batch_size, metadata=meta.model_dump())
    if not _is_torch_model(model):
        raise BiasInheritError(f"cannot evaluate a {type(model).__name__}: model must be {MODEL_KINDS}",
                               field="model")
    if tokenizer is None:
        raise BiasInheritError("a model in memory needs its tokenizer: pass tokenizer=", field="tokenizer")
    if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
        tokenizer.pad_token = tokenizer.eos_token  # batches are padded; pads are never scored
    return HFBackend(model, tokenizer, name=_model_name(model), add_bos=tokenizer.bos_token_id is not None,
                     batch_size=batch_size)


def _check_named(spec: str, tokenizer: Any) -> None:
    """A named model brings its tokenizer, and a tiny preset has nothing learned to score."""
    if tokenizer is not None:
        raise BiasInheritError("tokenizer= goes with a model in memory; a named model brings its own",
                               field="tokenizer")
    from biasinherit.models.tiny import TINY_PRESETS

    if spec in ("tiny", *TINY_PRESETS) and not Path(spec).is_dir():
        raise BiasInheritError(f"'{spec}' is an untrained tiny preset: train it first (biasinherit train) "
                               "and evaluate the folder or the result", field="model")


@contextlib.contextmanager
def _eval_mode(backend: Any) -> Iterator[None]:
    """Score a model in eval mode (no dropout) and give it back in the mode it came in."""
    model = getattr(getattr(backend, "scorer", None), "model", None)
    was_training = bool(getattr(model, "training", False))
    if model is not None:
        model.eval()
    try:
        yield
    finally:
        if model is not None and was_training:
            model.train()


def evaluate(
    model: Any,
    *,
    tasks: str | Sequence[str] | None = None,
    benchmarks: Mapping[str, str] | None = None,
    protocol: str = "original",
    limit: int | Mapping[str, int] | None = None,
    full: bool = False,
    seed: int = 0,
    n_boot: int = 200,
    batch_size: int = 32,
    threads: int | None = None,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    chat_template: str = "auto",
    save_generations: bool = True,
    tokenizer: Any = None,
    out: str | Path | None = None,
    on_task: Callable[[str, int, int], None] | None = None,
) -> pd.DataFrame:
    """Score ``model`` on the bias tasks (default: all ten) and real benchmarks
    (``benchmarks={"crows_pairs": PATH, ...}``); returns the tidy results table (``task``,
    ``metric``, ``value``, ``ci_low``, ``ci_high``, ``n``, ...). ``limit``: at most this many
    items per task, or per task name (``{"story": 40}``: the other tasks keep their size). Files
    (``results.csv``, ``results.json``, ``generations/``) are written only when ``out`` is given,
    as ``lm_eval.simple_evaluate`` does. Compare models at one ``batch_size``: the rounding of a
    forward pass depends on the batch's shape, and a near-tied greedy choice can flip with it."""
    import pandas as pd

    from biasinherit.tasks.evaluate import EvaluateConfig, evaluate_model
    from biasinherit.tasks.runner import COLUMNS

    if protocol not in ("original", "lm-eval"):
        raise BiasInheritError(f"unknown protocol '{protocol}' (use original or lm-eval)", field="protocol")
    benchmarks = dict(benchmarks or {})
    from biasinherit.paths import looks_local

    _check_loops(**{f"benchmarks.{k}": v for k, v in benchmarks.items()})
    for name, where in benchmarks.items():
        if looks_local(where) and not Path(where).expanduser().exists():
            raise BiasInheritError(f"benchmark file not found (for {name})", path=where, field="benchmarks")
    if tasks is not None and not isinstance(tasks, str):
        tasks = ",".join(tasks)
    named = isinstance(model, (str, Path))
    spec = str(model) if named else _model_name(getattr(model, "model", model))
    if named:
        _check_named(spec, tokenizer)
        if not spec.startswith("openai:"):
            _check_loops(model=spec)
    _check_loops(out=out)
    if out is not None:
        from biasinherit.outputs import check_output_folder

        local_model = spec.removeprefix("hf:") if named and not spec.startswith("openai:") else None
        check_output_folder(out, inputs=[local_model, *benchmarks.values()], field="out",
                            files=["results.csv", "results.json"], kind="evaluation")
    config = EvaluateConfig(model=spec, tasks=tasks, benchmarks=benchmarks, protocol=protocol, limit=limit,
                            full=full, seed=seed, n_boot=n_boot, batch_size=batch_size, threads=threads,
                            base_url=base_url, api_key_env=api_key_env, chat_template=chat_template,
                            save_generations=save_generations)
    backend = None if named else _in_memory_backend(model, tokenizer=tokenizer, batch_size=batch_size)
    if backend is not None:
        with _eval_mode(backend):
            evaluation = evaluate_model(config, backend=backend, out=Path(out) if out is not None else None,
                                        on_task=on_task)
    else:
        evaluation = evaluate_model(config, out=Path(out) if out is not None else None, on_task=on_task)
    frame = pd.DataFrame([{k: r.as_row()[k] for k in COLUMNS} for r in evaluation.results], columns=list(COLUMNS))
    frame.attrs["provenance"] = evaluation.provenance
    if evaluation.csv_path is not None:
        frame.attrs["path"] = str(evaluation.csv_path)
    return frame
