"""Load the taxonomy from the package's data files plus any extra folders.

A third attribute (religion, age, ...) is one JSON file: put it in a folder and pass the folder
to :func:`load_taxonomy` or list it in ``BIASINHERIT_TAXONOMY_PATH`` (``os.pathsep``-separated).
Every attribute file gets the three bias types ``{attribute}.{stereotype,association,representation}``.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from biasinherit.errors import BiasInheritError, unknown_name_error
from biasinherit.taxonomy._model import (
    EXPRESSIONS,
    Attribute,
    BiasType,
    Occupation,
    Trait,
    ValueItem,
)

ENV_PATH = "BIASINHERIT_TAXONOMY_PATH"
PLAIN = "plain"
DISTINCTIVE_CONCEPTS = ("name", "adjective")


@dataclass(frozen=True)
class LexiconEntry:
    """Where one surface form sits in the taxonomy."""

    attribute: str
    group: str
    concept: str  # lexicon concept, 'name' or 'pronoun:<role>'
    index: int


@dataclass(frozen=True)
class TermMatch:
    """One occurrence of a lexicon form in a text, with every entry the form has."""

    start: int
    end: int
    text: str
    entries: tuple[LexiconEntry, ...]


@dataclass
class Taxonomy:
    attributes: dict[str, Attribute]
    occupations: list[Occupation]
    occupations_source: str
    traits: list[Trait]
    values: list[ValueItem]
    stances: list[str]
    bias_types: dict[str, BiasType]
    plain_template: str
    sources: list[str] = field(default_factory=list)
    plain_rewrite_template: str = ""

    # ---- lookups with helpful errors -------------------------------------------------------

    def attribute(self, name: str) -> Attribute:
        if name not in self.attributes:
            raise unknown_name_error("attribute", name, self.attributes)
        return self.attributes[name]

    def bias_type(self, name: str) -> BiasType:
        if name not in self.bias_types:
            raise unknown_name_error("bias type", name, [*self.bias_types, PLAIN])
        return self.bias_types[name]

    def occupation(self, name: str) -> Occupation:
        for occ in self.occupations:
            if occ.name == name:
                return occ
        raise unknown_name_error("occupation", name, [o.name for o in self.occupations])

    # ---- lexicon index ---------------------------------------------------------------------

    @functools.cached_property
    def lexicon_index(self) -> dict[str, list[LexiconEntry]]:
        """lower-cased surface form -> every place it occurs (a form can be ambiguous)."""
        index: dict[str, list[LexiconEntry]] = {}

        def add(form: str, entry: LexiconEntry) -> None:
            index.setdefault(form.lower(), []).append(entry)

        for attr in self.attributes.values():
            for concept, per_group in attr.lexicon.items():
                for group, forms in per_group.items():
                    for i, form in enumerate(forms):
                        add(form, LexiconEntry(attr.attribute, group, concept, i))
            for group in attr.groups:
                for i, name in enumerate(attr.names_of(group)):
                    add(name, LexiconEntry(attr.attribute, group, "name", i))
                for role, form in attr.pronouns.get(group, {}).items():
                    if isinstance(form, str):
                        add(form, LexiconEntry(attr.attribute, group, f"pronoun:{role}", 0))
        return index

    @functools.cached_property
    def _surface_forms(self) -> list[str]:
        """Every lexicon form, name and pronoun in its written case (deduplicated)."""
        forms: dict[str, None] = {}
        for attr in self.attributes.values():
            for per_group in attr.lexicon.values():
                for group_forms in per_group.values():
                    forms.update(dict.fromkeys(group_forms))
            for group in attr.groups:
                forms.update(dict.fromkeys(attr.names_of(group)))
                for form in attr.pronouns.get(group, {}).values():
                    if isinstance(form, str):
                        forms[form] = None
        return list(forms)

    @functools.cached_property
    def _term_pattern(self) -> re.Pattern[str]:
        """One regex for every form, longest first, so 'Japanese people' wins over 'Japanese'.

        Case: an all-lower-case form ('her', 'woman') matches in any case. A form written with
        capitals (names, 'German', 'Ms.', 'the United States') matches as written, with a
        capitalised first letter, or in ALL CAPS, so 'mark the box' and 'fine china' are not
        the names Mark and the country China. Hyphens and apostrophes are word boundaries:
        'woman-owned' and "Mary's" contain the terms 'woman' and 'Mary'; 'manager', 'human',
        'Herald' and 'shell' contain none.
        """
        variants: dict[str, int] = {}  # regex alternative -> length of the text it matches
        for form in self._surface_forms:
            if form == form.lower():
                variants[f"(?i:{re.escape(form)})"] = len(form)
            else:
                for v in {form, form[0].upper() + form[1:], form.upper()}:
                    variants[re.escape(v)] = len(form)
        alternation = "|".join(sorted(variants, key=lambda v: (-variants[v], v)))
        return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")

    def find_term_matches(
        self, text: str, attributes: Iterable[str] | None = None
    ) -> list[TermMatch]:
        """Every lexicon form in ``text`` with *all* the places it occurs in the taxonomy.

        Unlike :meth:`find_terms` nothing ambiguous is dropped: 'her' comes with both its
        pronoun roles, 'German' with its demonym and adjective entries, 'actor' with the male
        and the non-binary group; the caller decides.
        """
        wanted = set(attributes) if attributes is not None else None
        out: list[TermMatch] = []
        for m in self._term_pattern.finditer(text):
            entries = self.lexicon_index[m.group(0).lower()]
            if wanted is not None:
                entries = [e for e in entries if e.attribute in wanted]
            if entries:
                out.append(TermMatch(m.start(), m.end(), m.group(0), tuple(entries)))
        return out

    def find_terms(
        self, text: str, attributes: Iterable[str] | None = None
    ) -> list[tuple[int, int, LexiconEntry]]:
        """Every group-bearing term in ``text`` as ``(start, end, entry)``, longest match first.

        Forms shared by several groups of one attribute (``actor`` is both the male and the
        non-binary form) are skipped: they do not identify a group. A form that belongs to two
        attributes (a name listed for a culture and for a religion) is reported once for each.
        """
        out: list[tuple[int, int, LexiconEntry]] = []
        for match in self.find_term_matches(text, attributes):
            by_attribute: dict[str, list[LexiconEntry]] = {}
            for e in match.entries:
                by_attribute.setdefault(e.attribute, []).append(e)
            for entries in by_attribute.values():
                if len({e.group for e in entries}) > 1:
                    continue  # ambiguous form: names no single group of this attribute
                out.append((match.start, match.end, entries[0]))
        return out

    def name_key_attribute(self, attribute: str) -> str | None:
        """The attribute whose groups key ``attribute``'s names, e.g. culture -> 'gender'.

        Culture names are stored per gender (``{"japanese": {"female": [...], "male": [...]}}``),
        so a culture name also tells a person's gender. None when names are flat lists.
        """
        attr = self.attribute(attribute)
        keys = {k for value in attr.names.values() if isinstance(value, dict) for k in value}
        if not keys:
            return None
        for other in self.attributes.values():
            if other.attribute != attribute and keys <= set(other.groups):
                return other.attribute
        return None

    def detect_groups(self, text: str, attributes: Iterable[str] | None = None) -> list[str]:
        """Sorted ``attribute:group`` mentions found in ``text`` (a group outside the attribute's
        ``default_groups`` counts only through a name or its adjective: 'they' never does).

        A name keyed by another attribute's group also reports that group: 'Yuki' is
        ``culture:japanese`` and ``gender:female``.
        """
        wanted = set(attributes) if attributes is not None else None
        found = set()
        for _s, _e, entry in self.find_terms(text):
            attr = self.attributes[entry.attribute]
            if entry.concept == "name":
                key_attr = self.name_key_attribute(entry.attribute)
                if key_attr is not None and (wanted is None or key_attr in wanted):
                    name = attr.names_of(entry.group)[entry.index]
                    key = attr.name_genders(entry.group).get(name)
                    if key is not None:
                        found.add(f"{key_attr}:{key}")
            if wanted is not None and entry.attribute not in wanted:
                continue
            if entry.group not in attr.default_groups and entry.concept not in DISTINCTIVE_CONCEPTS:
                # a non-default group's other forms are ordinary neutral words ('they',
                # 'spouse', 'firefighter'): only names and its adjective identify it
                continue
            found.add(f"{entry.attribute}:{entry.group}")
        return sorted(found)


# --------------------------------------------------------------------------------------------


def _read_json(path: Path | Any, label: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BiasInheritError(f"invalid JSON ({exc.msg})", path=label, line=exc.lineno) from None


def _parse_attribute(data: Any, label: str) -> Attribute:
    try:
        return Attribute.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        fld = ".".join(str(p) for p in err["loc"]) or None
        raise BiasInheritError(err["msg"], path=label, field=fld) from None


def _extra_dirs(extra: Sequence[str | Path]) -> list[Path]:
    dirs = [Path(p) for p in extra]
    env = os.environ.get(ENV_PATH, "")
    dirs += [Path(p) for p in env.split(os.pathsep) if p]
    for d in dirs:
        if not d.is_dir():
            raise BiasInheritError("taxonomy folder not found", path=d)
    return dirs


def load_taxonomy(extra_paths: Sequence[str | Path] = ()) -> Taxonomy:
    """The taxonomy: the package's attributes plus those found in ``extra_paths``."""
    dirs = tuple(str(p) for p in _extra_dirs(extra_paths))
    return _load_cached(dirs)


