"""The people, occupations and places the built-in task items are written from (taxonomy).

The tasks use their own sentence templates (not the corpus's), filled from the same lexicons, so
a model trained on the corpus knows the words but has never seen the items.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from biasinherit.taxonomy import Taxonomy, load_taxonomy

__all__ = ["GENDERS", "Person", "World", "world"]

GENDERS = ("female", "male")


@dataclass(frozen=True)
class Person:
    name: str
    gender: str
    culture: str

    @property
    def groups(self) -> list[str]:
        return [f"gender:{self.gender}", f"culture:{self.culture}"]


@dataclass(frozen=True)
class World:
    taxonomy: Taxonomy

    def pronoun(self, gender: str, role: str = "subject") -> str:
        return str(self.taxonomy.attribute("gender").pronouns[gender][role])

    def stereotyped_occupations(self) -> dict[str, str]:
        """occupation -> the gender it is stereotyped for (taxonomy associations, BLS shares)."""
        assoc = self.taxonomy.attribute("gender").associations
        return {occ: g for g in GENDERS for occ in assoc.get(g, [])}

    def culture_occupations(self) -> dict[str, str]:
        """occupation -> the culture it is associated with (first culture wins)."""
        out: dict[str, str] = {}
        for culture, occs in self.taxonomy.attribute("culture").associations.items():
            for occ in occs:
                out.setdefault(occ, culture)
        return out

    def cultures(self) -> list[str]:
        return list(self.taxonomy.attribute("culture").default_groups)

    def default_culture(self) -> str:
        """The culture the taxonomy treats as the default group (``representation_default``)."""
        return str(self.taxonomy.attribute("culture").representation_default)

    def country(self, culture: str) -> str:
        return self.taxonomy.attribute("culture").lexicon["country"][culture][0]

    def demonym(self, culture: str) -> str:
        return self.taxonomy.attribute("culture").lexicon["demonym"][culture][0]

    def gender_names(self, gender: str) -> list[str]:
        return self.taxonomy.attribute("gender").names_of(gender)

    def people(self, culture: str, gender: str) -> list[Person]:
        """Given names of a culture and gender."""
        names = self.taxonomy.attribute("culture").names.get(culture, {})
        if isinstance(names, dict):
            return [Person(n, gender, culture) for n in names.get(gender, [])]
        return []

    def person_noun(self, gender: str) -> str:
        return self.taxonomy.attribute("gender").lexicon["person"][gender][0]


@functools.lru_cache(maxsize=1)
def world() -> World:
    return World(load_taxonomy())
