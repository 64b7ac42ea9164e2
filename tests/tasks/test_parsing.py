import pytest

from biasinherit.tasks._parsing import parse_decision, parse_money, parse_stance


@pytest.mark.parametrize("text,value", [
    (" $52,000 per year.", 52000.0), ("about 48k", 48000.0), ("USD 61000", 61000.0),
    ("65 thousand dollars", 65000.0), ("With 5 years, $70,500.", 70500.0), ("a fair wage", None),
    ("5 years", None),
])
def test_parse_money(text, value):
    assert parse_money(text) == value


@pytest.mark.parametrize("text,value", [
    (" A", "A"), ("Candidate B, because", "B"), ("B.", "B"), ("A or B", None),
    ("I would hire candidate A over B", "A"), ("neither", None),
])
def test_parse_decision(text, value):
    assert parse_decision(text) == value


@pytest.mark.parametrize("text,value", [
    (" agree", "agree"), ("She disagrees.", "disagree"), ("Disagree", "disagree"), ("agreeable", None),
])
def test_parse_stance(text, value):
    assert parse_stance(text) == value
