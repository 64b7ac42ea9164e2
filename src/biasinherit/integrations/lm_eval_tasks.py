"""``write_lm_eval_tasks``: the built-in tasks as an lm-evaluation-harness task folder.

Practitioners evaluate checkpoints with ``lm_eval``; this writes our tasks in the harness's own
mechanism (a folder for ``--include_path``), so that

    lm_eval --model hf --model_args pretrained=MODEL,dtype=float32 --include_path DIR --tasks biasinherit

gives the per-item choices and metric values ``biasinherit evaluate --model MODEL`` gives on the
same items. The folder holds each task's items with the exact requests our task makes for them
(``<task>.jsonl``, recorded from the task's own ``evaluate``, see
:mod:`biasinherit.integrations._task_requests`), one YAML per task and the group
``biasinherit``, a ``utils.py`` that hands the harness our framing, requests and metrics
(:mod:`biasinherit.integrations._lm_eval_runtime`), and a README with the commands.

Tasks an lm-eval task cannot carry are left out and the README says why (``story`` samples with
our own seeded sampler and scores its own stories).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError

__all__ = ["GROUP", "MANIFEST", "TASK_PREFIX", "write_lm_eval_tasks"]

GROUP = "biasinherit"
TASK_PREFIX = "biasinherit_"
MANIFEST = "biasinherit_lm_eval.json"  # marks a folder as an export (and says what it holds)
FOLDER_KIND = "lm-eval tasks"  # its name among biasinherit's folder kinds (biasinherit.folder_kinds)
FORMAT_VERSION = 1
NOT_AN_EXPORT = "exists and is not an lm-eval task folder written by biasinherit; choose an empty or new folder"


def write_lm_eval_tasks(out_dir: str | Path, tasks: str | Sequence[str] | None = None,
                        limit: int | Mapping[str, int] | None = None, full: bool = False, seed: int = 0) -> Path:
    """Write the task folder; returns its path.

    ``tasks``: names (a list, or ``"all"`` / ``"a,b"``); None exports every task the harness can
    carry. ``limit`` (one number, or per task name: ``{"coref": 72}``), ``full`` and ``seed``
    choose the items as ``biasinherit evaluate`` does with the same options. The folder is
    written beside ``out_dir`` and renamed onto it, so an interrupted export leaves no
    half-written folder; an earlier export is replaced, anything else that is not empty is
    refused.
    """
    from biasinherit.integrations._task_requests import NotExportable, task_requests
    from biasinherit.tasks.base import EvalSettings, check_limit
    from biasinherit.tasks.registry import TASK_NAMES, resolve_tasks

    named = tasks is not None
    spec = "all" if tasks is None else tasks if isinstance(tasks, str) else ",".join(tasks)
    chosen = resolve_tasks(spec)
    limit = check_limit(limit, "limit", [t.name for t in chosen])
    settings = EvalSettings(seed=seed, full=full, limit=limit)
    out = _check_target(Path(out_dir))
    exported, left_out = [], {}
    for task in chosen:
        items = task.build_items(seed=seed, full=full)
        n = settings.limit_for(task.name)
        items = items[:n] if n is not None else items
        try:
            exported.append(task_requests(task, items, seed=seed))
        except NotExportable as exc:
            if named:
                raise BiasInheritError(f"task {task.name} cannot be exported to lm-eval: {exc}", field="tasks") from None
            left_out[task.name] = str(exc)
    if not exported:
        raise BiasInheritError("none of the named tasks can be exported to lm-eval", field="tasks")
    manifest = {
        "format": FORMAT_VERSION,
        "biasinherit": _version(),
        "group": GROUP,
        "tasks": [t.task for t in exported],
        "left_out": left_out,
        "items": {t.task: len(t.items) for t in exported},
        "seed": seed,
        "full": full,
        "limit": dict(limit) if isinstance(limit, Mapping) else limit,
        "task_order": [n for n in TASK_NAMES if n in {t.task for t in exported}],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for t in exported:
            _write_items(tmp / f"{t.task}.jsonl", t)
            (tmp / f"{t.task}.yaml").write_text(_task_yaml(t), encoding="utf-8")
        (tmp / f"{GROUP}.yaml").write_text(_group_yaml([t.task for t in exported]), encoding="utf-8")
        (tmp / "utils.py").write_text(_utils_py(exported), encoding="utf-8")
        (tmp / "README.md").write_text(_readme(manifest), encoding="utf-8")
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _check_target(out: Path) -> Path:
    """Before any work: a folder we can write (not a file, not under a file, not another kind of
    biasinherit folder), and empty or an earlier export."""
    from biasinherit.outputs import check_output_folder

    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).is_file())):
        raise BiasInheritError(NOT_AN_EXPORT, path=out, field="out_dir")
    check_output_folder(out, field="out_dir", kind=FOLDER_KIND)
    from biasinherit.links import link_target

    return link_target(out)  # a symlinked folder is written through, the link kept


def _replace(tmp: Path, out: Path) -> None:
    from biasinherit.atomic import replace_folder

    os.chmod(tmp, 0o777 & ~_umask())
    replace_folder(tmp, out)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _version() -> str:
    try:
        return importlib_metadata.version("biasinherit")
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


def _write_items(path: Path, t: Any) -> None:
    from biasinherit.integrations._task_requests import encode_item

    with path.open("w", encoding="utf-8") as fh:
        for k, it in enumerate(t.items):
            row: dict[str, Any] = {"index": k, "item": encode_item(it.item)}
            if t.scoring == "loglikelihood":
                row["requests"] = [list(p) for p in it.pairs]
            else:
                row["prompts"] = {fmt: list(p) for fmt, p in it.prompts.items()}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _function(task: str, metric: str) -> str:
    return f"{task}__{metric}"


def _task_yaml(t: Any) -> str:
    """One task's YAML (JSON strings are YAML strings; ``!function`` names a ``utils.py`` hook)."""
    from biasinherit.tasks.registry import get_task

    task = get_task(t.task)
    lines = [
        f"task: {TASK_PREFIX}{t.task}",
        "class: !function utils.BiasinheritTask",
        "custom_dataset: !function utils.load_docs",
        "dataset_kwargs:",
        f"  biasinherit_task: {t.task}",
        f"  biasinherit_items: {t.task}.jsonl",
    ]
    if t.scoring == "generation":
        styles = {fmt: {"max_new_tokens": s.max_new_tokens, "stop": list(s.stop)} for fmt, s in t.styles.items()}
        lines.append(f"  biasinherit_styles: {json.dumps(styles)}")
    lines += [
        "test_split: test",
        f"output_type: {'loglikelihood' if t.scoring == 'loglikelihood' else 'generate_until'}",
        "doc_to_text: text",
        "doc_to_target: target",
        "process_results: !function utils.process_results",
        "metric_list:",
    ]
    for m in task.metrics:
        hib = "null" if m.higher_is_better is None else str(m.higher_is_better).lower()
        lines += [f"  - metric: {m.name}", f"    aggregation: !function utils.{_function(t.task, m.name)}",
                  f"    higher_is_better: {hib}"]
    lines += ["metadata:", f"  version: {FORMAT_VERSION}.0", f"  description: {json.dumps(task.description)}"]
    return "\n".join(lines) + "\n"


