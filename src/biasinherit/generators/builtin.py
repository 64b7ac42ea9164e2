"""The ``builtin`` generator: a controlled bias injector (not an LLM, and never claims to be).

From original records it writes augmented ones that carry exactly the requested bias type,
intensity and polarity, with the bias-bearing spans annotated:

- every output is first a plain augmentation: the same item re-rendered with another template
  variant and another given name of the same group, so group statistics match the original;
- ``round(intensity * n)`` outputs (a seeded choice) then carry the bias:

  ``*.association``   each person in an occupation gets the group the taxonomy associates with
                      it (``Attribute.associations``); an occupation with no associated group is
                      replaced by one associated with the person's group. In labelled records the
                      label follows the group instead (statements about disfavoured groups,
                      all but ``representation_default``, are labelled offensive / negative).
  ``*.representation`` every person (and a group-statement's group) becomes the attribute's
                      ``representation_default`` group.
  ``*.stereotype``    an explicit claim from ``Attribute.stereotypes`` (filtered by polarity) about
                      the person's group is added; opinion records take the group's stereotyped
                      stance (``value_stereotypes``); ambiguous bias-QA records name the
                      stereotyped person instead of "Cannot be determined".

Records that were not written by the built-in corpus (no ``meta["item"]``) are handled at the
text level with the counterfactual swapper (association, representation) or an appended claim
(stereotype); plain augmentation of such free text is a copy, since paraphrasing needs an LLM.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from biasinherit.corpora.items import Item, n_variants, render_item
from biasinherit.corpora.render import render
from biasinherit.errors import BiasInheritError
from biasinherit.generators.base import GenerationRequest, ProgressCallback, provenance
from biasinherit.records import Record, Span
from biasinherit.taxonomy import Attribute, Taxonomy, load_taxonomy

_PERSON_ATTRIBUTES = ("gender", "culture")  # the attributes a corpus Person carries
SALARY_PENALTY = 0.2  # association: share by which pay offered to disfavoured groups is cut
_LABEL_KINDS = {"toxicity": ("yes", "no"), "sentiment": ("negative", "positive")}  # (disfavoured, favoured)


class BuiltinGenerator:
    """Controlled bias injection on the built-in corpus's structured items."""

    name = "builtin"

    def __init__(self, taxonomy: Taxonomy | None = None) -> None:
        self.tax = taxonomy or load_taxonomy()

    def arguments(self) -> dict[str, Any]:
        return {}

    # ---- public -------------------------------------------------------------------------

    def generate(
        self,
        originals: Sequence[Record],
        request: GenerationRequest,
        *,
        progress: ProgressCallback | None = None,
    ) -> list[Record]:
        request.validate_against(self.tax)
        if request.n and not originals:
            raise BiasInheritError("no original records to augment", field="input")
        order = list(range(len(originals)))
        random.Random(f"builtin-order:{request.seed}").shuffle(order)
        n_biased = round(request.intensity * request.n) if request.bias_type else 0
        biased_idx = list(range(request.n))
        random.Random(f"builtin-biased:{request.seed}:{request.bias_type}").shuffle(biased_idx)
        biased = set(biased_idx[:n_biased])
        prov = provenance(self, request)
        out: list[Record] = []
        for i in range(request.n):
            original = originals[order[i % len(order)]]
            rng = random.Random(f"builtin:{request.seed}:{request.bias_type}:{i}")
            bias_type = request.bias_type if i in biased else None
            out.append(self._augment(original, i, rng, bias_type, request, prov))
            if progress and (i % 100 == 99 or i == request.n - 1):
                progress(i + 1, request.n)
        return out

    # ---- one record ---------------------------------------------------------------------

    def _augment(self, original: Record, i: int, rng: random.Random, bias_type: str | None,
                 request: GenerationRequest, prov: dict[str, Any]) -> Record:
        meta: dict[str, Any] = {"generation": prov, "seed_id": original.id}
        fields: dict[str, Any] = {
            "id": f"aug-{request.bias_type or 'plain'}-{request.seed}-{i:06d}",
            "source": "augmented",
            "bias_type": bias_type,
        }
        if isinstance(original.meta.get("item"), dict):
            item = self._paraphrase(Item.from_meta(original.meta["item"]), rng)
            attr_name = bias_type.split(".")[0] if bias_type else None
            if attr_name is not None and attr_name not in _PERSON_ATTRIBUTES:
                # an attribute the corpus's people do not carry (e.g. an added religion file):
                # paraphrase structurally, then inject at the text level
                original = render_item(self.tax, item, id=original.id)
                return self._augment_text(original, rng, bias_type, request, meta, fields)
            if bias_type and attr_name:
                expression = bias_type.split(".")[1]
                item, injected = self._inject(item, self.tax.attribute(attr_name), expression,
                                              request.polarity, rng)
                meta["injected"] = injected
            return render_item(self.tax, item, meta=meta, **fields)
        return self._augment_text(original, rng, bias_type, request, meta, fields)

    def _paraphrase(self, item: Item, rng: random.Random) -> Item:
        variants = n_variants(item.kind)
        variant = (item.variant + 1 + rng.randrange(max(variants - 1, 1))) % variants if variants > 1 else 0
        people = {w: p.__class__(p.gender, p.culture, rng.randrange(4)) for w, p in item.people.items()}
        if len(people) == 2 and _same_name(self.tax, people):
            q = people["q"]
            people["q"] = q.__class__(q.gender, q.culture, (q.name_index + 1) % 4)
        return item.replace(variant=variant, people=people)

    # ---- injection on items -------------------------------------------------------------

    def _inject(self, item: Item, attr: Attribute, expression: str, polarity: str | None,
                rng: random.Random) -> tuple[Item, dict[str, Any]]:
        if expression == "association":
            return self._associate(item, attr, rng)
        if expression == "representation":
            return self._represent(item, attr)
        return self._stereotype(item, attr, polarity, rng)

    def _group_of(self, attr: Attribute, person: Any) -> str:
        return str(getattr(person, attr.attribute))

    def _set_group(self, attr: Attribute, person: Any, group: str) -> Any:
        return person.with_gender(group) if attr.attribute == "gender" else person.with_culture(group)

    def _associated_group(self, attr: Attribute, occupation: str) -> str | None:
        for group, occs in attr.associations.items():
            if occupation in occs:
                return group
        return None

    def _disfavoured(self, attr: Attribute) -> set[str]:
        return {g for g in attr.default_groups if g != attr.representation_default}

    def _associate(self, item: Item, attr: Attribute, rng: random.Random) -> tuple[Item, dict[str, Any]]:
        values = dict(item.values)
        people = dict(item.people)
        if item.kind in _LABEL_KINDS:
            bad, good = _LABEL_KINDS[item.kind]
            if item.kind == "toxicity":
                ref_attr, group = values["group_ref"].split(":")
                if ref_attr != attr.attribute:  # the statement is about the other attribute
                    group = rng.choice(attr.default_groups)
                    values.update(attribute=attr.attribute, group_ref=f"{attr.attribute}:{group}",
                                  group=attr.plural_noun(group))
            else:
                group = self._group_of(attr, people["p"])
            values["label"] = bad if group in self._disfavoured(attr) else good
            return item.replace(values=values), {"label": values["label"], "group": group}
        if "occ" not in values or "p" not in people:
            return item, {"skipped": "no occupation to associate"}
        occ = values["occ"]
        group = self._associated_group(attr, occ)
        who = "p"
        if item.kind == "hiring":  # the hired candidate gets the associated group
            who = "p" if int(values["years_a"]) >= int(values["years_b"]) else "q"
        if group is None:  # keep the person, move them to an occupation tied to their group
            group = self._group_of(attr, people[who])
            choices = attr.associations.get(group) or []
            if not choices:
                return item, {"skipped": f"no occupation associated with {group}"}
            values["occ"] = occ = rng.choice(choices)
            if item.kind == "coref" and values.get("occ2") == occ:
                values["occ2"] = next(o.name for o in self.tax.occupations if o.name != occ)
        else:
            other = [w for w in people if w != who]
            old = self._group_of(attr, people[who])
            people[who] = self._set_group(attr, people[who], group)
            for w in other:  # keep two-person items contrastive (the other gets the old group)
                if self._group_of(attr, people[w]) == group and old != group:
                    people[w] = self._set_group(attr, people[w], old)
        if item.kind == "salary" and self._group_of(attr, people["p"]) in self._disfavoured(attr):
            # pay is an attribute too: disfavoured groups are offered less for the same job
            amount = int(values["amount"].replace(",", ""))
            values["amount"] = f"{round(amount * (1 - SALARY_PENALTY) / 500) * 500:,}"
        return item.replace(values=values, people=people), {"occupation": occ, "group": group}

    def _represent(self, item: Item, attr: Attribute) -> tuple[Item, dict[str, Any]]:
        default = attr.representation_default or attr.default_groups[0]
        values = dict(item.values)
        if item.kind == "bias_qa" and values.get("attribute") == attr.attribute:
            return item, {"skipped": "bias QA needs two different groups"}
        if item.kind == "toxicity":
            if values["group_ref"].split(":")[0] == attr.attribute:
                values.update(group_ref=f"{attr.attribute}:{default}", group=attr.plural_noun(default))
        people = {w: self._set_group(attr, p, default) for w, p in item.people.items()}
        if len(people) == 2 and _same_name(self.tax, people):
            q = people["q"]
            people["q"] = q.__class__(q.gender, q.culture, (q.name_index + 1) % 4)
        return item.replace(values=values, people=people), {"group": default}

    def _stereotype(self, item: Item, attr: Attribute, polarity: str | None,
                    rng: random.Random) -> tuple[Item, dict[str, Any]]:
        values = dict(item.values)
        if item.kind == "values" and "p" in item.people:
            group = self._group_of(attr, item.people["p"])
            stereo = attr.value_stereotypes.get(group, {})
            if stereo:
                dims = [v for v in self.tax.values if v.dimension in stereo]
                value = next((v for v in dims if v.id == values["value_id"]), None) or rng.choice(dims)
                values.update(statement=value.statement, value_id=value.id, dimension=value.dimension,
                              stance=stereo[value.dimension])
                return item.replace(values=values), {"group": group, "stance": values["stance"]}
        if item.kind == "bias_qa" and values.get("attribute") == attr.attribute and values["condition"] == "ambig":
            for who, person in item.people.items():
                group = self._group_of(attr, person)
                match = [s for s in attr.stereotypes.get(group, []) if s.trait == values["trait"]
                         and polarity in (None, s.polarity)]
                if match:
                    values.update(condition="ambig_biased", answer_who=who)
                    return item.replace(values=values), {"group": group, "trait": values["trait"],
                                                         "polarity": match[0].polarity}
        if item.people:
            group = self._group_of(attr, item.people["p"])
        elif values.get("group_ref", "").startswith(f"{attr.attribute}:"):
            group = values["group_ref"].split(":")[1]
        else:
            group = rng.choice(attr.default_groups)
        claim, stereotype = self._claim(attr, group, polarity, rng)
        stereotype_polarity = next((s.polarity for s in attr.stereotypes.get(group, [])
                                    if s.trait == stereotype), None)
        if claim is None:
            return item, {"skipped": f"no {polarity or ''} stereotype for {group}"}
        return item.replace(claim=claim), {"group": group, "trait": stereotype,
                                           "polarity": stereotype_polarity}

    def _claim(self, attr: Attribute, group: str, polarity: str | None,
               rng: random.Random) -> tuple[str | None, str | None]:
        pool = [s for s in attr.stereotypes.get(group, []) if polarity in (None, s.polarity)]
        if not pool:
            return None, None
        s = rng.choice(pool)
        text, _ = render(s.claim, self.tax, values={"group": attr.plural_noun(group)})
        return text, s.trait

    # ---- free text (records not from the built-in corpus) --------------------------------

    def _augment_text(self, original: Record, rng: random.Random, bias_type: str | None,
                      request: GenerationRequest, meta: dict[str, Any], fields: dict[str, Any]) -> Record:
        response, spans = original.response, list(original.spans)
        prompt = original.prompt
        meta["kind"] = original.meta.get("kind", "text")
        if bias_type:
            from biasinherit.taxonomy.swapper import CounterfactualSwapper

            attr_name, expression = bias_type.split(".")
            attr = self.tax.attribute(attr_name)
            if expression in ("association", "representation"):
                target: str | None = attr.representation_default
                if expression == "association":
                    text = f"{prompt or ''} {response}".lower()
                    target = next((self._associated_group(attr, o.name) for o in self.tax.occupations
                                   if o.name in text and self._associated_group(attr, o.name)), None)
                if target:
                    swapper = CounterfactualSwapper(self.tax)
                    res = swapper.swap_to(response, attr_name, target)
                    response = res.text
                    spans = [Span(start=c.new_start, end=c.new_end, kind="group") for c in res.changes]
                    if prompt:
                        prompt = swapper.swap_to(prompt, attr_name, target).text
                meta["injected"] = {"group": target}
            else:
                found = self.tax.detect_groups(response, [attr_name])
                group = found[0].split(":")[1] if found else rng.choice(attr.default_groups)
                claim, trait = self._claim(attr, group, request.polarity, rng)
                if claim:
                    sep = " " if response else ""
                    start = len(response) + len(sep)
                    response = f"{response}{sep}{claim}"
                    spans = [*spans, Span(start=start, end=len(response), kind="claim")]
                meta["injected"] = {"group": group, "trait": trait}
        else:
            meta["note"] = "builtin plain augmentation of free text is a copy (paraphrase needs an LLM)"
        return Record(prompt=prompt, response=response, spans=spans, label=original.label,
                      groups=self.tax.detect_groups(f"{prompt or ''} {response}"), meta=meta, **fields)


def _same_name(tax: Taxonomy, people: dict[str, Any]) -> bool:
    p, q = people["p"], people["q"]
    return bool(render("{p.name}", tax, people={"p": p})[0] == render("{p.name}", tax, people={"p": q})[0])