@functools.lru_cache(maxsize=8)
def _load_cached(dirs: tuple[str, ...]) -> Taxonomy:
    root = resources.files("biasinherit.taxonomy") / "data"
    attributes: dict[str, Attribute] = {}
    sources: list[str] = []
    attr_files: list[tuple[Any, str]] = [
        (f, f"biasinherit/taxonomy/data/attributes/{f.name}")
        for f in sorted((root / "attributes").iterdir(), key=lambda p: p.name)
        if f.name.endswith(".json")
    ]
    for d in dirs:
        for f in sorted(Path(d).rglob("*.json")):
            attr_files.append((f, str(f)))
    for f, label in attr_files:
        data = _read_json(f, label)
        if not isinstance(data, dict) or "attribute" not in data:
            continue  # not an attribute file
        attr = _parse_attribute(data, label)
        if attr.attribute in attributes and not label.startswith("biasinherit/"):
            raise BiasInheritError(f"attribute '{attr.attribute}' is defined twice", path=label)
        attributes[attr.attribute] = attr
        sources.append(label)

    occ = _read_json(root / "vocab" / "occupations.json", "occupations.json")
    traits = _read_json(root / "vocab" / "traits.json", "traits.json")
    values = _read_json(root / "vocab" / "values.json", "values.json")
    bt = _read_json(root / "bias_types.json", "bias_types.json")

    bias_types: dict[str, BiasType] = {}
    for attr_name in attributes:
        for expr in EXPRESSIONS:
            spec = bt["expressions"][expr]
            bias_types[f"{attr_name}.{expr}"] = BiasType(
                name=f"{attr_name}.{expr}",
                attribute=attr_name,
                expression=expr,
                description=spec["description"],
                has_polarity=spec["has_polarity"],
                template=spec["template"],
                rewrite_template=spec.get("rewrite_template", ""),
                rewrite_adds=bool(spec.get("rewrite_adds", False)),
            )
    return Taxonomy(
        attributes=attributes,
        occupations=[Occupation.model_validate(o) for o in occ["occupations"]],
        occupations_source=occ["source"],
        traits=[Trait.model_validate(t) for t in traits["traits"]],
        values=[ValueItem.model_validate(v) for v in values["items"]],
        stances=list(values["stances"]),
        bias_types=bias_types,
        plain_template=bt["plain"]["template"],
        sources=sources,
        plain_rewrite_template=bt["plain"].get("rewrite_template", ""),
    )
