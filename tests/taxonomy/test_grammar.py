"""The swapper's grammar rules, one function at a time."""

from __future__ import annotations

import pytest

from biasinherit.taxonomy._grammar import (
    at_sentence_start,
    indefinite_article,
    is_demonym_noun,
    is_determiner_position,
    match_case,
    next_word,
    previous_word,
)


@pytest.mark.parametrize(
    ("text", "determiner"),
    [
        ("her book", True),
        ("her new car", True),
        ("her own", True),
        ("her 3 kids", True),
        ("her very own room", True),
        ("her family", True),
        ("her.", False),
        ("her", False),
        ("her, and", False),
        ("her the keys", False),
        ("her he said", False),
        ("her to", False),
        ("her and", False),
        ("her is", False),
        ("her go", False),
        ("her yesterday", False),
        ("her quickly", False),
        ("her very much", False),
        ("her\nThen", False),
    ],
)
def test_is_determiner_position(text: str, determiner: bool) -> None:
    assert is_determiner_position(text, 3) is determiner


@pytest.mark.parametrize(
    ("text", "start", "end", "noun"),
    [
        ("a German.", 2, 8, True),
        ("the German who", 4, 10, True),
        ("a German visited", 2, 8, True),
        ("a German car", 2, 8, False),
        ("German-made", 0, 6, False),
        ("She is German.", 7, 13, False),
    ],
)
def test_is_demonym_noun(text: str, start: int, end: int, noun: bool) -> None:
    assert is_demonym_noun(text, start, end) is noun


@pytest.mark.parametrize(
    ("word", "article"),
    [("American", "an"), ("German", "a"), ("Indian", "an"), ("uncle", "an"),
     ("university", "a"), ("hour", "an"), ("one", "a"), ("European", "a")],
)
def test_indefinite_article(word: str, article: str) -> None:
    assert indefinite_article(word) == article


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [("he", "she", "she"), ("He", "she", "She"), ("HE", "she", "SHE"), ("MS.", "Mr.", "MR."),
     ("Japan", "the United States", "The United States"), ("the United States", "Japan", "Japan")],
)
def test_match_case(source: str, target: str, expected: str) -> None:
    assert match_case(source, target) == expected


def test_a_lexical_capital_is_not_carried_mid_sentence() -> None:
    assert match_case("Egypt", "the United States", "Egypt", sentence_start=False) == (
        "the United States"
    )
    assert match_case("Egypt", "the United States", "Egypt", sentence_start=True) == (
        "The United States"
    )
    assert match_case("He", "she", "he", sentence_start=False) == "She"  # positional capital


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [("Egypt", 0, True), ("I left. Egypt", 8, True), ("from Egypt", 5, False),
     ('"Egypt', 1, True), ("line\nEgypt", 5, True)],
)
def test_at_sentence_start(text: str, start: int, expected: bool) -> None:
    assert at_sentence_start(text, start) is expected


def test_next_and_previous_word() -> None:
    assert next_word("her  book", 3) == "book"
    assert next_word("her, book", 3) is None
    assert previous_word("saw an  apple", 8) == ("an", 4)
    assert previous_word("apple", 0) is None
