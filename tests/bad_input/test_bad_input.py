"""Every command through every kind of bad input (the table in bad_input_cases.py): exit 2, one
line, no traceback, nothing written or changed."""

from __future__ import annotations

import pytest
from bad_input_cases import CASES, Case, assert_refused

COMMANDS = ("corpus", "generate", "mix", "train", "evaluate", "audit", "study", "report")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_exit_2(case: Case, workspace) -> None:  # type: ignore[no-untyped-def]
    assert_refused(case, workspace)


def test_every_command_is_in_the_table() -> None:
    """A new subcommand gets rows in the table (a missing input, a bad number, bad outputs)."""
    from biasinherit.cli import app

    registered = {c.name or c.callback.__name__ for c in app.registered_commands}  # type: ignore[union-attr]
    registered |= {g.name or g.typer_instance.info.name for g in app.registered_groups}  # command groups
    covered = {c.command for c in CASES}
    assert set(COMMANDS) <= registered
    assert registered <= covered, f"commands without bad-input rows: {sorted(registered - covered)}"
