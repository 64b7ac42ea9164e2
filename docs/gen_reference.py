"""Write the reference pages that are generated from the code, so they cannot drift from it.

- ``reference/cli.md``: every command and option, read from the Typer application itself (the
  same objects ``--help`` prints), with each command's Python twin.
- ``reference/study-config.md``: every key of a study config, read from the pydantic models
  (``StudyConfig``, its sections and ``TrainConfig`` for ``[model]``) with their defaults and
  descriptions, beside the values each preset sets.
- ``reference/metrics.md``: every task's metrics from the task registry, with kind, direction
  and ideal value.

Nothing generated is committed: ``docs/hooks.py`` renders these pages from the code each time
the site is built (``make docs``). ``python docs/gen_reference.py --out DIR`` writes them as
Markdown files to read without building the site.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
HEADER = "<!-- Generated from the code by docs/gen_reference.py when the site is built. -->\n\n"


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "&lt;")


def _code(value: object) -> str:
    text = str(value)
    return f"`` {text} ``" if "`" in text else f"`{text}`"


# --------------------------------------------------------------------------------------------
# the command line


def _default(param: Any) -> str:
    value = param.default
    if value is None or param.required:
        return ""
    if isinstance(value, bool):
        if not param.is_flag:
            return _code(value)
        if param.secondary_opts:  # --x/--no-x: say which one is on
            return _code(param.opts[0] if value else param.secondary_opts[0])
        return "off" if not value else "on"
    if isinstance(value, (list, tuple)):
        return ", ".join(_code(v) for v in value) if value else ""
    if isinstance(value, Path):
        value = value.as_posix()
    return _code(value)


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _type(param: Any, ctx: Any) -> str:
    if getattr(param, "is_flag", False):
        return "flag"
    kind = str(param.display_type(ctx)).strip("<>")
    kind = kind.replace(" range", "").replace("list[str]", "str, repeatable")
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is not None and high is not None:
        kind += f", {_number(low)} to {_number(high)}"
    elif low is not None:
        kind += f", ≥ {_number(low)}"
    elif high is not None:
        kind += f", ≤ {_number(high)}"
    return kind


def _flag_names(param: Any) -> str:
    names = [*param.opts, *param.secondary_opts]
    return " / ".join(_code(n) for n in names)


def _usage(path: str, command: Any) -> str:
    arguments = [p.name.upper() for p in command.params if p.param_type_name == "argument"]
    required = [p.opts[0] + " " + p.name.upper() for p in command.params
                if p.param_type_name == "option" and p.required]
    return " ".join([path, *arguments, *required, "[OPTIONS]"])


def _python_twin(name: str) -> str | None:
    import biasinherit.api as api

    twins = {"lm-eval-tasks": "write_lm_eval_tasks"}
    function = twins.get(name, name)
    if function in api.__all__ or function == "write_lm_eval_tasks":
        return f"`biasinherit.{function}(...)`"
    return None


def _command_section(path: str, command: Any, ctx: Any, level: int) -> list[str]:
    name = path.split()[-1]
    lines = [f"{'#' * level} `{path}`", "", _cell(command.help or ""), ""]
    twin = _python_twin(name) if level == 2 else None
    if twin:
        lines += [f"Python: {twin}, with these options as keyword arguments ([Python API](../api.md)).", ""]
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for sub_name, sub in subcommands.items():
            lines += _command_section(f"{path} {sub_name}", sub, ctx, level + 1)
        return lines
    lines += ["```", _usage(path, command), "```", ""]
    params = [p for p in command.params if not getattr(p, "hidden", False)]
    arguments = [p for p in params if p.param_type_name == "argument"]
    options = [p for p in params if p.param_type_name == "option"]
    if arguments:
        lines += ["| argument | type | description |", "| --- | --- | --- |"]
        lines += [f"| `{p.name.upper()}` | {_type(p, ctx)} | {_cell(p.help or '')} |" for p in arguments]
        lines.append("")
    if options:
        lines += ["| option | type | default | description |", "| --- | --- | --- | --- |"]
        for p in options:
            help_text = _cell(p.help or "") + (" **(required)**" if p.required else "")
            lines.append(f"| {_flag_names(p)} | {_type(p, ctx)} | {_default(p)} | {help_text} |")
        lines.append("")
    return lines


def cli_reference() -> str:
    """Every command, its arguments and options, from the Typer application."""
    import typer
    import typer.main

    from biasinherit.cli import app

    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    lines = [
        "# Command-line reference", "",
        "Every command and option, generated from the command-line application itself (the objects "
        "`biasinherit COMMAND --help` prints). A user's mistake prints one line naming what is wrong "
        "and exits with status 2. A command with a Python twin names it: the same options as keyword "
        "arguments, the same defaults ([Python API](../api.md)).", "",
    ]
    for name, command in root.commands.items():
        lines += _command_section(f"biasinherit {name}", command, ctx, 2)
    return HEADER + "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------------------------
# the study config


def _type_name(annotation: Any) -> str:
    """``Optional[Literal['a', 'b']]`` -> ``"a" | "b" | unset``; ``list[str]`` -> ``list of str``."""
    import types
    import typing

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(f'"{a}"' for a in args)
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in args if a is not type(None)]
        return " | ".join(parts + (["unset"] if type(None) in args else []))
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return "table"
    return getattr(annotation, "__name__", str(annotation))


def _toml(value: Any) -> str:
    """A value as it would be written in a TOML config (the six bias types, in their usual order,
    abbreviated so that a table row stays readable)."""
    from biasinherit.studies.presets import SIX_TYPES

    if isinstance(value, list) and value[: len(SIX_TYPES)] == SIX_TYPES:
        return "[" + ", ".join(["the six types", *(_toml(v) for v in value[len(SIX_TYPES):])]) + "]"
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    return str(value)


def _field_default(field: Any) -> Any:
    from pydantic_core import PydanticUndefined

    if field.default_factory is not None:
        return field.default_factory()
    return None if field.default is PydanticUndefined else field.default


def _preset_value(preset: dict[str, Any], section: str | None, key: str) -> Any:
    """What a preset sets for a key, or a sentinel when it leaves the model default."""
    holder = preset if section is None else preset.get(section, {})
    return holder.get(key, _UNSET)


_UNSET = object()


def _field_rows(fields: dict[str, Any], section: str | None, presets: dict[str, dict[str, Any]],
                skip: tuple[str, ...] = ()) -> list[str]:
    names = list(presets)
    lines = ["| key | type | default | " + " | ".join(names) + " | description |",
             "| --- | --- | --- | " + " | ".join("---" for _ in names) + " | --- |"]
    for key, field in fields.items():
        if key in skip:
            continue
        default = _field_default(field)
        by_preset = []
        for name in names:
            value = _preset_value(presets[name], section, key)
            by_preset.append("" if value is _UNSET or value == default else _code(_toml(value)))
        description = field.description or ""
        lines.append(f"| `{key}` | {_cell(_type_name(field.annotation))} | {_code(_toml(default))} | "
                     + " | ".join(by_preset) + f" | {_cell(description)} |")
    return lines


def study_config_reference() -> str:
    """Every key of a study config, from the pydantic models, with each preset's values."""
    from pydantic import BaseModel

    from biasinherit.studies.config import StudyConfig
    from biasinherit.studies.presets import PRESETS
    from biasinherit.training.config import TrainConfig

    presets = {name: PRESETS[name] for name in PRESETS}
    preset_names = ", ".join(f"`{n}`" for n in presets)
    top = {k: f for k, f in StudyConfig.model_fields.items()
           if not (isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)) and k != "model"}
    lines = [
        "# Study config reference", "",
        "A study config is a TOML or YAML file (or, from Python, a dict with the same sections). It "
        f"starts from a preset ({preset_names}; `preset = \"NAME\"` at the top, default `quick`) and "
        "says only what differs. Every key below is validated when the file is loaded; an unknown key "
        "is refused with a did-you-mean.", "",
        "Generated from the pydantic models (`StudyConfig`, its sections, and `TrainConfig` for "
        "`[model]`). **default** is the model's own default; the preset columns show what each preset "
        "sets instead (empty: the default). A file without `preset` starts from `quick`, so "
        "the `quick` column is what you get when you leave a key out.", "",
        "A `[model]` section keeps the preset's training options it does not name (`epochs = 4` over "
        "`quick` keeps its batches of 4), unless it switches between a tiny and an `hf:` model: then it "
        "starts from that backend's defaults.", "",
        "## Top level", "",
        *_field_rows(top, None, presets), "",
    ]
    for key, field in StudyConfig.model_fields.items():
        annotation = field.annotation
        if key == "model":
            lines += ["## `[model]`", "",
                      "The training options: every option of `biasinherit train` (`TrainConfig`) except "
                      "`seed` and `mitigations`, which the study grid sets. The preset columns show each "
                      "preset's `[model]` values.", ""]
            lines += _field_rows(TrainConfig.model_fields, "model", presets, skip=("seed", "mitigations"))
            lines.append("")
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            doc = (annotation.__doc__ or "").strip()
            lines += [f"## `[{key}]`", ""]
            if doc and not doc.startswith("!"):
                lines += [_cell(doc), ""]
            lines += _field_rows(annotation.model_fields, key, presets)
            lines.append("")
    return HEADER + "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------------------------
