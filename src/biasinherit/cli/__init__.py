"""The ``biasinherit`` command line: flags mapped onto library calls, nothing else.

Each command lives in its own module and imports heavy libraries inside the command body, so
``biasinherit --help`` stays instant. A :class:`BiasInheritError` is printed as one line and
exits with status 2; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
import sys
import warnings

import typer

from biasinherit.errors import EXIT_USER_ERROR, BiasInheritError

EXIT_INTERRUPTED = 130
# what the machine can refuse after the checks passed (a full disk, permissions changed
# meanwhile); a missing file or a folder mix-up is checked before work, and stays a bug after
USER_OS_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG,
                  errno.EMFILE}

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
    for module in ("_train", "_evaluate", "_audit", "_study", "_models", "_lm_eval"):
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


def _usage_line(exc: typer.TyperException) -> str:
    """A usage error as one line, with the command whose --help would explain it."""
    ctx = getattr(exc, "ctx", None)
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    nan = _nan_message(exc)
    if nan is not None:  # "nan" failed a bound check: say NaN, not "should be <= 10"
        message = message.replace(str(getattr(exc, "message", "")), nan) if getattr(exc, "message", "") else nan
    return " ".join(f"{message}{where}".split())


def _nan_message(exc: BaseException) -> str | None:
    """The message for a flag given NaN, from the validation error under a bad-value error."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if not callable(errors):
        return None
    from biasinherit.validation_messages import error_message, is_nan

    err = errors()[0]
    return error_message(err) if is_nan(err.get("input")) else None


def _interrupted() -> None:
    print("interrupted: stopped at Ctrl-C; nothing was half-written (run the same command again "
          "to redo it; a study resumes where it stopped)", file=sys.stderr)
    sys.stderr.flush()
    sys.stdout.flush()
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        # a thread still working (the audits beside a study's cells, a request pool) would hold
        # the exit until it finishes; Ctrl-C means now
        os._exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_INTERRUPTED)


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def main(argv: list[str] | None = None) -> None:
    _quiet_libraries()
    try:
        # standalone_mode=False: errors reach the handlers below; Typer turns Ctrl-C into a
        # return value of 130 instead of raising
        code = app(args=argv, standalone_mode=False)
    except BiasInheritError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _interrupted()
    except typer.TyperException as exc:  # usage errors: unknown option, bad value, ...
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare command: its help
            exc.show()  # type: ignore[attr-defined]
        else:
            print(f"error: {_usage_line(exc)}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        _interrupted()
    except ImportError as exc:
        # Ctrl-C while a compiled module initialises surfaces as "ImportError: initialization
        # failed" raised from the KeyboardInterrupt
        if not _caused_by_interrupt(exc):
            raise
        _interrupted()
    except OSError as exc:
        # the machine refused a write or read we could not check beforehand (disk full, a file
        # removed meanwhile): the user's environment, not a bug
        if exc.errno not in USER_OS_ERRORS:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    if code == EXIT_INTERRUPTED:
        _interrupted()
    if isinstance(code, int) and code != 0:
        sys.exit(code)
