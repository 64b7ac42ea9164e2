"""``--limit``: one number for every task, or ``TASK=N`` pairs for some of them."""

from __future__ import annotations

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.tasks.base import EvalSettings, check_limit, parse_limit


def test_the_command_line_limit_reads_a_number_or_task_pairs():
    assert parse_limit(None) is None
    assert parse_limit("12") == 12
    assert parse_limit("story=40, salary=20") == {"story": 40, "salary": 20}


@pytest.mark.parametrize("text, says", [
    ("0", "must be an integer >= 1"), ("lots", "an integer or TASK=N pairs"), ("story=x", "'story=x' is not TASK=N"),
    ("=3", "'=3' is not TASK=N"), ("story=0", "the limit of 'story' must be an integer >= 1"),
    ("story=3,coref", "'coref' is not TASK=N"), ("99999999999999999999", "must be at most 10,000,000"),
])
def test_a_bad_command_line_limit_is_one_line_naming_the_flag(text, says):
    with pytest.raises(BiasInheritError, match=None) as info:
        parse_limit(text)
    assert info.value.field == "--limit" and says in str(info.value)


def test_settings_give_each_task_its_own_limit():
    per_task = EvalSettings(limit={"story": 4})
    assert per_task.limit_for("story") == 4 and per_task.limit_for("coref") is None
    assert EvalSettings(limit=7).limit_for("coref") == 7 and EvalSettings().limit_for("coref") is None
    with pytest.raises(BiasInheritError, match="not among the tasks run"):
        check_limit({"story": 4}, "limit", ["coref"])
    with pytest.raises(BiasInheritError, match="must be an integer >= 1, got True"):
        check_limit(True, "limit")
