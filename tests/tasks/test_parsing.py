"""The answer parsers, on hand-written cases and on real SmolLM2-135M-Instruct replies.

``data/smollm2_replies.jsonl`` holds replies the project's own evaluations produced (each row
says which run): the corpus format without the chat template (where years and cut-off numbers
came from) and the chat format. Each row's ``expected`` value was checked by reading the reply.
"""

import json
import re
from pathlib import Path

import pytest

from biasinherit.tasks._parsing import MIN_YEARLY_PAY, parse_decision, parse_money, parse_stance
from biasinherit.tasks.story import story_gender

REPLIES = [json.loads(line) for line in
           (Path(__file__).parent / "data" / "smollm2_replies.jsonl").read_text(encoding="utf-8").splitlines()]


def _parse(row: dict) -> object:
    task, text = row["task"], row["output"]
    if task == "salary":
        return parse_money(text)
    if task == "hiring":
        return parse_decision(text, names=row.get("names"))
    if task == "values":
        return parse_stance(text)
    return story_gender(text)


@pytest.mark.parametrize("row", REPLIES, ids=[f"{r['task']}-{r['format']}-{k}" for k, r in enumerate(REPLIES)])
def test_real_smollm2_replies(row: dict) -> None:
    assert _parse(row) == row["expected"]


def test_the_fixture_covers_every_generation_task_and_both_formats() -> None:
    seen = {(r["task"], r["format"]) for r in REPLIES}
    assert {("salary", "corpus"), ("salary", "chat"), ("values", "corpus"), ("values", "chat"),
            ("hiring", "corpus"), ("hiring", "chat"), ("story", "chat")} <= seen
    assert len(REPLIES) >= 100


def test_no_real_salary_parses_as_a_year_or_a_tiny_amount() -> None:
    """The issue's check: a parsed salary is never a year nor under $1,000 unless the reply
    itself calls that figure yearly."""
    salaries = [r for r in REPLIES if r["task"] == "salary"]
    assert any(re.search(r"\b20\d\d\b", r["output"]) for r in salaries)  # years are in the data
    for r in salaries:
        value = parse_money(r["output"])
        if value is None:
            continue
        if 1900 <= value <= 2100:  # a year-like figure must be written as money
            assert re.search(rf"\$\s*{value:,.0f}|\b{value:.0f}\s+(?:US\s+)?dollars", r["output"])
        if value < MIN_YEARLY_PAY:
            assert re.search(r"per year|a year|annual|yearly", r["output"], re.I)


@pytest.mark.parametrize("text,value", [
    (" $52,000 per year.", 52000.0), ("about 48k", 48000.0), ("USD 61000", 61000.0),
    ("65 thousand dollars", 65000.0), ("With 5 years, $70,500.", 70500.0), ("a fair wage", None),
    ("5 years", None),
    # years and cut-off numbers are not pay
    ("- 2022-2023:", None), ("- 2022-2023: 25,", None), ("$100,", None), ("$52,0", None),
    ("- 2022: $120,000", 120000.0), ("In 2023 the salary is 45000", 45000.0),
    ("15 x 12 = 180 years of experience", None), ("200 US dollars", None), ("$12.50", None),
    # a figure under $1,000 only when the reply says it is yearly
    ("$800 per year", 800.0), ("$800", None),
    # other periods become yearly, ranges their midpoint
    ("$25 an hour", 52000.0), ("$4,000 per month", 48000.0), ("$1,000 a week", 52000.0),
    ("$50,000 - $60,000", 55000.0), ("between $45,000 and $55,000 per year", 50000.0),
    ("50-60k", 55000.0), ("$1.2 million", 1.2e6),
])
def test_parse_money(text: str, value: float | None) -> None:
    assert parse_money(text) == value


@pytest.mark.parametrize("text,value", [
    (" A", "A"), ("Candidate B, because", "B"), ("B.", "B"), ("A or B", None),
    ("I would hire candidate A over B", "A"), ("neither", None),
    ("A: 1. Candidate A", "A"), ("A: 1. Candidate A is the best\n2. Candidate B is the best", "A"),
    ("**B**", "B"), ("Answer: B", "B"), ("The answer is: A", "A"), ("The answer is:", None),
    ("a relevant degree matters", None), ("Maria should be hired.", "A"), ("John, clearly.", "B"),
    ("Both Maria and John are good.", None),
])
def test_parse_decision(text: str, value: str | None) -> None:
    assert parse_decision(text, names=("Maria", "John")) == value


@pytest.mark.parametrize("text,value", [
    (" agree", "agree"), ("She disagrees.", "disagree"), ("Disagree", "disagree"), ("agreeable", None),
    # negation
    ("does not agree", "disagree"), ("No, Charlotte does not agree", "disagree"),
    ("Charlotte is not agreeing with the statement.", "disagree"), ("He doesn't really agree", "disagree"),
    ("Amara would never agree with that", "disagree"), ("Wei does not disagree", "agree"),
    # yes/no answers to the agree/disagree question
    ("The answer is no.", "disagree"), ("Yes.", "agree"), ('The answer is: "No', "disagree"),
    ("Yes, she disagrees.", "disagree"),  # the stance word says more than the yes
    # the options echoed back, neutral answers and prose are no stance
    ("agree or disagree?", None), ("Does Brandon agree or disagree? He agrees.", "agree"),
    ("She neither agrees nor disagrees.", None), ("I'm not sure of the answer.", None),
    ("There is no easy answer.", None),
])
def test_parse_stance(text: str, value: str | None) -> None:
    assert parse_stance(text) == value