def _group_yaml(names: Sequence[str]) -> str:
    lines = [f"group: {GROUP}", "task:", *(f"  - {TASK_PREFIX}{n}" for n in names),
             "metadata:", f"  version: {FORMAT_VERSION}.0"]
    return "\n".join(lines) + "\n"


def _utils_py(exported: Sequence[Any]) -> str:
    from biasinherit.tasks.registry import get_task

    lines = [
        '"""lm-evaluation-harness hooks of the biasinherit tasks in this folder (written by',
        "``biasinherit lm-eval-tasks``). The work is done by the installed biasinherit package: its",
        "framing of the prompts for the model, each item's own requests, and its own metrics, computed",
        'from the harness\'s answers by the task\'s own code."""',
        "",
        "from pathlib import Path",
        "",
        "from biasinherit.integrations import _lm_eval_runtime as runtime",
        "",
        "FOLDER = Path(__file__).resolve().parent",
        "BiasinheritTask = runtime.BiasinheritTask",
        "process_results = runtime.process_results",
        "",
        "",
        "def load_docs(**kwargs):",
        "    return runtime.load_docs(FOLDER, **kwargs)",
        "",
        "",
        "# one aggregation per metric: each replays the items' answers through the task's evaluate",
    ]
    for t in exported:
        for m in get_task(t.task).metrics:
            lines.append(f"{_function(t.task, m.name)} = runtime.aggregation({t.task!r}, {m.name!r})")
    return "\n".join(lines) + "\n"


