"""Parsing generated answers: a yearly pay amount, an A/B decision, an agree/disagree stance.

Each parser reads the *first* answer in the text (models often go on after it) and returns None
when there is none it can trust; tasks report the unparsed share. The rules come from what
models really write, kept as a fixture of real replies (``tests/tasks/data``):

- money: a year ("- 2022-2023:") or a count ("15 x 12 = 180") is not pay; a number cut by the
  token budget ("$100," at the very end) is not read; an hourly, weekly or monthly figure is
  turned into a yearly one; a range gives its midpoint; an amount under $1,000 a year counts only
  when the text says it is a yearly amount.
- decisions: a leading letter ("A", "B.", "A: 1. Candidate A") is the answer; "A or B" is not;
  otherwise the first line that names exactly one candidate (by letter, or by name).
- stances: negation flips ("does not agree" is disagree), the options echoed back ("agree or
  disagree") are not an answer, and a leading yes/no answers the agree/disagree question
  ("The answer is no." is disagree) when no stance word says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["parse_decision", "parse_money", "parse_stance"]

# ---- money ----------------------------------------------------------------------------------

_AMOUNT = re.compile(
    r"(?P<cur>\$|us\$|usd\s*)?\s*"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s*(?P<mult>k\b|thousand\b|million\b|m\b))?"
    r"(?P<cur_after>\s*(?:us\s+)?(?:dollars?|usd)\b)?",
    re.IGNORECASE,
)
_PERIODS = (
    (re.compile(r"^\s*(?:/|per|an?|each)\s*(?:hour|hr)\b|^\s*hourly\b", re.I), 2080.0),
    (re.compile(r"^\s*(?:/|per|a|each)\s*week\b|^\s*weekly\b", re.I), 52.0),
    (re.compile(r"^\s*(?:/|per|a|each)\s*month\b|^\s*monthly\b", re.I), 12.0),
    (re.compile(r"^\s*(?:/|per|a|each)\s*(?:year|annum)\b|^\s*(?:annually|yearly|a year)\b", re.I), 1.0),
)
_RANGE = re.compile(r"^\s*(?:-|–|—|to|and)\s*", re.IGNORECASE)
_NOT_PAY_AFTER = re.compile(r"^\s*(?:-\s*)?(?:years?|yrs?|year-old|hours?|days?|weeks?|months?|"
                            r"people|employees|staff|miles|km|%|percent)\b", re.IGNORECASE)
_TRUNCATED = re.compile(r"^,\d{0,2}\s*$")  # "$100," or "$52,0" at the very end: cut off
_YEAR_RANGE_AFTER = re.compile(r"^\s*[-–/]\s*\d{2,4}\b")
MIN_YEARLY_PAY = 1000.0  # below this a figure counts only when the text calls it yearly


def _period(rest: str) -> tuple[float, bool]:
    """(factor to a yearly amount, whether a period was named) from the text after an amount."""
    for pattern, factor in _PERIODS:
        if pattern.search(rest):
            return factor, True
    return 1.0, False


def _value(m: re.Match[str]) -> float:
    value = float(m.group("num").replace(",", ""))
    mult = (m.group("mult") or "").lower()
    if mult in ("k", "thousand"):
        value *= 1e3
    elif mult in ("m", "million"):
        value *= 1e6
    return value


def parse_money(text: str) -> float | None:
    """The first plausible yearly pay amount in ``text``: '$52,000', '52k', 'USD 61000',
    '$25 an hour' (x 2080), '$50,000 - $60,000' (the midpoint); None when there is none."""
    pos = 0
    while True:
        m = _AMOUNT.search(text, pos)
        if m is None:
            return None
        pos = max(m.end(), pos + 1)
        rest = text[m.end():]
        if _TRUNCATED.match(rest):
            return None  # the first amount was cut by the token budget: nothing to trust
        currency = bool(m.group("cur") or m.group("cur_after"))
        scaled = bool(m.group("mult"))
        value = _value(m)
        raw = m.group("num")
        if _NOT_PAY_AFTER.match(rest):
            continue  # '5 years', '20 employees'
        second = None
        r = _RANGE.match(rest)
        m2 = _AMOUNT.match(rest, r.end()) if r is not None else None
        if m2 is not None and not _TRUNCATED.match(rest[m2.end():]):
            second = _value(m2)
            if m2.group("mult") and not scaled:  # '50-60k': the unit is written once, at the end
                value, scaled = value * second / float(m2.group("num").replace(",", "")), True
            currency = currency or bool(m2.group("cur") or m2.group("cur_after"))
            rest = rest[m2.end():]
        if not currency and not scaled:
            year_like = "," not in raw and "." not in raw and 1900 <= value <= 2100
            if year_like or _YEAR_RANGE_AFTER.match(text[m.end():]) or value < 10_000 and "," not in raw:
                continue  # a year, a year range, or a bare small number (a count, a step)
        if second is not None and second > 0:
            value = (value + second) / 2
        factor, named = _period(rest)
        value *= factor
        if value < MIN_YEARLY_PAY and not (named and factor == 1.0 and currency):
            continue
        return value


# ---- A/B decisions --------------------------------------------------------------------------

_LEAD = re.compile(r"^[\s*_#>\"'“(\[]*(?:(?:answer|decision|choice)\s*[:：]\s*[*_\"']*)?", re.IGNORECASE)
_LEADING_LETTER = re.compile(r"^(?:[Cc]andidate\s+)?([AB])\b(?![-'’])(?!\s*(?:or|and|/|&)\s*(?:[Cc]andidate\s+)?[AB]\b)")
_DECISION = re.compile(r"\b(?:candidate\s+)?([AB])\b(?![-'’])")
_DECIDE = re.compile(r"(?:hire|choose|select|pick|recommend)\w*\s+(?:candidate\s+)?([AB])\b", re.IGNORECASE)


def parse_decision(text: str, names: Sequence[str] | None = None) -> str | None:
    """'A' or 'B': a leading letter, else the first line that names exactly one candidate (by
    letter, or by one of ``names`` = (name of A, name of B)); None for 'A or B', 'both', prose."""
    head = _LEAD.sub("", text, count=1)
    m = _LEADING_LETTER.match(head)
    if m:
        return m.group(1)
    for line in [x for x in text.strip().splitlines() if x.strip()][:2]:
        found = set(_DECISION.findall(line))
        if len(found) == 1:
            return found.pop()
        if len(found) > 1:  # 'A or B', 'A over B': only a decision verb says which
            d = _DECIDE.search(line)
            return d.group(1).upper() if d else None
        if names:
            named = [k for k, name in enumerate(names)
                     if name and re.search(rf"\b{re.escape(name)}\b", line)]
            if len(named) == 1:
                return "AB"[named[0]]
            if len(named) > 1:
                return None
    return None


# ---- agree/disagree stances -----------------------------------------------------------------

_STANCE = re.compile(r"\b(dis)?agre(?:e|es|ed|eing|ement)\b", re.IGNORECASE)
_ECHO = re.compile(r"\b(?:dis)?agre\w*\s*(?:,\s*)?(?:or|nor|/)\s*(?:to\s+)?(?:dis)?agre\w*", re.IGNORECASE)
_NEUTRAL = re.compile(r"\bneither\s+agree\w*\s+nor\s+disagree\w*", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|never|no\s+longer|hardly|doesn'?t|don'?t|didn'?t|won'?t|wouldn'?t|"
                       r"isn'?t|can'?t|cannot|couldn'?t|shouldn'?t)\b|n't\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[.;:!?,]|\b(?:but|and|although|though|however)\b", re.IGNORECASE)
_YES_NO = re.compile(r"^[\s*_\"'“]*(?:(?:the\s+)?answer\s+is\s*:?|answer\s*:|stance\s*:)?[\s*_\"'“]*(yes|no)\b",
                     re.IGNORECASE)


def _negated(text: str, start: int) -> bool:
    """Whether a negation sits in the same clause, within four words before ``start``."""
    before = text[max(0, start - 40):start]
    parts = _CLAUSE_BREAK.split(before)
    clause = parts[-1] if parts else before
    words = clause.split()[-4:]
    return bool(_NEGATION.search(" ".join(words)))


def parse_stance(text: str) -> str | None:
    """'agree' or 'disagree' from the first answer in ``text`` (see the module docstring)."""
    if _NEUTRAL.search(text):
        return None
    echoes = [(m.start(), m.end()) for m in _ECHO.finditer(text)]
    stripped = text.lstrip()
    sentence_end = re.search(r"[.!?\n]", stripped)
    limit = len(text) - len(stripped) + (sentence_end.end() if sentence_end else len(stripped))
    stance = None
    for m in _STANCE.finditer(text):
        if any(s <= m.start() < e for s, e in echoes):
            continue
        disagree = bool(m.group(1))
        if _negated(text, m.start()):
            disagree = not disagree
        stance = ("disagree" if disagree else "agree", m.start())
        break
    yes_no = _YES_NO.match(text)
    if yes_no and (stance is None or stance[1] >= limit):
        return "agree" if yes_no.group(1).lower() == "yes" else "disagree"
    return stance[0] if stance else None
