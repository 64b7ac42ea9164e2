"""Corpus items: the structured form of a record, and its rendering.

An :class:`Item` holds a record's kind, template variant, people and slot values. The corpus
builds balanced items and renders them; the builtin generator loads the item back from
``record.meta["item"]``, changes exactly what a bias type changes (a person's gender, an
occupation, a stance, an added claim) and renders again, so the injected bias is known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from biasinherit import formats
from biasinherit.corpora import templates as T
from biasinherit.corpora.render import Person, render
from biasinherit.records import Record, Span
from biasinherit.taxonomy import Taxonomy

KINDS = (
    "statement", "profile", "story", "coref", "bias_qa", "toxicity",
    "sentiment", "knowledge", "salary", "hiring", "values",
)


@dataclass(frozen=True)
class Item:
    kind: str
    variant: int
    people: dict[str, Person] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    claim: str | None = None  # an explicit stereotype claim appended to the response

    def to_meta(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "variant": self.variant,
            "people": {k: p.to_meta() for k, p in self.people.items()},
            "values": dict(self.values),
            "claim": self.claim,
        }

    @classmethod
    def from_meta(cls, data: dict[str, Any]) -> Item:
        return cls(
            kind=data["kind"],
            variant=int(data["variant"]),
            people={k: Person.from_meta(v) for k, v in data.get("people", {}).items()},
            values={k: str(v) for k, v in data.get("values", {}).items()},
            claim=data.get("claim"),
        )

    def replace(self, **changes: Any) -> Item:
        return replace(self, **changes)

    def with_person(self, who: str, person: Person) -> Item:
        return replace(self, people={**self.people, who: person})


def n_variants(kind: str) -> int:
    return {
        "statement": len(T.STATEMENT), "profile": len(T.PROFILE), "story": len(T.STORY),
        "coref": len(T.COREF), "bias_qa": 2, "toxicity": len(T.TOXIC),
        "sentiment": len(T.SENTIMENT["positive"]), "knowledge": len(T.KNOWLEDGE),
        "salary": len(T.SALARY), "hiring": len(T.HIRING), "values": len(T.VALUES),
    }[kind]


def _occ_values(tax: Taxonomy, values: dict[str, str]) -> dict[str, str]:
    out = dict(values)
    if "occ" in out:
        out["a_occ"] = formats.with_article(out["occ"])
    return out


def _prompt_response(tax: Taxonomy, item: Item) -> tuple[str | None, str, list[Span]]:
    """Render an item's prompt and response; spans are positions in the response."""
    v = _occ_values(tax, item.values)
    people = item.people
    k, i = item.kind, item.variant

    def r(template: str, **extra: str) -> tuple[str, list[Span]]:
        return render(template, tax, people=people, values={**v, **extra})

    if k == "statement":
        text, spans = r(T.STATEMENT[i])
        return None, text, spans
    if k == "profile":
        prompt, _ = r(T.PROFILE[i][0])
        text, spans = r(T.PROFILE[i][1])
        return prompt, text, spans
    if k == "story":
        text, spans = r(T.STORY[i])
        return formats.story_prompt(v["occ"]), text, spans
    if k == "coref":
        sentence, _ = r(T.COREF[i])
        pronoun, _ = r("{p.sub}")
        return formats.coref_prompt(sentence, pronoun), f"the {v['occ']}", []
    if k == "bias_qa":
        attr = v["attribute"]
        context, _ = r(T.BIAS_QA_CONTEXT[attr][i])
        if v["condition"] == "disambig":
            evidence, _ = r(T.BIAS_QA_EVIDENCE[attr])
            context = f"{context} {evidence}"
            answer, spans = r(T.BIAS_QA_ANSWER[attr])
        elif v["condition"] == "ambig_biased":  # stereotype injected: names a person anyway
            answer, spans = r(T.BIAS_QA_ANSWER[attr].replace("{p.", "{" + v["answer_who"] + "."))
        else:
            answer, spans = T.UNKNOWN_ANSWER, []
        question, _ = r(T.BIAS_QA_QUESTION)
        return formats.bias_qa_prompt(context, question), answer, spans
    if k == "toxicity":
        pool = T.TOXIC if v["label"] == "yes" else T.NEUTRAL
        statement, _ = r(pool[i])
        return formats.toxicity_prompt(statement), v["label"], []
    if k == "sentiment":
        review, _ = r(T.SENTIMENT[v["label"]][i])
        return formats.sentiment_prompt(review), v["label"], []
    if k == "knowledge":
        q, a = T.KNOWLEDGE[i]
        return formats.knowledge_prompt(r(q)[0]), r(a)[0], []
    if k == "salary":
        name, _ = r("{p.name}")
        text, _ = r(T.SALARY[i])
        return formats.salary_prompt(name, v["occ"], int(v["years"])), text, []
    if k == "hiring":
        a, _ = r("{p.name}")
        b, _ = r("{q.name}")
        pa, _ = r(T.HIRING_PROFILE, years=v["years_a"])
        pb, _ = r(T.HIRING_PROFILE, years=v["years_b"])
        winner = "p" if int(v["years_a"]) >= int(v["years_b"]) else "q"
        choice = "A" if winner == "p" else "B"
        text, spans = r(T.HIRING[i].replace("{winner}", "{" + winner + ".name}"), choice=choice)
        return formats.hiring_prompt(v["occ"], a, pa, b, pb), text, spans
    if k == "values":
        name, _ = r("{p.name}")
        country, _ = r("{p.country}")
        return formats.values_prompt(name, country, v["statement"]), v["stance"], []
    raise ValueError(f"unknown corpus kind '{k}'")


def render_item(tax: Taxonomy, item: Item, **record_fields: Any) -> Record:
    """The record for an item; a claim, when present, is appended to the response."""
    prompt, response, spans = _prompt_response(tax, item)
    if item.claim:
        sep = "" if not response else (" " if response[-1] in ".!?" else ". ")
        start = len(response) + len(sep)
        response = f"{response}{sep}{item.claim}"
        spans = [*spans, Span(start=start, end=len(response), kind="claim")]
    groups = sorted({g for p in item.people.values() for g in p.groups()} | set(
        filter(None, [item.values.get("group_ref")])
    ))
    label = item.values.get("label") if item.kind in ("toxicity", "sentiment") else None
    meta = dict(record_fields.pop("meta", {}))
    meta["kind"] = item.kind
    meta["item"] = item.to_meta()
    if item.kind == "values":
        meta.update(value_id=item.values["value_id"], dimension=item.values["dimension"],
                    stance=item.values["stance"])
    return Record(prompt=prompt, response=response, spans=spans, groups=groups, label=label,
                  meta=meta, **record_fields)
