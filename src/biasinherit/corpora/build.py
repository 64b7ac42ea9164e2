"""Build the built-in original corpus: seeded, counterbalanced by construction.

Every item is written as a counterfactual pair: the same template, occupation, trait, stance
and label once for each gender, so each gender appears exactly as often with each occupation,
trait, value stance and label. Cultures cycle over occupations in a Latin-square order (each
culture meets each occupation once per 500 occupation items) and alternate within the
culture-focused kinds (values, toxicity, bias QA). Same config, byte-identical output.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from biasinherit.corpora.items import KINDS, Item, n_variants, render_item
from biasinherit.corpora.render import Person
from biasinherit.errors import BiasInheritError
from biasinherit.limits import MAX_CORPUS_SIZE
from biasinherit.records import Record
from biasinherit.taxonomy import Taxonomy, load_taxonomy

# share of the corpus per kind (sums to 1)
KIND_SHARES: dict[str, float] = {
    "statement": 0.15, "profile": 0.12, "story": 0.12, "coref": 0.12, "bias_qa": 0.08,
    "toxicity": 0.08, "sentiment": 0.08, "knowledge": 0.05, "salary": 0.06, "hiring": 0.06,
    "values": 0.08,
}
# base yearly salary in US dollars by occupation domain (identical for every group)
_DOMAIN_BASE = {
    "office": 42000, "health": 68000, "service": 34000, "care": 36000, "education": 52000,
    "law": 70000, "transport": 55000, "retail": 32000, "food": 36000, "finance": 72000,
    "media": 56000, "business": 85000, "engineering": 82000, "agriculture": 45000,
    "public safety": 58000, "technology": 95000, "construction": 48000,
}


# the only kind that mentions nobody: it takes the odd record of an odd size
UNPAIRED_KIND = "knowledge"


class CorpusConfig(BaseModel):
    """Options of the built-in corpus."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size: int = Field(default=2000, description=f"number of records (1 to {MAX_CORPUS_SIZE:,})")
    seed: int = Field(default=0, description="random seed (same seed, identical output)")


def kind_counts(size: int) -> dict[str, int]:
    """Exact records per kind, summing to ``size``, every kind that mentions people even.

    Counterfactual pairs (an item and its gender flip) are shared out over the kinds by largest
    remainder, so every gender appears equally often at every size; an odd size adds one
    arithmetic question, which mentions nobody.
    """
    pairs = size // 2
    raw = {k: KIND_SHARES[k] * pairs for k in KINDS}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (counts[k] - raw[k], KINDS.index(k)))[: pairs - sum(counts.values())]:
        counts[k] += 1
    counts = {k: 2 * c for k, c in counts.items()}
    counts[UNPAIRED_KIND] += size % 2
    return counts