# the metrics


def _direction(metric: Any) -> str:
    if metric.category != "bias":
        return ""
    if not metric.signed:
        return "higher (unsigned: more disparity)"
    return "higher" if metric.direction == 1 else "lower"


def metrics_reference() -> str:
    """Every task's metrics, from the task registry's declarations."""
    from biasinherit.tasks.registry import TASK_NAMES, get_task

    lines = [
        "# Metrics reference", "",
        "Every metric of the ten built-in tasks, generated from the tasks' own declarations. **kind**: "
        "`bias` (measures bias), `performance` (task skill) or `health` (whether the task produced "
        "usable output; a check, never counted as bias). **toward the stereotype**: which way a bias "
        "metric moves when the model becomes more stereotyped (the results table's `direction`, +1 or "
        "−1); a disparity that is unsigned (a largest gap, a divergence) only grows. **ideal**: the "
        "value of an unbiased model (0.5 for a preference between two sentences, not 0).", "",
    ]
    for name in TASK_NAMES:
        task = get_task(name)
        description = _cell(task.description)
        scoring = {"loglikelihood": "log-likelihood of options"}.get(task.scoring, task.scoring)
        lines += [f"## `{name}`", "", f"{description[:1].upper()}{description[1:]}. Scoring: {scoring}; "
                  f"{task.default_size} items by default (`--full`: all).", "",
                  "| metric | kind | toward the stereotype | ideal | description |",
                  "| --- | --- | --- | --- | --- |"]
        for m in task.metrics:
            ideal = "" if m.ideal is None else f"{m.ideal:g}"
            lines.append(f"| `{m.name}` | {m.category} | {_direction(m)} | {ideal} | {_cell(m.description)} |")
        lines.append("")
    return HEADER + "\n".join(lines).rstrip() + "\n"


PAGES: dict[str, Callable[[], str]] = {
    "reference/cli.md": cli_reference,
    "reference/study-config.md": study_config_reference,
    "reference/metrics.md": metrics_reference,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/reference"), help="folder to write the pages to")
    args = parser.parse_args(argv)
    for page, render in PAGES.items():
        path = args.out / Path(page).name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
