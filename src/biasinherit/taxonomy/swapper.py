"""Counterfactual swapper: the same text with the group changed for one attribute.

``CounterfactualSwapper().swap("She gave her book to Mary.", "gender")`` returns
``"He gave his book to John."`` together with every changed span, in the original and in the new
text, which the mask mitigation and the counterfactual loss use.

What swaps, all read from the taxonomy data (nothing here knows 'gender' or 'culture'):

- lexicon forms swap by concept and position: mother <-> father, women <-> men, Germans <->
  Japanese people (demonym plural), German <-> Japanese (adjective), Germany <-> Japan;
  multi-word forms win over their parts ('Japanese people', 'the United States');
- pronouns swap by role; female 'her' and male 'his' are resolved from context (see
  :mod:`biasinherit.taxonomy._grammar` for the rules and their limits);
- names swap by position (name i of one group <-> name i of the other). Names keyed by another
  attribute's group keep that group: a culture swap keeps a person's gender (Yuki -> Katharina),
  and a gender swap keeps their culture (Yuki -> Hiroshi). Within one text the same source name
  always maps to the same target, and two different names never merge into one: when the
  aligned target is taken, the next free name of the target group is used;
- case is kept (He -> She, HER -> HIS), possessive 's stays, and an indefinite article right
  before a swapped word is corrected ('an American' -> 'a German'); the change then starts at
  the article.

Choices and limits:

- Hyphens are word boundaries, so parts of compounds swap: 'woman-owned' -> 'man-owned',
  'German-made' -> 'Japanese-made', 'ex-wife' -> 'ex-husband'.
- Only an attribute's default groups are swapped *from* unless ``mapping`` names another group
  explicitly: most forms of the non-binary gender group are the language's neutral words
  ('person', 'parent', 'they'), so they are never read as a group mention by default. A mapping
  that names such a group swaps all its forms, neutral ones included ('they' -> 'she',
  'parents' -> 'mothers'); plural 'they' cannot be told from singular 'they'.
- Swapping *to* the non-binary group (``target="nonbinary"``) changes pronouns and terms only:
  verb agreement for singular 'they' is not done ('She is kind' -> 'They is kind').
- A form shared by two groups of the attribute ('actor' is the male and the neutral form) is
  left alone: it names no single group.
- A concept a target group lacks (a lexicon concept without that group, a name list that is
  empty) leaves the word unchanged; so does a culture name when swapping gender to a group the
  culture has no names for (non-binary).
- Names are recognised when capitalised (or in ALL CAPS), so 'mark the box' keeps its verb; a
  name-like word that starts a sentence ('Mark the box.') is read as the name.
- Word-sense limits of the context rules are listed in :mod:`biasinherit.taxonomy._grammar`;
  'the German' meaning the whole people is read as one person, 'the Japanese' (adjective only)
  becomes 'the German'.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from biasinherit.errors import BiasInheritError, unknown_name_error
from biasinherit.taxonomy._grammar import (
    at_sentence_start,
    indefinite_article,
    is_demonym_noun,
    is_determiner_position,
    match_case,
    previous_word,
)
from biasinherit.taxonomy._loader import LexiconEntry, Taxonomy, TermMatch, load_taxonomy
from biasinherit.taxonomy._model import Attribute

__all__ = ["CounterfactualSwapper", "SwapChange", "SwapResult"]

logger = logging.getLogger(__name__)

BOTH_TARGET_AND_MAPPING = "give either target or mapping, not both"


@dataclass(frozen=True)
class SwapChange:
    """One replaced span: ``text[start:end] == old`` and ``new_text[new_start:new_end] == new``.

    ``group``/``new_group`` are groups of the swapped attribute; ``concept`` is the lexicon
    concept ('parent', 'demonym'), 'name' or 'pronoun:<role>'. When an indefinite article was
    corrected the span starts at the article ('an American' -> 'a German').
    """

    start: int
    end: int
    new_start: int
    new_end: int
    old: str
    new: str
    group: str
    new_group: str
    concept: str = ""


@dataclass(frozen=True)
class SwapResult:
    """A swapped text, its changes and the ``attribute:group`` mentions before and after."""

    original: str
    text: str
    attribute: str
    mapping: dict[str, str]
    changes: list[SwapChange] = field(default_factory=list)
    groups_before: list[str] = field(default_factory=list)
    groups_after: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.text != self.original


@dataclass
class _Replacement:
    start: int
    end: int
    new: str  # target form as written in the taxonomy; case is applied when the text is built
    group: str
    new_group: str
    concept: str
    source_form: str  # the matched form as the taxonomy writes it ('he', 'Egypt', 'Mary')
    # for names: (attribute the name belongs to, its group there, its key there or '', the name)
    name_source: tuple[str, str, str, str] | None = None


class CounterfactualSwapper:
    """Maps a text to its counterfactual for one attribute (see the module docstring)."""

    def __init__(self, taxonomy: Taxonomy | None = None) -> None:
        self.taxonomy = taxonomy if taxonomy is not None else load_taxonomy()

    # ---- group mapping ---------------------------------------------------------------------

    def default_partner(self, attribute: str, group: str) -> str:
        """The group ``group`` swaps to by default: the next default group, cyclically.

        With two default groups (gender: female, male) this is an involution.
        """
        attr = self.taxonomy.attribute(attribute)
        if group not in attr.groups:
            raise unknown_name_error(f"{attribute} group", group, attr.groups)
        if group not in attr.default_groups:
            raise BiasInheritError(
                f"'{group}' is not a default group of '{attribute}' and has no default partner; "
                "name its target with target= or mapping="
            )
        groups = attr.default_groups
        return groups[(groups.index(group) + 1) % len(groups)]

    def resolve_mapping(
        self,
        attribute: str,
        target: str | None = None,
        mapping: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """{source group: target group} for a swap; identities are dropped."""
        attr = self.taxonomy.attribute(attribute)
        if target is not None and mapping is not None:
            raise BiasInheritError(BOTH_TARGET_AND_MAPPING)
        if mapping is not None:
            for group in (*mapping.keys(), *mapping.values()):
                if group not in attr.groups:
                    raise unknown_name_error(f"{attribute} group", group, attr.groups)
            resolved = dict(mapping)
        elif target is not None:
            if target not in attr.groups:
                raise unknown_name_error(f"{attribute} group", target, attr.groups)
            resolved = {g: target for g in attr.default_groups}
        else:
            resolved = {g: self.default_partner(attribute, g) for g in attr.default_groups}
        return {src: dst for src, dst in resolved.items() if src != dst}

    # ---- the swap --------------------------------------------------------------------------

    def swap_to(self, text: str, attribute: str, target_group: str) -> SwapResult:
        """Every (default) group of ``attribute`` in ``text`` becomes ``target_group``."""
        return self.swap(text, attribute, target=target_group)

    def swap(
        self,
        text: str,
        attribute: str,
        target: str | None = None,
        mapping: Mapping[str, str] | None = None,
    ) -> SwapResult:
        """``text`` with the groups of ``attribute`` changed.

        ``mapping`` is {from_group: to_group}; ``target`` maps every group to one group; with
        neither, each default group goes to :meth:`default_partner`.
        """
        resolved = self.resolve_mapping(attribute, target, mapping)
        attr = self.taxonomy.attribute(attribute)
        matches = self.taxonomy.find_term_matches(text)
        replacements: list[_Replacement] = []
        for match in matches:
            rep = self._replacement(text, match, attr, resolved)
            if rep is not None:
                replacements.append(rep)
        self._assign_names(replacements, matches, text, attr)
        new_text, changes = _apply(text, replacements)
        before = self.taxonomy.detect_groups(text, [attribute])
        after = set(self.taxonomy.detect_groups(new_text, [attribute]))
        after |= {f"{attribute}:{c.new_group}" for c in changes}
        return SwapResult(
            original=text,
            text=new_text,
            attribute=attribute,
            mapping=resolved,
            changes=changes,
            groups_before=before,
            groups_after=sorted(after),
        )

    # ---- one term --------------------------------------------------------------------------

    def _replacement(
        self, text: str, match: TermMatch, attr: Attribute, resolved: dict[str, str]
    ) -> _Replacement | None:
        own = [e for e in match.entries if e.attribute == attr.attribute]
        if own:
            if len({e.group for e in own}) > 1:
                return None  # 'actor': the male and the neutral form; names no single group
            group = own[0].group
            if group not in resolved:
                return None
            new_group = resolved[group]
            pronouns = [e for e in own if e.concept.startswith("pronoun:")]
            if own[0].concept == "name":
                return self._name_replacement(match, own[0], group, new_group)
            if pronouns:
                return self._pronoun_replacement(text, match, pronouns, attr, new_group)
            return self._lexicon_replacement(text, match, own, attr, new_group)
        # A name of another attribute keyed by this attribute's groups (a culture name, for a
        # gender swap): keep its own group, change the key.
        for entry in match.entries:
            if entry.concept != "name":
                continue
            if self.taxonomy.name_key_attribute(entry.attribute) != attr.attribute:
                continue
            owner = self.taxonomy.attributes[entry.attribute]
            key = owner.name_genders(entry.group).get(owner.names_of(entry.group)[entry.index])
            if key in resolved:
                return self._name_replacement(match, entry, key, resolved[key])
        return None

    def _pronoun_replacement(
        self,
        text: str,
        match: TermMatch,
        entries: list[LexiconEntry],
        attr: Attribute,
        new_group: str,
    ) -> _Replacement | None:
        roles = [e.concept.split(":", 1)[1] for e in entries]
        role = roles[0]
        if "possessive" in roles and len(roles) > 1:
            # female 'her' (object | possessive), male 'his' (possessive | possessive_pronoun)
            other = next(r for r in roles if r != "possessive")
            role = "possessive" if is_determiner_position(text, match.end) else other
        form = attr.pronouns.get(new_group, {}).get(role)
        if not isinstance(form, str):
            logger.debug("no %s pronoun for %s:%s", role, attr.attribute, new_group)
            return None
        source_form = attr.pronouns[entries[0].group][roles[0]]
        return _Replacement(
            match.start, match.end, form, entries[0].group, new_group, f"pronoun:{role}",
            str(source_form),
        )

    def _lexicon_replacement(
        self,
        text: str,
        match: TermMatch,
        entries: list[LexiconEntry],
        attr: Attribute,
        new_group: str,
    ) -> _Replacement | None:
        candidates: list[tuple[LexiconEntry, str]] = []
        for e in entries:
            forms = attr.lexicon.get(e.concept, {}).get(new_group, [])
            if e.index < len(forms):
                candidates.append((e, forms[e.index]))
        if not candidates:
            logger.debug("no %s form for %s:%s", entries[0].concept, attr.attribute, new_group)
            return None
        chosen = candidates[0]
        if len({form for _e, form in candidates}) > 1:
            # 'German' is demonym and adjective; 'Japanese person' and 'Japanese' are not one.
            by_concept = {e.concept: (e, form) for e, form in candidates}
            if "demonym" in by_concept and "adjective" in by_concept:
                noun = is_demonym_noun(text, match.start, match.end)
                chosen = by_concept["demonym" if noun else "adjective"]
        entry, form = chosen
        source_form = attr.lexicon[entry.concept][entry.group][entry.index]
        return _Replacement(
            match.start, match.end, form, entry.group, new_group, entry.concept, source_form
        )

    def _name_replacement(
        self, match: TermMatch, entry: LexiconEntry, group: str, new_group: str
    ) -> _Replacement:
        # the target name is chosen for the whole text in _assign_names
        owner = self.taxonomy.attributes[entry.attribute]
        name = owner.names_of(entry.group)[entry.index]
        key = owner.name_genders(entry.group).get(name, "")
        return _Replacement(
            match.start, match.end, "", group, new_group, "name", name,
            (entry.attribute, entry.group, key, name),
        )

    # ---- names: consistent and collision-free over the whole text --------------------------

    def _assign_names(
        self, reps: list[_Replacement], matches: list[TermMatch], text: str, attr: Attribute
    ) -> None:
        """Give every name replacement its target: the same source name always gets the same
        target, and no two names (nor a name kept in the text) end up the same."""
        swapped = {text[r.start:r.end].lower() for r in reps if r.concept == "name"}
        kept = {
            m.text.lower()
            for m in matches
            if any(e.concept == "name" for e in m.entries) and m.text.lower() not in swapped
        }
        assigned: dict[str, str] = {}  # source name (lower) -> target name
        taken = set(kept)
        for rep in reps:
            if rep.name_source is None:
                continue
            source = text[rep.start:rep.end]
            if source.lower() in assigned:
                rep.new = assigned[source.lower()]
                continue
            pool, position = self._name_pool(rep, attr)
            if not pool:
                rep.new = source  # no names for the target group: keep the name
                rep.new_group = rep.group
                assigned[source.lower()] = source
                continue
            order = [pool[(position + k) % len(pool)] for k in range(len(pool))]
            target = next((n for n in order if n.lower() not in taken), order[0])
            assigned[source.lower()] = target
            taken.add(target.lower())
            rep.new = target

    def _name_pool(self, rep: _Replacement, attr: Attribute) -> tuple[list[str], int]:
        """The target group's names (of the same key) and the aligned position in them."""
        if rep.name_source is None:
            return [], 0
        owner_name, owner_group, key, name = rep.name_source
        owner = self.taxonomy.attributes[owner_name]

        def names(group: str, k: str) -> list[str]:
            value = owner.names.get(group, [])
            return list(value.get(k, [])) if isinstance(value, dict) else list(value)

        position = names(owner_group, key).index(name)
        if owner_name == attr.attribute:
            return names(rep.new_group, key), position  # culture swap keeps the key (gender)
        return names(owner_group, rep.new_group), position  # gender swap keeps the culture


