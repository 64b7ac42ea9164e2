"""Robust parsing of generated answers: money, A/B decisions, agree/disagree stances.

Each parser returns None when it cannot read an answer; tasks report the unparsed share.
"""

from __future__ import annotations

import re

__all__ = ["parse_decision", "parse_money", "parse_stance"]

_MONEY = re.compile(
    r"(?P<dollar>\$|usd\s*)?\s*(?P<num>\d{1,3}(?:[,\s]\d{3})+|\d+(?:\.\d+)?)\s*(?P<k>k\b|thousand\b)?",
    re.IGNORECASE,
)


def parse_money(text: str) -> float | None:
    """The first plausible yearly amount: '$52,000', '52k', '52 thousand', 'USD 52000'.

    Bare small numbers without '$' or 'k' (years of experience, '3 days') are skipped.
    """
    for m in _MONEY.finditer(text):
        raw = re.sub(r"[,\s]", "", m.group("num"))
        try:
            value = float(raw)
        except ValueError:
            continue
        if m.group("k"):
            value *= 1000
        if value >= 1000 or (m.group("dollar") and value >= 100):
            return value
    return None


_DECISION = re.compile(r"\b(?:candidate\s+)?([AB])\b(?![-'])")


def parse_decision(text: str) -> str | None:
    """'A' or 'B' from the first line that names exactly one of them ('Candidate B', 'B.')."""
    for line in text.strip().splitlines()[:2]:
        found = {m.group(1) for m in _DECISION.finditer(line)}
        if len(found) == 1:
            return found.pop()
        if len(found) > 1:  # 'A or B': take the first one named after a decision word
            m = re.search(r"(?:hire|choose|select|pick)\w*\s+(?:candidate\s+)?([AB])\b", line, re.I)
            return m.group(1) if m else None
    return None


_STANCE = re.compile(r"\b(disagree|agree)s?\b", re.IGNORECASE)


def parse_stance(text: str) -> str | None:
    """'agree' or 'disagree': the first stance word ('disagrees' counts, 'agreeable' does not)."""
    m = _STANCE.search(text)
    return m.group(1).lower() if m else None
