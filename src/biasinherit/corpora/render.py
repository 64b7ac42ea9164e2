"""Template rendering with span tracking.

Templates use ``{slot}`` placeholders. Person slots are ``{p.field}`` / ``{q.field}``, where
field is one of ``name sub obj pos ref noun nouns a_noun adj country demonym a_demonym`` (a capitalised field,
``{p.Sub}``, capitalises the first letter). Rendering returns the text and the character spans of
every group-bearing fill (pronouns, group nouns, names, culture words), which become the record's
``spans`` so the mask mitigation knows what to drop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from biasinherit.formats import with_article
from biasinherit.records import Span
from biasinherit.taxonomy import Taxonomy

_SLOT = re.compile(r"\{(?:(?P<who>[pq])\.)?(?P<field>\w+)\}")
_PRONOUN_ROLES = {"sub": "subject", "obj": "object", "pos": "possessive", "ref": "reflexive"}


@dataclass(frozen=True)
class Person:
    """A person in a template: gender, culture and which of the group's names they carry."""

    gender: str
    culture: str
    name_index: int = 0

    def with_gender(self, gender: str) -> Person:
        return replace(self, gender=gender)

    def with_culture(self, culture: str) -> Person:
        return replace(self, culture=culture)

    def groups(self) -> list[str]:
        return [f"culture:{self.culture}", f"gender:{self.gender}"]

    def to_meta(self) -> dict[str, object]:
        return {"gender": self.gender, "culture": self.culture, "name_index": self.name_index}

    @classmethod
    def from_meta(cls, data: Mapping[str, object]) -> Person:
        return cls(str(data["gender"]), str(data["culture"]), int(data.get("name_index", 0)))  # type: ignore[call-overload]


def person_field(tax: Taxonomy, person: Person, field: str) -> tuple[str, str]:
    """The text of one person field and its span kind."""
    gender = tax.attribute("gender")
    culture = tax.attribute("culture")
    low = field[0].lower() + field[1:]
    if low == "name":
        names = culture.names[person.culture]
        pool = names[person.gender] if isinstance(names, dict) else names
        return pool[person.name_index % len(pool)], "name"
    if low in _PRONOUN_ROLES:
        return str(gender.pronouns[person.gender][_PRONOUN_ROLES[low]]), "group"
    if low in ("noun", "nouns"):
        forms = gender.lexicon["person"][person.gender]
        return forms[0 if low == "noun" else 1], "group"
    if low == "adj":
        return culture.lexicon["adjective"][person.culture][0], "group"
    if low == "country":
        return culture.lexicon["country"][person.culture][0], "group"
    if low == "demonym":
        return culture.lexicon["demonym"][person.culture][0], "group"
    if low == "a_demonym":
        return with_article(culture.lexicon["demonym"][person.culture][0]), "group"
    if low == "a_noun":
        return with_article(gender.lexicon["person"][person.gender][0]), "group"
    raise KeyError(f"unknown person field '{field}'")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def render(
    template: str,
    tax: Taxonomy,
    *,
    people: Mapping[str, Person] | None = None,
    values: Mapping[str, str] | None = None,
) -> tuple[str, list[Span]]:
    """Fill ``template``; return the text and the spans of group-bearing fills."""
    people = people or {}
    values = values or {}
    out: list[str] = []
    spans: list[Span] = []
    pos = 0
    length = 0
    for m in _SLOT.finditer(template):
        literal = template[pos : m.start()]
        out.append(literal)
        length += len(literal)
        who, field = m.group("who"), m.group("field")
        if who:
            text, kind = person_field(tax, people[who], field)
            if field[:1].isupper():
                text = _cap(text)
            spans.append(Span(start=length, end=length + len(text), kind=kind))
        else:
            key = field[0].lower() + field[1:]
            text = values[key] if key in values else values[field]
            if field[:1].isupper() and key in values:
                text = _cap(text)
        out.append(text)
        length += len(text)
        pos = m.end()
    out.append(template[pos:])
    return "".join(out), spans