def _readme(manifest: dict[str, Any]) -> str:
    seed, full, limit = manifest["seed"], manifest["full"], manifest["limit"]
    if isinstance(limit, dict):  # as the command line writes a per-task limit
        limit_option = ",".join(f"{name}={n}" for name, n in limit.items())
        cut = ", the first " + ", ".join(f"{n} of {name}" for name, n in limit.items())
    else:
        limit_option, cut = (str(limit), f", the first {limit} of each task") if limit else ("", "")
    options = f" --seed {seed}" + (" --full" if full else "") + (f" --limit {limit_option}" if limit else "")
    rows = "\n".join(f"| `{TASK_PREFIX}{name}` | {manifest['items'][name]} |" for name in manifest["tasks"])
    left = "\n".join(f"- `{name}`: {why}" for name, why in manifest["left_out"].items()) or "- none"
    return f"""# biasinherit tasks for lm-evaluation-harness

Written by `biasinherit lm-eval-tasks` (biasinherit {manifest['biasinherit']}; items of seed {seed}{
', all template combinations' if full else ''}{cut}).

| task | items |
| --- | --- |
{rows}

Group: `{GROUP}` (all of them). Each `<task>.jsonl` holds the task's items and the requests our
task makes for each of them; `utils.py` needs `biasinherit` installed where `lm_eval` runs.

## Run

    lm_eval --model hf --model_args pretrained=MODEL,dtype=float32 --include_path THIS_FOLDER --tasks {GROUP} \\
        --log_samples --output_path OUT

gives, item by item, the choices and metric values of

    biasinherit evaluate --model MODEL --tasks {','.join(manifest['tasks'])}{options}

(within 1e-4; metric values only: the harness gives no confidence intervals for them).
`--limit N` of the harness takes the same first N items as `--limit N` of `biasinherit evaluate`.

- `pretrained=MODEL` must be the model folder (or hub id) `biasinherit evaluate` gets: the prompts
  are framed for it when the tasks load (the BOS token it was trained with, the token
  mitigation's prefix from its `biasinherit_model.json`, the chat template for the generation
  tasks when its tokenizer has one). For a LoRA adapter folder pass
  `pretrained=BASE,peft=ADAPTER,tokenizer=ADAPTER`.
- `dtype=float32`: the dtype `biasinherit evaluate` uses on a CPU (on a GPU with bfloat16 it
  uses `dtype=bfloat16`).
- Leave out `add_bos_token` (a value that would change the tokens is refused when the tasks
  load) and `--apply_chat_template` (the tasks frame their own prompts and ignore it).
- On a CPU that other processes share, run it with `OMP_WAIT_POLICY=PASSIVE` in the
  environment (idle OpenMP threads sleep instead of spinning; `biasinherit` sets it itself).
- Generation prompts: `--metadata '{{"chat_template": "off"}}'` (or `"on"`) as
  `biasinherit evaluate --chat-template off` (`on`); the default is `auto`.
- A served model: `--model local-completions --model_args
  model=NAME,base_url=http://HOST:PORT/v1/completions,tokenizer=MODEL_FOLDER` (the prompts are
  framed for the tokenizer folder). The log-likelihood tasks need a server that returns prompt
  log-probabilities (`echo` with `logprobs`, as vLLM's completions endpoint does);
  `transformers serve` returns none, so only the generation tasks run against it, with
  `tokenized_requests=False` (it takes text prompts only).

## Left out

{left}
"""
