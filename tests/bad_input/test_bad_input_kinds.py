"""The bad-input table by kind (bad_input_kinds.py): every command through every case each kind
generates, checked like the hand-written rows: exit 2, one line, nothing written or changed."""

from __future__ import annotations

import pytest
from bad_input_cases import CASES, Case, assert_refused
from bad_input_kinds import all_kind_cases

KIND_CASES = [case for cases in all_kind_cases().values() for case in cases]


@pytest.mark.parametrize("case", KIND_CASES, ids=[f"{c.id}" for c in KIND_CASES])
def test_each_kind_is_refused_in_one_line(case: Case, workspace) -> None:  # type: ignore[no-untyped-def]
    assert_refused(case, workspace)


def test_every_kind_reaches_every_command_it_can() -> None:
    """Each generator covers what its kind can reach, so a new command or flag gets rows."""
    kinds = all_kind_cases()
    commands = {"corpus", "generate", "mix", "train", "evaluate", "audit", "study"}
    assert {c.command for c in kinds["folder kinds"]} >= commands
    assert {c.command for c in kinds["symlink loops"]} >= commands | {"report", "models"}
    assert {c.command for c in kinds["NaN"]} >= {"generate", "mix", "train"}
    # every float flag of generate, mix and train is found from the commands themselves
    assert {c.args[-1] == "nan" or "nan" in c.args for c in kinds["NaN"]} == {True}
    assert {"--intensity", "--temperature", "--timeout", "--ratio", "--learning-rate", "--lambda-aug", "--mu-cf"} <= {
        c.name.removeprefix("nan") for c in kinds["NaN"]}
    assert {c.args[c.args.index("--generator") + 1] for c in kinds["generator options"]} == {"builtin", "hf", "openai"}
    assert len({c.id for c in KIND_CASES}) == len(KIND_CASES)  # ids are unique
    assert not {c.id for c in KIND_CASES} & {c.id for c in CASES}  # and none repeats a hand-written row
