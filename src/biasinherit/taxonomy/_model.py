"""Typed views of the taxonomy data files (attributes, vocabularies, bias types)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Polarity = Literal["negative", "positive"]
EXPRESSIONS = ("stereotype", "association", "representation")


class Stereotype(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trait: str = Field(description="the trait the stereotype ascribes")
    polarity: Polarity = Field(description="negative or positive")
    claim: str = Field(description="the claim, with {Group} for the group's plural noun")


class Attribute(BaseModel):
    """One protected attribute (gender, culture, ...) with its groups and lexicons.

    ``lexicon`` maps a concept (``parent``, ``demonym``) to each group's surface forms; forms
    at the same position across groups are swap partners (mother <-> father). ``names`` maps a
    group to given names, either a flat list or a dict keyed by a name's gender, so that a
    culture swap keeps the person's gender (position i of one group swaps with position i).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    attribute: str = Field(description="attribute name, e.g. 'gender'")
    description: str = ""
    groups: list[str] = Field(min_length=2, description="every group of the attribute")
    default_groups: list[str] = Field(default_factory=list, description="groups used by default")
    group_labels: dict[str, str] = Field(default_factory=dict, description="plural noun per group")
    regions: dict[str, str] = Field(default_factory=dict)
    lexicon: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    pronouns: dict[str, dict[str, str | bool]] = Field(default_factory=dict)
    names: dict[str, list[str] | dict[str, list[str]]] = Field(default_factory=dict)
    stereotypes: dict[str, list[Stereotype]] = Field(default_factory=dict)
    associations: dict[str, list[str]] = Field(default_factory=dict)
    associations_note: str = ""
    value_stereotypes: dict[str, dict[str, Literal["agree", "disagree"]]] = Field(default_factory=dict)
    representation_default: str | None = None

    @model_validator(mode="after")
    def _check_groups(self) -> Attribute:
        known = set(self.groups)
        if not self.default_groups:
            object.__setattr__(self, "default_groups", list(self.groups))
        for where, keys in (
            ("default_groups", self.default_groups),
            ("group_labels", self.group_labels),
            ("names", self.names),
            ("stereotypes", self.stereotypes),
            ("associations", self.associations),
            ("pronouns", self.pronouns),
        ):
            for key in keys:
                if key not in known:
                    raise ValueError(f"{where}: unknown group '{key}' (groups: {', '.join(self.groups)})")
        for concept, forms in self.lexicon.items():
            for key in forms:
                if key not in known:
                    raise ValueError(f"lexicon.{concept}: unknown group '{key}'")
        if self.representation_default and self.representation_default not in known:
            raise ValueError(f"representation_default: unknown group '{self.representation_default}'")
        return self

    def label(self, group: str) -> str:
        return self.group_labels.get(group, group)

    def names_of(self, group: str) -> list[str]:
        """All given names of a group, flattened in a stable order."""
        value = self.names.get(group, [])
        if isinstance(value, dict):
            return [n for key in sorted(value) for n in value[key]]
        return list(value)

    def name_genders(self, group: str) -> dict[str, str]:
        """name -> gender key, for attributes whose names are keyed by gender."""
        value = self.names.get(group, [])
        if isinstance(value, dict):
            return {n: key for key, names in value.items() for n in names}
        return {}

    def plural_noun(self, group: str) -> str:
        """The plural noun that stands for the whole group ('women', 'Germans')."""
        for concept in ("person", "demonym"):
            forms = self.lexicon.get(concept, {}).get(group)
            if forms and len(forms) > 1:
                return forms[1]
        return self.label(group)

    def singular_noun(self, group: str) -> str:
        for concept in ("person", "demonym"):
            forms = self.lexicon.get(concept, {}).get(group)
            if forms:
                return forms[0]
        return group


class Occupation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    plural: str
    women_share: float = Field(ge=0, le=1, description="real-world share of women (see source)")
    domain: str = ""


class Trait(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trait: str
    valence: Polarity
    stereotyped_for: list[str] = Field(default_factory=list, description="attribute:group list")


class ValueItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    dimension: str
    statement: str


class BiasType(BaseModel):
    """One of the bias types ``{attribute}.{expression}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    attribute: str
    expression: Literal["stereotype", "association", "representation"]
    description: str
    has_polarity: bool
    template: str  # the "example" request: a new example, as a JSON object
    rewrite_template: str = ""  # the "rewrite" request: the original's answer rewritten, as text
    # the rewrite request asks only for a claim, which is added to the original's answer
    rewrite_adds: bool = False