def _apply(text: str, reps: list[_Replacement]) -> tuple[str, list[SwapChange]]:
    """Build the new text left to right, applying case and fixing a/an before each change."""
    parts: list[str] = []
    changes: list[SwapChange] = []
    cursor = 0  # next unread position in text
    offset = 0  # len(new text so far) - cursor
    for rep in sorted(reps, key=lambda r: r.start):
        old = text[rep.start:rep.end]
        new = match_case(old, rep.new, rep.source_form, at_sentence_start(text, rep.start))
        if new == old:
            continue
        start = rep.start
        prev = previous_word(text, rep.start)
        if prev is not None and prev[0].lower() in ("a", "an") and prev[1] >= cursor:
            article = indefinite_article(new)
            if article != prev[0].lower():
                start = prev[1]
                new = match_case(prev[0], article) + text[prev[1] + len(prev[0]):rep.start] + new
                old = text[start:rep.end]
        parts.append(text[cursor:start])
        new_start = start + offset
        parts.append(new)
        changes.append(
            SwapChange(
                start=start, end=rep.end, new_start=new_start, new_end=new_start + len(new),
                old=old, new=new, group=rep.group, new_group=rep.new_group, concept=rep.concept,
            )
        )
        offset += len(new) - (rep.end - start)
        cursor = rep.end
    parts.append(text[cursor:])
    return "".join(parts), changes
