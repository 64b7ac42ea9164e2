"""The ``biasinherit`` command line: flags mapped onto library calls, nothing else.

Each command lives in its own module and imports heavy libraries inside the command body, so
``biasinherit --help`` stays instant. A :class:`BiasInheritError` is printed as one line and
exits with status 2; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import sys
import warnings

import typer

from biasinherit.errors import EXIT_USER_ERROR, BiasInheritError

app = typer.Typer(
    name="biasinherit",
    help="Measure and mitigate bias inheritance from LLM-augmented training data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    from biasinherit.cli import _data

    _data.register(app)
    for module in ("_train", "_evaluate", "_audit", "_study", "_models"):
        try:
            mod = __import__(f"biasinherit.cli.{module}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name == f"biasinherit.cli.{module}":
                continue  # command not built yet
            raise
        mod.register(app)


_register()


def _quiet_libraries() -> None:
    """Our own progress bars replace the libraries' (weights loading, downloads)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # OpenMP threads that wait for work sleep instead of spinning: on a machine whose cores are
    # shared with other processes, spinning threads made a 2-thread LoRA step on SmolLM2 3.4x
    # slower (32 s instead of 9.5 s a step); torch is imported later, so this takes effect
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # PEFT calls a transformers method that transformers 5 deprecates; nothing a user can act on
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)


def main(argv: list[str] | None = None) -> None:
    _quiet_libraries()
    try:
        app(args=argv, standalone_mode=False)
    except BiasInheritError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: unknown option, bad value, ...
        exc.show()
        sys.exit(EXIT_USER_ERROR)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