class _Builder:
    def __init__(self, tax: Taxonomy, seed: int) -> None:
        self.tax = tax
        self.rng = random.Random(f"corpus:{seed}")
        self.occupations = [o.name for o in tax.occupations]
        self.cultures = tax.attribute("culture").default_groups
        self.genders = tax.attribute("gender").default_groups  # female, male
        self.occ_counter = 0
        self.all_traits = [t.trait for t in tax.traits]

    def next_occupation(self) -> tuple[str, str]:
        k = self.occ_counter
        self.occ_counter += 1
        n_occ = len(self.occupations)
        o = k % n_occ
        return self.occupations[o], self.cultures[(o + k // n_occ) % len(self.cultures)]

    def pair(self, item: Item) -> Iterator[Item]:
        """The item, then its gender counterfactual (every person's gender flipped)."""
        yield item
        flip = dict(zip(self.genders, reversed(self.genders)))
        yield item.replace(people={w: p.with_gender(flip[p.gender]) for w, p in item.people.items()})

    def items(self, kind: str, count: int) -> list[Item]:
        out: list[Item] = []
        j = 0
        while len(out) < count:
            if kind == "knowledge":
                out.append(self.knowledge(j))
            else:
                out.extend(self.pair(self.make(kind, j)))
            j += 1
        return out[:count]

    def person(self, gender: str, culture: str) -> Person:
        return Person(gender=gender, culture=culture, name_index=self.rng.randrange(4))

    def make(self, kind: str, j: int) -> Item:
        rng = self.rng
        variant = j % n_variants(kind)
        female = self.genders[0]
        if kind in ("statement", "profile", "story", "coref", "sentiment", "salary"):
            occ, culture = self.next_occupation()
            values = {"occ": occ, "years": str(rng.randint(1, 25))}
            if kind == "profile":
                values["trait"] = self.all_traits[j % len(self.all_traits)]
            if kind == "coref":
                others = [o for o in self.occupations if o != occ]
                values["occ2"] = others[(j * 17 + 5) % len(others)]
            if kind == "sentiment":
                values["label"] = ("positive", "negative")[(j // n_variants(kind)) % 2]
            if kind == "salary":
                domain = self.tax.occupation(occ).domain
                amount = _DOMAIN_BASE.get(domain, 50000) + 1500 * int(values["years"])
                values["amount"] = f"{amount:,}"
            return Item(kind, variant, {"p": self.person(female, culture)}, values)
        if kind == "hiring":
            occ, culture = self.next_occupation()
            ya, yb = rng.sample(range(1, 21), 2)
            other = self.cultures[(self.cultures.index(culture) + 1) % len(self.cultures)]
            people = {"p": self.person(female, culture), "q": self.person(self.genders[1], other)}
            return Item(kind, variant, people, {"occ": occ, "years_a": str(ya), "years_b": str(yb)})
        if kind == "values":
            culture = self.cultures[(j // 2) % len(self.cultures)]
            stance = self.tax.stances[j % 2]
            value = self.tax.values[(j // (2 * len(self.cultures))) % len(self.tax.values)]
            return Item(kind, variant, {"p": self.person(female, culture)}, {
                "statement": value.statement, "stance": stance, "value_id": value.id,
                "dimension": value.dimension,
            })
        if kind == "bias_qa":
            attr = ("gender", "culture")[j % 2]
            condition = ("ambig", "disambig")[(j // 2) % 2]
            traits = [s.trait for ss in self.tax.attribute(attr).stereotypes.values() for s in ss]
            trait = traits[(j // 4) % len(traits)]
            c1 = self.cultures[(j // 2) % len(self.cultures)]
            if attr == "gender":
                people = {"p": self.person(female, c1), "q": self.person(self.genders[1], c1)}
            else:
                c2 = self.cultures[((j // 2) + 1 + (j // 20)) % len(self.cultures)]
                if c2 == c1:
                    c2 = self.cultures[(self.cultures.index(c1) + 1) % len(self.cultures)]
                people = {"p": self.person(female, c1), "q": self.person(female, c2)}
            return Item(kind, variant, people, {"attribute": attr, "condition": condition, "trait": trait})
        if kind == "toxicity":
            label = ("yes", "no")[j % 2]
            attr = ("gender", "culture")[(j // 2) % 2]
            return self._group_statement(kind, variant, label, attr, j)
        raise ValueError(kind)

    def _group_statement(self, kind: str, variant: int, label: str, attr: str, j: int) -> Item:
        # Toxicity statements are about a group as a whole; the pair is over that group
        # (gender: female then male; culture: the culture then its partner) via group_ref.
        if attr == "gender":
            group = self.genders[0]
        else:
            group = self.cultures[(j // 4) % len(self.cultures)]
        a = self.tax.attribute(attr)
        return Item(kind, variant, {}, {
            "label": label, "attribute": attr, "group_ref": f"{attr}:{group}",
            "group": a.plural_noun(group),
        })

    def knowledge(self, j: int) -> Item:
        a, b = self.rng.sample(range(1, 41), 2)
        return Item("knowledge", j % n_variants("knowledge"), {}, {
            "a": str(a), "b": str(b), "sum": str(a + b), "larger": str(max(a, b)),
        })


def _pair_group_items(builder: _Builder, items: list[Item]) -> list[Item]:
    """For group-statement items the gender flip above changes nobody: flip group_ref instead."""
    out = []
    for i, item in enumerate(items):
        if item.kind == "toxicity" and i % 2 == 1:
            attr = item.values["attribute"]
            a = builder.tax.attribute(attr)
            group = item.values["group_ref"].split(":")[1]
            groups = a.default_groups
            partner = groups[(groups.index(group) + (1 if attr == "gender" else len(groups) // 2)) % len(groups)]
            item = item.replace(values={**item.values, "group_ref": f"{attr}:{partner}",
                                        "group": a.plural_noun(partner)})
        out.append(item)
    return out


def build_corpus(config: CorpusConfig | None = None, taxonomy: Taxonomy | None = None) -> list[Record]:
    """The built-in original corpus as records (``source="original"``), shuffled by seed."""
    config = config or CorpusConfig()
    if not 1 <= config.size <= MAX_CORPUS_SIZE:
        raise BiasInheritError(f"size must be between 1 and {MAX_CORPUS_SIZE:,}, got {config.size}", field="size")
    tax = taxonomy or load_taxonomy()
    builder = _Builder(tax, config.seed)
    items: list[Item] = []
    for kind, count in kind_counts(config.size).items():
        kind_items = builder.items(kind, count)
        items.extend(_pair_group_items(builder, kind_items) if kind == "toxicity" else kind_items)
    random.Random(f"corpus-order:{config.seed}").shuffle(items)
    return [
        render_item(tax, item, id=f"c{config.seed}-{i:06d}", source="original",
                    meta={"corpus": {"seed": config.seed, "size": config.size}})
        for i, item in enumerate(items)
    ]
